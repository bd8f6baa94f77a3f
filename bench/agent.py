"""Issue 9 numbers: `strongroom get` through the unlock agent on a 10,000-record vault."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import report, timed
from bench.core import PASSWORD, RECORDS, _cli, build_vault


def run() -> None:
    if os.environ.get("STRONGROOM_INSECURE_TEST_KDF"):
        raise SystemExit("unset STRONGROOM_INSECURE_TEST_KDF: benchmarks use the production KDF")
    from bench.common import ensure_bytecode

    ensure_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        build_vault(home, RECORDS)
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
        env["STRONGROOM_HOME"] = str(home)
        subprocess.run([*_cli(), "unlock", "--timeout", "10m"], env=env | {"STRONGROOM_PASSWORD": PASSWORD},
                       check=True, capture_output=True)
        try:
            def get() -> None:
                r = subprocess.run([*_cli(), "get", "Record 05000", "--field", "password"], env=env,
                                   capture_output=True, stdin=subprocess.DEVNULL)
                assert r.stdout == b"pw-5000-secret\n", r.stderr

            report("strongroom get via agent (10,000 records), whole process", timed(get, 30), 50)
            bare = [sys.executable, "-c", "pass"]
            report("  for scale: python3 -c pass (interpreter start)", timed(lambda: subprocess.run(bare), 30))
            nosite = [sys.executable, "-S", "-c", "pass"]
            report("  for scale: python3 -S -c pass (no site-packages)", timed(lambda: subprocess.run(nosite), 30))
        finally:
            subprocess.run([*_cli(), "lock"], env=env, capture_output=True)
