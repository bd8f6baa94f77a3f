"""Issue 2 numbers, with the production KDF: `get` on 10,000 records, one save, CLI start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import report, timed

RECORDS = 10_000
PASSWORD = "bench password 1"


def _cli() -> list[str]:
    """The installed console script next to this interpreter (not a version-manager shim)."""
    beside = Path(sys.executable).with_name("strongroom")
    if beside.exists():
        return [str(beside)]
    exe = shutil.which("strongroom")
    return [exe] if exe else [sys.executable, "-m", "cli"]


def build_vault(home: Path, n: int) -> None:
    """A vault of n login records, written in one transaction (setup, not measured)."""
    from vault import kdf
    from vault.merge import next_version
    from vault.records import new_record
    from vault.vault import Vault

    vault = Vault.create(home, "bench@example.com", PASSWORD, params=kdf.PRODUCTION)
    envs = []
    for i in range(n):
        rec = new_record(
            "login",
            f"Record {i:05d}",
            {
                "username": f"user{i}",
                "password": f"pw-{i}-secret",
                "url": f"https://site{i}.example",
            },
            tags=("bench",),
        )
        vv, hlc = next_version([], vault.device)
        envs.append(vault.cipher.seal(rec, rec.id, vv, hlc, vault.device))
    vault.apply(envs)
    vault.summaries()  # write the summary index once, as the first unlock would
    vault.close()


_COLD_KDF = """
import os, time
from vault import kdf
salt = os.urandom(16)
t0 = time.perf_counter()
kdf.derive_password_key("bench password 1", salt, kdf.PRODUCTION)
print(time.perf_counter() - t0)
"""


def cold_kdf_seconds() -> float:
    """The KDF alone, timed inside a fresh interpreter: a new process pays for faulting in 64 MiB
    of fresh memory, which a warm in-process loop does not, and `get` is always a new process."""
    out = subprocess.run(
        [sys.executable, "-c", _COLD_KDF], check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip())


def run() -> None:
    from bench.common import ensure_bytecode, refuse_insecure_test_kdf
    from vault import kdf

    refuse_insecure_test_kdf()
    ensure_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        build_vault(home, RECORDS)
        salt = os.urandom(16)
        warm_kdf = timed(lambda: kdf.derive_password_key(PASSWORD, salt, kdf.PRODUCTION), 5)
        report("Argon2id production (64 MiB, t=3, p=4), warm in this process", warm_kdf)
        kdf_times = [cold_kdf_seconds() for _ in range(5)]
        report("Argon2id production, cold in a new process (as `get` pays it)", kdf_times)

        env = dict(os.environ, STRONGROOM_HOME=str(home), STRONGROOM_PASSWORD=PASSWORD)

        def get() -> None:
            subprocess.run(
                [*_cli(), "get", "Record 05000", "--field", "password"],
                env=env,
                check=True,
                capture_output=True,
            )

        get_times = timed(get, 5)
        report("strongroom get (10,000 records), whole process", get_times)
        import statistics

        extra = (statistics.median(get_times) - statistics.median(kdf_times)) * 1000
        print(
            f"{'  … of which beyond the KDF':<58} median {extra:8.1f} ms   (budget 100 ms)"
            f"{'  OK' if extra <= 100 else '  OVER'}",
            flush=True,
        )

        from vault.records import new_record
        from vault.vault import Vault

        vault = Vault.open(home)
        vault.unlock(PASSWORD)
        vault.summaries()
        counter = iter(range(10**6))
        save = timed(
            lambda: vault.add(new_record("login", f"New {next(counter)}", {"password": "x-y-z"})),
            50,
        )
        report("save one record into 10,000 (vault.add)", save, 20)
        vault.close()

        help_times = timed(
            lambda: subprocess.run([*_cli(), "--help"], check=True, capture_output=True), 10
        )
        report("strongroom --help (CLI start)", help_times, 150)
