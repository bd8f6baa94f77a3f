"""Concurrent writers on one home lose nothing (issue 17, reproduction 4).

Two `strongroom edit` processes started together on one record, one setting the username and
one the password: both exit 0, so both changes must be in the record afterwards. Before local
read-modify-write was serialised, about one pair in five lost one of the two edits silently.

`STRONGROOM_SOAK=N` (what `python3 -m bench soak` sets) runs N times as many pairs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clikit import cli_env, short_runtime_dir

from vault.records import new_record
from vault.vault import Vault

PASSWORD = "correct horse battery staple"
SOAK = int(os.environ.get("STRONGROOM_SOAK", "1"))
#: Pairs started at once: enough to race on a loaded 2-core machine, few enough that every
#: writer gets the store within SQLite's busy timeout.
AT_ONCE = 10


def _edit(env: dict[str, str], rid: str, assignment: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "edit", rid, "--field", assignment],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_cli_edits_of_one_record_lose_nothing(tmp_path: Path) -> None:
    pairs = 10 * SOAK
    home = tmp_path / "home"
    vault = Vault.create(home, "ann@example.com", PASSWORD)
    ids = [
        vault.add(new_record("login", f"Site {i}", {"username": "u0", "password": "p0"})).id
        for i in range(pairs)
    ]
    vault.close()
    env = cli_env(home, PASSWORD, XDG_RUNTIME_DIR=short_runtime_dir())
    for start in range(0, pairs, AT_ONCE):
        batch = ids[start : start + AT_ONCE]
        procs = []
        for n, rid in enumerate(batch, start):
            procs.append(_edit(env, rid, f"username=user-{n}"))
            procs.append(_edit(env, rid, f"password=pass-{n}"))
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
    vault = Vault.open(home)
    vault.unlock(PASSWORD)
    lost = []
    for n, rid in enumerate(ids):
        detail = vault.detail(rid)
        rec = detail.record
        both = rec.value("username") == f"user-{n}" and rec.value("password") == f"pass-{n}"
        if not both or detail.conflict:
            lost.append((n, rec.value("username"), rec.value("password")))
    assert not lost, f"{len(lost)} of {pairs} pairs lost an edit: {lost}"
