"""Soak: the tests that race real processes, run with many times CI's count.

Run: python3 -m bench soak  (STRONGROOM_SOAK=5 by default: 50 concurrent pairs of CLI edits on
one home instead of 10). The tests read STRONGROOM_SOAK and scale their counts by it; a soak
run is the same assertions, more chances to lose an edit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ["tests/test_concurrent_writes.py", "tests/test_merge_props.py"]


def run() -> None:
    scale = os.environ.get("STRONGROOM_SOAK", "5")
    env = os.environ | {"STRONGROOM_SOAK": scale}
    for test in TESTS:
        start = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", test],
            cwd=ROOT,
            env=env,
        )
        took = time.perf_counter() - start
        verdict = "passed" if r.returncode == 0 else f"FAILED ({r.returncode})"
        print(f"{test} ×{scale}: {verdict} in {took:.1f} s", flush=True)
