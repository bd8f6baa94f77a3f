"""Issue 23 numbers: `strongroom read REF` against `get` through the unlock agent at 10,000
records, and an SSH signature through `strongroom ssh-agent` (ssh-keygen -Y sign) against
ssh-keygen signing with a key file of its own (its own start and work, no agent)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.agent import _measure
from bench.common import report
from bench.core import PASSWORD, RECORDS, _cli, build_vault

RUNS = 30


def _sign_times(cmd: list[str], env: dict[str, str], message: bytes) -> list[float]:
    import time

    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, env=env, input=message, capture_output=True)
        times.append(time.perf_counter() - t0)
        assert done.returncode == 0 and b"BEGIN SSH SIGNATURE" in done.stdout, done.stderr
    return times


def run() -> None:
    from bench.common import ensure_bytecode, refuse_insecure_test_kdf

    refuse_insecure_test_kdf()
    ensure_bytecode()
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; console script {_cli()[0]}"
    )
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        home = Path(tmp) / "home"
        build_vault(home, RECORDS)
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
        env["STRONGROOM_HOME"] = str(home)
        env.pop("SSH_AUTH_SOCK", None)
        subprocess.run(
            [*_cli(), "unlock", "--timeout", "10m"],
            env=env | {"STRONGROOM_PASSWORD": PASSWORD},
            check=True,
            capture_output=True,
        )
        agent_pid = None
        try:
            expect = b"pw-5000-secret\n"
            _measure(
                "get 'Record 05000' --field password via agent (10,000)",
                [*_cli(), "get", "Record 05000", "--field", "password"],
                env,
                expect,
                50,
            )
            _measure(
                "read sr://Record 05000/password via agent (10,000)",
                [*_cli(), "read", "sr://Record 05000/password"],
                env,
                expect,
                50,
            )
            if shutil.which("ssh-keygen") is None:
                print("ssh-keygen not installed: SSH signing not measured")
                return
            subprocess.run(
                [*_cli(), "add", "ssh-key", "--title", "Bench key", "--generate"],
                env=env,
                check=True,
                capture_output=True,
            )
            lines = subprocess.run(
                [*_cli(), "ssh-agent"], env=env, check=True, capture_output=True, text=True
            ).stdout
            ssh_env = dict(
                part.split("=", 1) for part in lines.replace("\n", " ").split("; ") if "=" in part
            )
            agent_pid = int(ssh_env["SSH_AGENT_PID"])
            pub = Path(tmp) / "bench.pub"
            pub.write_text(
                subprocess.run(
                    [*_cli(), "get", "Bench key", "--field", "public-key"],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            own = Path(tmp) / "own_key"
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(own)], check=True
            )
            message = b"a commit to sign\n" * 20
            sign = ["ssh-keygen", "-Y", "sign", "-n", "git", "-f"]
            through = _sign_times([*sign, str(pub)], env | ssh_env, message)
            alone = _sign_times([*sign, str(own)], {**env}, message)
            report("ssh-keygen -Y sign through strongroom ssh-agent (10,000)", through)
            report("ssh-keygen -Y sign with its own key file (no agent)", alone)
            import statistics

            extra = (statistics.median(through) - statistics.median(alone)) * 1000
            verdict = "OK" if extra <= 50 else "OVER budget 50 ms"
            print(
                f"{'  the agent round trip adds (median difference)':<58} {extra:8.1f} ms   {verdict}"
            )
        finally:
            if agent_pid is not None:
                os.kill(agent_pid, 15)
            subprocess.run([*_cli(), "lock"], env=env, capture_output=True)


if __name__ == "__main__":
    run()
    sys.exit(0)
