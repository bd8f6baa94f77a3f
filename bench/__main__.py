"""Run benchmarks: `python3 -m bench` (all) or `python3 -m bench core tui …`; `--quick` where supported."""

from __future__ import annotations

import importlib
import os
import sys
import traceback

from bench.common import KDF_SWITCH

SUITES = [
    "core",
    "agent",
    "power",
    "tui",
    "sync",
    "watch",
    "folder",
    "server",
    "wifi",
    "imports",
    "import_screen",
    "peers",
    "soak",
    "history",
    "attach",
    "import_scale",
    "devices",
]


def main(argv: list[str]) -> int:
    values = {
        argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("--markdown", "--install")
    }  # not suites
    names = [
        a for a in argv if not a.startswith("-") and not a.isdigit() and a not in values
    ] or SUITES
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}")
        return 2
    switch_before = os.environ.get(KDF_SWITCH)
    failed = []
    for name in names:
        print(f"== {name} ==", flush=True)
        try:
            importlib.import_module(f"bench.{name}").run()
        except (Exception, SystemExit) as exc:  # one broken suite must not hide the others' figures
            if not isinstance(exc, SystemExit):
                traceback.print_exc()
            print(f"[{name}] failed: {exc}", flush=True)
            failed.append(name)
        if os.environ.get(KDF_SWITCH) != switch_before:  # it would spoil every suite after it
            print(f"[{name}] left {KDF_SWITCH} changed", flush=True)
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
