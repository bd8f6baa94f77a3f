"""Import from other password managers' exports (and our own strongroom-json).

`read_file(format, path)` parses everything first (pure, no vault needed): a malformed file
raises FormatError and nothing else happens. `import_report(vault, report)` then adds every
new record in one store transaction, skipping duplicates (see `common.fingerprint`).
"""

from __future__ import annotations

from .apply import ImportResult, import_report
from .common import ImportReport, Problem, fingerprint
from .registry import FORMATS, read_file, read_stream

__all__ = ["FORMATS", "ImportReport", "ImportResult", "Problem", "fingerprint", "import_report", "read_file",
           "read_stream"]
