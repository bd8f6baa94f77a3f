"""Run benchmarks: `python3 -m bench` (all) or `python3 -m bench core tui …`; `--quick` where supported."""

from __future__ import annotations

import importlib
import sys

SUITES = [
    "core",
    "agent",
    "tui",
    "sync",
    "server",
    "wifi",
    "imports",
    "import_screen",
    "peers",
    "soak",
]


def main(argv: list[str]) -> int:
    values = {
        argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("--markdown", "--install")
    }  # not suites
    names = [
        a for a in argv if not a.startswith("-") and not a.isdigit() and a not in values
    ] or SUITES
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                print(f"[{name}] not built yet")
                continue
            raise
        print(f"== {name} ==", flush=True)
        module.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
