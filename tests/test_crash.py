"""Crash safety: SIGKILL a writer at random moments; everything it was told is saved stays saved.

The child adds, edits and deletes records in a loop and prints each acknowledged operation (after
the vault call returned) to stdout with flush. The parent kills it with SIGKILL after a random
delay, then reopens the vault and checks: the database passes SQLite's integrity check, it opens
and unlocks, every acknowledged add is present (unless an acknowledged delete removed it), every
acknowledged edit is there or newer, every acknowledged delete stays deleted, every record
decrypts, and the encrypted summary index agrees with the records.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from vault.vault import DB_NAME, Vault

PW = "crash test password"

CHILD = """
import random, sys
from dataclasses import replace
from pathlib import Path
from vault.records import new_record
from vault.vault import Vault

v = Vault.open(Path(sys.argv[1]))
v.unlock(sys.argv[2])
rng = random.Random(int(sys.argv[3]))
mine = []
print("ready", flush=True)
i = 0
while True:
    i += 1
    op = rng.random()
    if op < 0.6 or len(mine) < 3:
        r = v.add(new_record("login", f"n{i}", {"password": "x" * 40, "username": "u"}, notes="n" * 200))
        mine.append(r.id)
        print("add", r.id, i, flush=True)
    elif op < 0.85:
        rid = rng.choice(mine)
        v.update(replace(v.record(rid), title=f"n{i}"))
        print("edit", rid, i, flush=True)
    else:
        rid = mine.pop(rng.randrange(len(mine)))
        print("deleting", rid, i, flush=True)  # killed before "del": either outcome is correct
        v.delete(rid)
        print("del", rid, i, flush=True)
"""


def _title_counter(title: str) -> int:
    return int(title[1:])


def test_sigkill_at_random_points_loses_nothing_acknowledged(tmp_path: Path) -> None:
    home = tmp_path / "h"
    Vault.create(home, "c@example.com", PW).close()
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    live: dict[str, int] = {}  # id → counter of the last acknowledged write
    deleted: set[str] = set()
    acked = 0
    for round_no in range(8):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(home), PW, str(rng.randrange(1 << 30))],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.4))  # from "right after the first write started" to mid-run
        os.kill(child.pid, signal.SIGKILL)
        out, _ = child.communicate()
        assert child.returncode == -signal.SIGKILL
        undecided = None
        lines = out.split("\n")
        for line in lines[
            :-1
        ]:  # the last piece is unterminated (empty, or cut by the kill): not an ack
            op, rid, n = line.split()
            if op == "deleting":
                undecided = rid
                continue
            acked += 1
            undecided = None
            if op == "del":
                live.pop(rid)
                deleted.add(rid)
            else:
                live[rid] = int(n)
        if undecided is not None:  # the kill landed inside delete(): present or gone, both fine
            live.pop(undecided)

        ctx = f"(seed {seed}, round {round_no})"
        db = sqlite3.connect(home / DB_NAME)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",), ctx
        db.close()
        v = Vault.open(home)
        v.unlock(PW)
        shown = {s.id: s.title for s in v.summaries()}
        missing = [rid for rid in live if rid not in shown]
        assert not missing, f"{len(missing)} acknowledged records lost {ctx}"
        for rid, counter in live.items():
            rec = v.record(rid)  # decrypts
            assert _title_counter(rec.title) >= counter, f"acknowledged edit of {rid} lost {ctx}"
            assert shown[rid] == rec.title, f"summary index disagrees with the record {ctx}"
        resurrected = deleted & shown.keys()
        assert not resurrected, f"acknowledged deletes undone {ctx}"
        v.close()
    print(
        f"crash test: 8 SIGKILLs, {acked} acknowledged operations verified, {len(live)} records live"
    )
    assert acked > 30, f"the child did too little work to prove anything ({acked} operations)"
