"""Issue 9 numbers: `strongroom get` through the unlock agent on a 10,000-record vault.

Whole-process wall time is what a user waits for, but on a shared machine it mostly measures the
load; the client's CPU time (user + sys of the `strongroom` process, from wait4) is printed next
to it as the load-robust figure, with the bare interpreter's for scale. The installed console
script is used as a user has it (its shebang names the real interpreter, not a pyenv shim).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import report
from bench.core import PASSWORD, RECORDS, _cli, build_vault

RUNS = 30


def _run(cmd: list[str], env: dict[str, str], expect: bytes | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one process run."""
    t0 = time.perf_counter()
    p = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert p.stdout is not None and p.stderr is not None
    out, err = p.stdout.read(), p.stderr.read()  # a few bytes each: no pipe can fill up
    _, status, usage = os.wait4(p.pid, 0)  # reaped here, with its resource usage
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stdout.close()
    p.stderr.close()
    if expect is not None:
        assert out == expect, err
    return wall, usage.ru_utime + usage.ru_stime


def _measure(
    label: str,
    cmd: list[str],
    env: dict[str, str],
    expect: bytes | None = None,
    budget_ms: float | None = None,
) -> None:
    walls, cpus = [], []
    for _ in range(RUNS):
        wall, cpu = _run(cmd, env, expect)
        walls.append(wall)
        cpus.append(cpu)
    report(label, walls, budget_ms)
    print(
        f"{'    client CPU (user+sys)':<58} median {statistics.median(cpus) * 1000:8.1f} ms   "
        f"min {min(cpus) * 1000:8.1f} ms",
        flush=True,
    )


def run() -> None:
    from bench.common import ensure_bytecode, refuse_insecure_test_kdf

    refuse_insecure_test_kdf()
    ensure_bytecode()
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; console script {_cli()[0]}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        build_vault(home, RECORDS)
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
        env["STRONGROOM_HOME"] = str(home)
        subprocess.run(
            [*_cli(), "unlock", "--timeout", "10m"],
            env=env | {"STRONGROOM_PASSWORD": PASSWORD},
            check=True,
            capture_output=True,
        )
        try:
            get = [*_cli(), "get", "Record 05000", "--field", "password"]
            _measure(
                "strongroom get via agent (10,000 records), whole process",
                get,
                env,
                b"pw-5000-secret\n",
                50,
            )
            # The same agent reached through the default home (no STRONGROOM_HOME), as most users run it:
            # a user folder whose platform data dir links to the bench home (the socket name follows the link).
            user = Path(tmp) / "user"
            (user / ".local" / "share").mkdir(parents=True)
            (user / ".local" / "share" / "strongroom").symlink_to(home)
            default_env = {
                k: v for k, v in env.items() if k not in ("STRONGROOM_HOME", "XDG_DATA_HOME")
            }
            default_env["HOME"] = str(user)
            if sys.platform.startswith("linux"):
                _measure(
                    "  same, default home (no STRONGROOM_HOME)",
                    get,
                    default_env,
                    b"pw-5000-secret\n",
                    50,
                )
            bare = [sys.executable, "-c", "pass"]
            _measure("  for scale: python3 -c pass (interpreter + site)", bare, env)
            nosite = [sys.executable, "-S", "-c", "pass"]
            _measure("  for scale: python3 -S -c pass (no site-packages)", nosite, env)
        finally:
            subprocess.run([*_cli(), "lock"], env=env, capture_output=True)
