"""History and trash in the vault (issue 22): every change keeps the previous version, restore is
a new edit, the password history has dates, the trash is a record state, a purge a tombstone, an
edit concurrent with a delete stays out of the trash; all of it survives a password change, an
Account Key rotation and a backup restore. Real SQLite stores; two devices exchange real envelopes."""

from __future__ import annotations

import io
import json
import os
import time
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest

from vault import backup
from vault.errors import NotFoundError, UnsupportedVersionError
from vault.history import past_secrets
from vault.records import (
    Field,
    FieldKind,
    HistoryEntry,
    Record,
    Version,
    bare,
    new_record,
    revise,
)
from vault.vault import Vault

PW = "history test password"
GOLDEN = Path(__file__).parent / "data" / "golden" / "record-history-v1.json"


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    v = Vault.create(tmp_path / "a", "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-1"}))
    return v


def _pw(rec: Record) -> str | None:
    return rec.value("password")


def golden_record() -> Record:
    first = Record(
        "0123456789abcdef",
        "login",
        "GitHub",
        (Field("username", FieldKind.TEXT, "ann"), Field("password", FieldKind.SECRET, "gh-1")),
        created=1700000000.0,
        modified=1700000000.0,
    )
    second = replace(first, fields=(first.fields[0], Field("password", FieldKind.SECRET, "gh-2")))
    second = replace(second, modified=1700000100.0)
    third = replace(second, trashed=1700000200.0, modified=1700000200.0)
    return replace(
        third,
        title="GitHub (old)",
        modified=1700000300.0,
        trashed=None,
        history=(HistoryEntry(1700000000.0, (first.fields[1],), 1700000100.0),),
        versions=(
            Version(1700000000.0, "aaaa1111", bare(first)),
            Version(1700000100.0, "bbbb2222", bare(second)),
            Version(1700000200.0, "aaaa1111", bare(third)),
        ),
    )


def test_history_golden() -> None:
    """The record body with history format 1 and the trash mark, byte for byte, and its ids."""
    rec = golden_record()
    golden = json.loads(GOLDEN.read_text())
    assert rec.to_json().decode() == golden["body"]
    assert [v.vid for v in rec.versions] == golden["version_ids"]
    assert Record.from_json(golden["body"].encode()) == rec
    newer = json.loads(golden["body"]) | {"hv": 2}
    with pytest.raises(UnsupportedVersionError, match="update"):
        Record.from_json(json.dumps(newer).encode())
    # a body from before issue 22 (no v, no t, two-element h entries) reads as before
    old = json.loads(golden["body"])
    for key in ("hv", "v"):
        old.pop(key)
    old["h"] = [entry[:2] for entry in old["h"]]
    before = Record.from_json(json.dumps(old).encode())
    assert before.versions == () and before.trashed is None and before.history[0].replaced is None


def test_every_change_keeps_the_previous_version_and_restore_is_a_new_edit(vault: Vault) -> None:
    rid = vault.find("GitHub")
    vault.edit(rid, lambda r: replace(r, fields=(r.fields[0], replace(r.fields[1], value="gh-2"))))
    vault.edit(rid, lambda r: replace(r, notes="2FA on"))
    vault.edit(rid, lambda r: r)  # no change: no new version
    steps = vault.history(rid)
    assert [s.number for s in steps] == [1, 2, 3] and steps[-1].current
    assert steps[0].changes == ("created",)
    assert steps[1].changes == ("password changed",)  # a secret is named, never shown
    assert steps[2].changes == ("notes changed",)
    assert all(s.device == vault.device for s in steps)
    restored = vault.restore_version(rid, "1")
    assert _pw(restored) == "gh-1" and restored.notes == ""
    after = vault.history(rid)
    assert len(after) == 4 and [s.vid for s in after[:3]] == [s.vid for s in steps]
    assert _pw(after[2].record) == "gh-2" and after[2].record.notes == "2FA on"
    # the id works as well as the number
    assert vault.restore_version(rid, steps[2].vid).notes == "2FA on"
    with pytest.raises(NotFoundError):
        vault.restore_version(rid, "99")


def test_adding_and_removing_a_file_is_a_change_history_names(vault: Vault, tmp_path: Path) -> None:
    """A file added or removed is said by name (it was "no visible change"); restoring the
    version before the removal brings the file back, its blob kept on the device."""
    from vault import attachstore

    rid = vault.find("GitHub")
    src = tmp_path / "codes.pdf"
    src.write_bytes(b"%PDF recovery codes")
    attachstore.add(vault, rid, src)
    attachstore.remove(vault, rid, "codes.pdf")
    steps = vault.history(rid)
    assert steps[-2].changes == ("file 'codes.pdf' added",)
    assert steps[-1].changes == ("file 'codes.pdf' removed",)
    back = vault.restore_version(rid, str(steps[-2].number))
    assert [a.name for a in back.attachments] == ["codes.pdf"]
    assert attachstore.present(vault, back.attachments[0])


def test_password_history_has_values_and_dates(vault: Vault) -> None:
    rid = vault.find("GitHub")
    for value in ("gh-2", "gh-3"):
        time.sleep(0.01)
        vault.edit(
            rid, lambda r, v=value: replace(r, fields=(r.fields[0], replace(r.fields[1], value=v)))
        )
    rec = vault.record(rid)
    past = past_secrets(rec)
    assert [p.value for p in past] == ["gh-2", "gh-1"]
    assert past[1].since == rec.created and past[1].until == past[0].since
    assert past[0].until <= rec.modified


def test_retention_by_count_and_age(vault: Vault) -> None:
    rid = vault.find("GitHub")
    vault.update_settings(history_keep=3, history_days=0)
    for n in range(6):
        vault.edit(rid, lambda r, n=n: replace(r, notes=f"note {n}"))
    rec = vault.record(rid)
    assert [v.snapshot.notes for v in rec.versions] == ["note 2", "note 3", "note 4"]
    vault.update_settings(history_keep=0, history_days=1)
    old = replace(
        rec,
        versions=(replace(rec.versions[0], modified=rec.modified - 2 * 86400),) + rec.versions[1:],
    )
    vault.update(old)
    kept = vault.record(rid).versions
    assert all(v.modified >= rec.modified - 86400 for v in kept) and len(kept) == 3


def test_trash_is_a_state_restore_brings_history_back_and_purge_is_a_tombstone(
    vault: Vault,
) -> None:
    rid = vault.find("GitHub")
    vault.edit(rid, lambda r: replace(r, notes="keep me"))
    vault.trash(rid)
    assert [s.title for s in vault.summaries()] == [] and vault.search_titles("Git") == []
    with pytest.raises(NotFoundError):
        vault.find("GitHub")
    assert [s.id for s in vault.trashed()] == [rid] == [vault.find_trashed("git")]
    assert vault.states()[rid].deleted is False  # a live version: it syncs as an edit does
    back = vault.untrash(rid)
    assert back.trashed is None and back.notes == "keep me"
    assert [s.changes for s in vault.history(rid)][-2:] == [
        ("moved to the trash",),
        ("restored from the trash",),
    ]
    vault.trash(rid)
    assert vault.purge_expired() == []  # not yet 30 days
    assert vault.purge_expired(at=time.time() + 31 * 86400) == [rid]
    assert vault.states()[rid].deleted and vault.trashed() == []


def _exchange(a: Vault, b: Vault) -> None:
    """Both ways, every version each holds: what any sync method carries."""
    from vault.merge import survivors

    for src, dst in ((a, b), (b, a)):
        dst.apply([e for vs in src.store.grouped().values() for e in survivors(vs)], "wifi")


def _second_device(a: Vault, tmp_path: Path, name: str) -> Vault:
    b = Vault.adopt(tmp_path / name, a.slot, a.keys, [])
    _exchange(a, b)
    return b


@pytest.mark.parametrize("trash_last", [True, False])
def test_edit_on_one_device_and_delete_on_another_keeps_the_edit(
    vault: Vault, tmp_path: Path, trash_last: bool
) -> None:
    b = _second_device(vault, tmp_path, "b")
    rid = vault.find("GitHub")
    first, second = (vault, b) if trash_last else (b, vault)
    if trash_last:
        first.edit(rid, lambda r: replace(r, notes="edited on A"))
        time.sleep(0.01)
        second.trash(rid)
    else:
        second.trash(rid)
        time.sleep(0.01)
        first.edit(rid, lambda r: replace(r, notes="edited on B"))
    _exchange(vault, b)
    for v in (vault, b):
        d = v.detail(rid)
        assert d.record.trashed is None and d.record.notes.startswith("edited")
        assert d.kept_from_trash and d.conflict
        assert [s.id for s in v.summaries()] == [rid] and v.trashed() == []
        assert [s.id for s in v.kept_from_trash()] == [rid]
    # an edit resolves it, out of the trash, with both histories
    done = vault.edit(rid, lambda r: replace(r, title="GitHub 2"))
    _exchange(vault, b)
    d = b.detail(rid)
    assert not d.conflict and not d.kept_from_trash and d.record.title == "GitHub 2"
    changes = [c for s in b.history(rid) for c in s.changes]
    assert "moved to the trash" in changes and "notes changed" in changes
    assert len(done.versions) >= 3


def test_history_and_trash_survive_password_change_rotation_and_backup_restore(
    vault: Vault, tmp_path: Path
) -> None:
    rid = vault.find("GitHub")
    vault.edit(rid, lambda r: replace(r, notes="v2"))
    vault.add(new_record("note", "Diary", notes="dear diary"))
    diary = vault.find("Diary")
    from vault import attachstore

    scan = tmp_path / "diary-scan.png"
    scan.write_bytes(os.urandom(70_000))
    attachstore.add(vault, diary, scan)
    vault.trash(diary)
    path = tmp_path / "before.srbk"
    backup.create_backup(vault, path)
    vault.change_password(PW + " new")
    vault.rotate_account_key(PW + " new")
    again = Vault.open(vault.home)
    again.unlock(PW + " new")
    assert len(again.history(rid)) == 2 and [s.id for s in again.trashed()] == [diary]
    restored, _ = backup.restore_into_new_home(tmp_path / "c", path, PW)
    assert len(restored.history(rid)) == 2 and [s.id for s in restored.trashed()] == [diary]
    # restoring the backup over a purge brings the record back as the backup held it: in the
    # trash, with its history, from where `trash restore` brings it to the list
    again.empty_trash()
    assert again.trashed() == []
    assert backup.restore_backup(again, path, PW).restored == 1
    assert [s.id for s in again.trashed()] == [diary]
    assert again.untrash(diary).notes == "dear diary" and again.find("Diary") == diary
    # its file came back with it, readable after the password change and the key rotation, and
    # in the home restored from the backup made with the old password
    for v in (again, restored):
        if v is restored:
            restored.untrash(diary)
        (att,) = attachstore.listed(v, diary)
        out = io.BytesIO()
        attachstore.read(v, att, out)
        assert out.getvalue() == scan.read_bytes()
    assert [c for s in again.history(diary) for c in s.changes][-2:] == [
        "moved to the trash",
        "restored from the trash",
    ]


def test_export_leaves_the_trash_out(vault: Vault, tmp_path: Path) -> None:
    from vault.export import export_vault

    vault.add(new_record("note", "Diary", notes="dear diary"))
    vault.trash(vault.find("Diary"))
    target = tmp_path / "out.json"
    export_vault(vault, "json", target)
    titles = [r["title"] for r in json.loads(target.read_text())["records"]]
    assert titles == ["GitHub"]


def test_an_edit_saved_after_a_delete_arrived_takes_the_record_out_of_the_trash(
    vault: Vault, tmp_path: Path
) -> None:
    """The form was opened before another device's delete arrived: saving it rebases onto the
    delete (issue 17) and the record comes out of the trash with the edit and both histories."""
    b = _second_device(vault, tmp_path, "b")
    rid = vault.find("GitHub")
    base = vault.detail(rid)  # the app's edit form is open on this
    b.trash(rid)
    _exchange(vault, b)
    assert vault.trashed()[0].id == rid
    saved = vault.update(replace(base.record, notes="saved from the open form"), base)
    assert saved.trashed is None and vault.find("GitHub") == rid and vault.trashed() == []
    assert [s.changes for s in vault.history(rid)][-2:] == [
        ("moved to the trash",),
        ("restored from the trash", "notes changed"),
    ]


def test_edits_in_one_millisecond_keep_their_order() -> None:
    """Times are kept to the millisecond: edits made faster than that (or after a clock step
    back) still follow each other, so the history lists them in the order they were made."""
    rec = replace(new_record("note", "Quick", notes="note 0"), modified=time.time() + 60)
    for n in range(1, 6):
        rec = revise(rec, replace(rec, notes=f"note {n}"))
    assert [v.snapshot.notes for v in rec.versions] == [f"note {n}" for n in range(5)]
    assert all(a.modified < b.modified for a, b in pairwise(rec.versions))
