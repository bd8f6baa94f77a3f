"""`json.loads` for bytes that come from outside (files, folders, peers, servers).

json raises RecursionError for nesting deeper than the interpreter's stack (about 1,000 levels:
two kilobytes of '['), which no caller expects as "malformed": a crafted backup header was exit
70. Here it is a ValueError, like any other text that is not the JSON asked for.
"""

from __future__ import annotations

import json
from typing import Any


def loads(raw: str | bytes | bytearray) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
