"""Issue 22 numbers: a record with 20 history versions, listed and got, against today's `get` of
a record without history, in a vault of 10,000 records (production KDF, whole processes too)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.common import report, timed
from bench.core import PASSWORD, RECORDS, build_vault

VERSIONS = 20


def run() -> None:
    from bench.common import ensure_bytecode, refuse_insecure_test_kdf
    from vault.records import Record, new_record
    from vault.vault import Vault

    refuse_insecure_test_kdf()
    ensure_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        build_vault(home, RECORDS)
        vault = Vault.open(home)
        vault.unlock(PASSWORD)
        rec = vault.add(new_record("login", "History 20", {"username": "u", "password": "p-0"}))
        for n in range(1, VERSIONS + 1):

            def change(r: Record, n: int = n) -> Record:
                pw = replace(r.fields[1], value=f"p-{n}")
                return replace(r, fields=(r.fields[0], pw), notes=f"{n}")

            vault.edit(rec.id, change)
        plain = vault.find("Record 05000")
        kept = len(vault.record(rec.id).versions)
        size = len(vault.store.versions(rec.id)[0].ciphertext)
        print(f"record with history: {kept} previous versions, envelope body {size} bytes")
        report(
            "in process: find + get, a record without history",
            timed(lambda: vault.detail(vault.find("Record 05000")), 200),
        )
        report(
            f"in process: find + get, a record with {kept} versions",
            timed(lambda: vault.detail(vault.find("History 20")), 200),
        )
        report(
            f"in process: find + history listing ({kept + 1} versions)",
            timed(lambda: vault.history(vault.find("History 20")), 200),
        )
        assert plain
        vault.close()
        env = dict(os.environ, STRONGROOM_HOME=str(home), STRONGROOM_PASSWORD=PASSWORD)

        def cli(*args: str) -> None:
            # this checkout's code (the console script may point at another install)
            subprocess.run(
                [sys.executable, "-m", "cli", *args],
                env=env,
                check=True,
                capture_output=True,
                cwd=Path(__file__).resolve().parent.parent,
            )

        report(
            "strongroom get (no history), whole process",
            timed(lambda: cli("get", "Record 05000"), 5),
        )
        report(
            f"strongroom get ({kept} versions), whole process",
            timed(lambda: cli("get", "History 20"), 5),
        )
        report(
            f"strongroom history ({kept + 1} versions), whole process",
            timed(lambda: cli("history", "History 20"), 5),
        )
