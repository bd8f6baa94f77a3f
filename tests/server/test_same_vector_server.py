"""The account server keeps two versions with one vector and different content (issue 17, Build
2): both reach every device as a conflict. Before, the second push dropped the first. Schema 1
databases are migrated with every envelope kept. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from sync.cloud import CloudClient, CloudSync
from sync.server.runner import ServerThread
from sync.server.storage import MIGRATIONS, SCHEMA_VERSION, Storage
from vault.envelope import Envelope
from vault.records import new_record
from vault.vault import Vault

from .helpers import add_login, sign_in, sign_up


def _twin(vault: Vault, rid: str, title: str) -> Envelope:
    env = vault.store.versions(rid)[0]
    return vault.cipher.seal(
        replace(vault.record(rid), title=title), rid, env.vv, env.hlc, env.device
    )


def _titles(vault: Vault, rid: str) -> set[str]:
    d = vault.detail(rid)
    return {r.title for r in (d.record, *d.others)}


def test_both_versions_under_one_vector_reach_every_device(
    server: ServerThread, tmp_path: Path
) -> None:
    a, _ = sign_up(server.url, tmp_path / "a")
    rid = add_login(a, "one")
    CloudSync(a, CloudClient(server.url)).sync_now()
    b, _ = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    assert _titles(b, rid) == {"one"}
    b.apply([_twin(b, rid, "two")])  # b: a version under a's vector that a never wrote
    assert CloudSync(b, CloudClient(server.url)).sync_now().sent == 1
    CloudSync(a, CloudClient(server.url)).sync_now()
    c, _ = sign_in(server.url, tmp_path / "c", "alice@example.com", a.slot.kit)
    for v in (a, b, c):
        assert _titles(v, rid) == {"one", "two"} and v.detail(rid).conflict
        v.close()


def test_a_schema_1_database_keeps_every_envelope(
    db_target: tuple[str, str | None], tmp_path: Path
) -> None:
    v = Vault.create(tmp_path / "home", "ann@example.com", "pw pw pw pw")
    rid = v.add(new_record("login", "one")).id
    env, twin = v.store.versions(rid)[0], _twin(v, rid, "two")
    v.close()
    old = Storage(*db_target, migrate=False)
    blob = "BYTEA" if old.pg else "BLOB"
    with old.tx() as t:
        t.run(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)"
        )
        for stmt in MIGRATIONS[0]:
            t.run(stmt.format(blob=blob, bigint="BIGINT"))
        t.run("INSERT INTO schema_migrations (version, applied) VALUES (1, ?)", (int(time.time()),))
        t.run(
            "INSERT INTO envelopes (account_id, record_id, vv, rev, body) VALUES (?, ?, ?, ?, ?)",
            ("ABCDEFGHJK", rid, env.vv_text, 1, env.to_bytes()),
        )
    old.close()
    db = Storage(*db_target)
    assert db.schema_version() == SCHEMA_VERSION >= 2
    with db.tx() as t:
        t.run(
            "INSERT INTO envelopes (account_id, record_id, vv, rev, body) VALUES (?, ?, ?, ?, ?)",
            ("ABCDEFGHJK", rid, twin.vv_text, 2, twin.to_bytes()),
        )
        rows = t.all(
            "SELECT rev, body, superseded FROM envelopes WHERE account_id=? ORDER BY rev",
            ("ABCDEFGHJK",),
        )
    # migration 3 keeps every row as it was, as a current version (superseded NULL)
    assert [(int(r[0]), bytes(r[1]), r[2]) for r in rows] == [
        (1, env.to_bytes(), None),
        (2, twin.to_bytes(), None),
    ]
    db.close()
