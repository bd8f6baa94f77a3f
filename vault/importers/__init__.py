"""Import from other password managers' exports (and our own strongroom-json).

`read_file(format, path)` parses everything first (pure, no vault needed): a malformed file
raises FormatError and nothing else happens. `import_report(vault, report)` then adds every
new record in one store transaction, skipping duplicates (see `common.fingerprint`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .apply import ImportResult, import_report
    from .common import ImportReport, Problem, fingerprint
    from .registry import FORMATS, LABELS, read_file, read_stream

#: Loaded on first use: `export` needs only the strongroom-json writer beside these readers, and
#: the registry pulls in every reader (XML, zip, …), ~8 ms of every export's start.
_HOME = {
    "ImportResult": ".apply",
    "import_report": ".apply",
    "ImportReport": ".common",
    "Problem": ".common",
    "fingerprint": ".common",
    "FORMATS": ".registry",
    "LABELS": ".registry",
    "read_file": ".registry",
    "read_stream": ".registry",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "FORMATS",
    "LABELS",
    "ImportReport",
    "ImportResult",
    "Problem",
    "fingerprint",
    "import_report",
    "read_file",
    "read_stream",
]
