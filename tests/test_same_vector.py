"""Two versions with the same vector and different content are concurrent everywhere (issue 17,
Build 2): what a reused causal identity writes is kept as a conflict with both values — in the
store, through the folder, the account server and Wi-Fi — never taken for one version already
held. The second version is sealed with the account's real key under the first one's vector,
exactly what a restored or cloned store that went undetected would write."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from sync.folder import FolderSync, bootstrap_from_folder
from vault.envelope import Envelope
from vault.records import new_record
from vault.store import SCHEMA_VERSION, Store
from vault.vault import DB_NAME, Vault

PW = "same vector password"


def twin_of(vault: Vault, rid: str, title: str) -> Envelope:
    """A version with the same vector, clock and writer as the record's current one, other content."""
    env = vault.store.versions(rid)[0]
    rec = replace(vault.record(rid), title=title)
    return vault.cipher.seal(rec, rid, env.vv, env.hlc, env.device)


def titles(vault: Vault, rid: str) -> set[str]:
    d = vault.detail(rid)
    return {r.title for r in (d.record, *d.others)}


def test_the_store_keeps_both_and_the_next_edit_resolves_them(home: Path) -> None:
    v = Vault.create(home, "ann@example.com", PW)
    rid = v.add(new_record("login", "one")).id
    twin = twin_of(v, rid, "two")
    assert v.apply([twin]) == [rid]
    assert v.apply([twin]) == []  # a copy of a version already held changes nothing
    assert titles(v, rid) == {"one", "two"} and v.detail(rid).conflict
    now = v.detail(rid)
    v.update(replace(now.record, title="chosen"), now)
    assert titles(v, rid) == {"chosen"} and len(v.store.versions(rid)) == 1
    v.close()


def test_a_schema_1_store_is_migrated_with_every_row(tmp_path: Path) -> None:
    v = Vault.create(tmp_path / "src", "ann@example.com", PW)
    rid = v.add(new_record("login", "one")).id
    v.add(new_record("note", "n"))
    rows = v.store.all_versions()
    twin = twin_of(v, rid, "two")
    v.close()
    path = tmp_path / "v1.db"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
        CREATE TABLE versions (record_id TEXT NOT NULL, vv TEXT NOT NULL, hlc INTEGER NOT NULL,
            device TEXT NOT NULL, deleted INTEGER NOT NULL, body BLOB NOT NULL,
            seq INTEGER NOT NULL, PRIMARY KEY (record_id, vv));
        CREATE INDEX versions_seq ON versions (seq);
        CREATE TABLE cache (key TEXT PRIMARY KEY, value BLOB NOT NULL);
        PRAGMA user_version=1;
        """
    )
    db.executemany(
        "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (e.record_id, e.vv_text, e.hlc, e.device, int(e.deleted), e.ciphertext, 7 + i)
            for i, e in enumerate(rows)
        ],
    )
    db.execute("INSERT INTO meta VALUES ('seq', ?)", (b"8",))
    db.commit()
    db.close()
    store = Store(path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert sorted(store.all_versions(), key=lambda e: e.record_id) == sorted(
        rows, key=lambda e: e.record_id
    )
    assert store.max_seq() == 8 and store.changes_since(7) == [rows[1]]
    assert store.apply([twin]) == [rid] and len(store.versions(rid)) == 2
    store.close()
    assert Store(path).versions(rid)  # opening again: nothing to migrate, nothing lost


def test_the_folder_never_calls_a_different_version_current(tmp_path: Path) -> None:
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    x = Vault.create(tmp_path / "x", "ann@example.com", PW)
    rid = x.add(new_record("login", "one")).id
    FolderSync(x, folder).sync_now()
    y = bootstrap_from_folder(tmp_path / "y", folder, "ann@example.com", PW, x.slot.kit)
    y.apply([twin_of(y, rid, "two")])  # y's store: the other content, same vector
    # x holds only "one", y both: y's sync must write the file, and x must take "two" from it.
    assert FolderSync(y, folder).sync_now().wrote
    FolderSync(x, folder).sync_now()
    assert titles(x, rid) == titles(y, rid) == {"one", "two"}
    x.close()
    y.close()


def test_store_files_are_schema_3(home: Path) -> None:
    Vault.create(home, "ann@example.com", PW).close()
    db = sqlite3.connect(home / DB_NAME)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    db.close()
