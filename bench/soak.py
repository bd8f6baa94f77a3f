"""Soak: the tests that race real processes or explore histories, with many times CI's count.

Run: python3 -m bench soak. Each test reads STRONGROOM_SOAK and scales its counts by it; a soak
run is the same assertions, more chances to lose an edit:

- tests/test_concurrent_writes.py, tests/test_merge_props.py: ×5 (STRONGROOM_SOAK overrides),
  e.g. 50 concurrent pairs of CLI edits on one home instead of 10;
- tests/test_three_devices.py: ×10, the three-device state machine (edits, deletes, concurrent
  CLI writers, stale-base saves, restores, clones) through a folder, a server on SQLite and on
  PostgreSQL (when it answers), and Wi-Fi on loopback: ten times CI's examples.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = [
    ("tests/test_concurrent_writes.py", None),
    ("tests/test_merge_props.py", None),
    ("tests/test_three_devices.py", "10"),
]


def run() -> None:
    default = os.environ.get("STRONGROOM_SOAK", "5")
    for test, fixed in TESTS:
        scale = fixed or default
        env = os.environ | {"STRONGROOM_SOAK": scale}
        start = time.perf_counter()
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-q",
                "-s",
                "--durations=0",
                test,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        took = time.perf_counter() - start
        verdict = "passed" if r.returncode == 0 else f"FAILED ({r.returncode})"
        print(f"{test} ×{scale}: {verdict} in {took:.1f} s", flush=True)
        for line in r.stdout.splitlines():
            if " call " in line or line.startswith("[") or "FAILED" in line:
                print(f"    {line.strip()}", flush=True)
        if r.returncode != 0:
            print(r.stdout[-4000:], flush=True)
            raise SystemExit(f"{test} failed under soak")
