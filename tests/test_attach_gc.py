"""Attachment blobs nothing names any more leave this device (issue 22): after `attach rm` once the
history no longer keeps the file, after a purge (trash empty, the retention), after a history
prune; never a blob some version held here still names (the current record, its history, the
trash, a concurrent version, another record), never one younger than the safety age, never while
a backup reads the folder, never a sync folder's copy; a file named again by a version from
another device comes back with the next sync. Real SQLite vaults, real files, the real CLI and a
real sync folder; age is simulated by setting a blob's mtime (os.utime), never by mocking time."""

from __future__ import annotations

import io
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest
from test_folder_sync import PW as FOLDER_PW
from test_folder_sync import ok, two_devices  # noqa: F401 - the fixture

from vault import attachstore
from vault.attachments import Attachment
from vault.records import new_record
from vault.vault import Vault

PW = "blob collection test password"
HOUR = 3600.0


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    v = Vault.create(tmp_path / "a", "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-1"}))
    v.update_settings(history_keep=1, history_days=0)  # one previous version: prunes come soon
    return v


def _file(tmp_path: Path, name: str, size: int = 5_000) -> Path:
    p = tmp_path / name
    p.write_bytes(os.urandom(size))
    return p


def _age(folder: Path, seconds: float = 2 * HOUR) -> None:
    """Every blob in `folder` written `seconds` ago (its mtime), as if added long before."""
    when = time.time() - seconds
    for p in folder.iterdir():
        os.utime(p, (when, when))


def _blobs(v: Vault) -> set[str]:
    return attachstore.blob_dir(v).names()


def _read(v: Vault, att: Attachment) -> bytes:
    out = io.BytesIO()
    attachstore.read(v, att, out)
    return out.getvalue()


def test_attach_rm_keeps_the_blob_history_names_and_the_prune_takes_it(
    vault: Vault, tmp_path: Path
) -> None:
    rid = vault.find("GitHub")
    att = attachstore.add(vault, rid, _file(tmp_path, "codes.pdf"))
    keep = attachstore.add(vault, rid, _file(tmp_path, "kept.pdf"))
    _age(vault.home / "blobs")
    attachstore.remove(vault, rid, "codes.pdf")
    assert att.blob in _blobs(vault)  # the previous version (history) still names it
    steps = vault.history(rid)
    assert att.id in {a.id for a in steps[-2].record.attachments}
    vault.edit(rid, lambda r: replace(r, notes="a later edit"))  # the prune drops that version
    assert att.blob not in _blobs(vault)
    assert not (vault.home / "blobs" / att.blob).exists()
    assert keep.blob in _blobs(vault)  # still the record's file
    assert _read(vault, keep) == (tmp_path / "kept.pdf").read_bytes()


def test_a_file_unchanged_through_prunes_stays(vault: Vault, tmp_path: Path) -> None:
    rid = vault.find("GitHub")
    att = attachstore.add(vault, rid, _file(tmp_path, "codes.pdf"))
    vault.edit(rid, lambda r: replace(r, notes="a tab\t, a \x01: the JSON has a \\u escape"))
    _age(vault.home / "blobs")
    for n in range(4):  # every edit prunes a version naming the file: the record still does
        vault.edit(rid, lambda r, n=n: replace(r, notes=f"{r.notes} \x01 edit {n}"))
    assert attachstore.collect_garbage(vault) == (0, 0)
    assert _read(vault, att) == (tmp_path / "codes.pdf").read_bytes()


def test_trash_empty_takes_the_purged_files_and_keeps_those_named_elsewhere(
    vault: Vault, tmp_path: Path
) -> None:
    one = vault.find("GitHub")
    two = vault.add(new_record("login", "GitLab")).id
    own = attachstore.add(vault, one, _file(tmp_path, "own.pdf", 70_000))
    shared = attachstore.add(vault, one, _file(tmp_path, "shared.pdf"))
    vault.edit(two, lambda r: replace(r, attachments=(shared,)))  # two records name one blob
    _age(vault.home / "blobs")
    size = (vault.home / "blobs" / own.blob).stat().st_size
    vault.trash(one)
    assert {own.blob, shared.blob} <= _blobs(vault)  # in the trash: still named
    assert vault.empty_trash() == [one]
    assert own.blob not in _blobs(vault) and shared.blob in _blobs(vault)
    assert _read(vault, shared) == (tmp_path / "shared.pdf").read_bytes()
    assert size > 70_000
    # the other record purged too: nothing names the shared blob any more
    vault.delete(two)
    assert _blobs(vault) == set()


def test_the_retention_purge_takes_the_files_of_what_it_purges(
    vault: Vault, tmp_path: Path
) -> None:
    rid = vault.find("GitHub")
    att = attachstore.add(vault, rid, _file(tmp_path, "codes.pdf"))
    _age(vault.home / "blobs")
    vault.trash(rid)
    assert vault.purge_expired() == [] and att.blob in _blobs(vault)  # not expired yet
    assert vault.purge_expired(at=time.time() + 31 * 86400) == [rid]
    assert att.blob not in _blobs(vault)


def test_a_young_blob_is_kept_until_it_is_old_enough(vault: Vault, tmp_path: Path) -> None:
    rid = vault.find("GitHub")
    att = attachstore.add(vault, rid, _file(tmp_path, "codes.pdf"))
    with open(tmp_path / "codes.pdf", "rb") as src:  # sealed, its edit not saved (yet)
        orphan = attachstore.seal(vault, src, 5_000, "orphan.pdf")
    vault.trash(rid)
    vault.empty_trash()
    assert {att.blob, orphan.blob} <= _blobs(vault)  # both just written
    assert attachstore.collect_garbage(vault) == (0, 0)
    p = vault.home / "blobs" / orphan.blob
    when = time.time() - HOUR + 60  # 59 minutes old: still kept
    os.utime(p, (when, when))
    assert attachstore.collect_garbage(vault) == (0, 0) and orphan.blob in _blobs(vault)
    size = p.stat().st_size
    assert attachstore.collect_garbage(vault, min_age=0)[0] == 2
    assert _blobs(vault) == set()
    assert size > 0


def test_temp_files_are_left_to_the_sweep(vault: Vault, tmp_path: Path) -> None:
    rid = vault.find("GitHub")
    attachstore.add(vault, rid, _file(tmp_path, "codes.pdf"))
    tmp = vault.home / "blobs" / ".blob.tmp-0123456789ab"
    tmp.write_bytes(b"partial")
    _age(vault.home / "blobs")
    vault.delete(rid)
    assert [p.name for p in (vault.home / "blobs").iterdir()] == [tmp.name]


def test_a_concurrent_version_keeps_its_file(vault: Vault, tmp_path: Path) -> None:
    """A version from another device, in conflict with this one's, names a file this device took
    off and pruned: kept while that version is held here."""
    rid = vault.find("GitHub")
    att = attachstore.add(vault, rid, _file(tmp_path, "codes.pdf"))
    b = Vault.adopt(tmp_path / "b", vault.slot, vault.keys, vault.store.all_versions())
    b.edit(rid, lambda r: replace(r, notes="edited on B"))  # still names the file
    attachstore.remove(vault, rid, att.id)
    vault.edit(rid, lambda r: replace(r, notes="edited on A"))  # pruned here (blob young)
    vault.apply(b.store.versions(rid), "wifi")
    assert vault.detail(rid).conflict
    _age(vault.home / "blobs")
    assert attachstore.collect_garbage(vault) == (0, 0)
    assert att.blob in _blobs(vault)
    other = next(o for o in vault.detail(rid).others if o.attachments)
    assert _read(vault, other.attachments[0]) == (tmp_path / "codes.pdf").read_bytes()


def test_nothing_goes_while_a_backup_reads_the_folder(vault: Vault, tmp_path: Path) -> None:
    rid = vault.find("GitHub")
    att = attachstore.add(vault, rid, _file(tmp_path, "codes.pdf"))
    _age(vault.home / "blobs")
    size = (vault.home / "blobs" / att.blob).stat().st_size
    with attachstore.blob_dir(vault).reading():  # what create_backup holds while it writes
        vault.delete(rid)
        assert att.blob in _blobs(vault)
    assert attachstore.collect_garbage(vault) == (1, size)
    assert _blobs(vault) == set()


def test_a_version_that_cannot_be_read_stops_the_collection(vault: Vault, tmp_path: Path) -> None:
    """What an unreadable version names is unknown: nothing is taken then."""
    rid = vault.find("GitHub")
    att = attachstore.add(vault, rid, _file(tmp_path, "codes.pdf"))
    vault.store.insert_rows([("feedfacefeedface", '{"zz":1}', 1, "zz", 0, b"\x00" * 64)])
    _age(vault.home / "blobs")
    vault.delete(rid)
    assert att.blob in _blobs(vault)


def test_the_cli_trash_empty_and_attach_rm_remove_the_bytes(tmp_path: Path) -> None:
    from clikit import cli_env, run_cli

    home = tmp_path / "h"

    def cli(*args: str) -> str:
        r = run_cli(cli_env(home, FOLDER_PW), *args, cwd=tmp_path)
        assert r.returncode == 0, f"{args}: {r.stderr}"
        return r.stdout

    cli("signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path))
    cli("add", "login", "--title", "GitHub")
    cli("add", "login", "--title", "GitLab")
    cli("history", "retention", "--versions", "1")
    blobs, named = home / "blobs", []
    for title, name in (("GitHub", "hub.pdf"), ("GitLab", "lab.pdf")):
        cli("attach", "add", title, str(_file(tmp_path, name)))
        named.append(next(p.name for p in blobs.iterdir() if p.name not in named))
    hub, lab = named
    _age(blobs)
    cli("attach", "rm", "GitHub", "hub.pdf")
    assert (blobs / hub).exists()  # the previous version still names it
    cli("edit", "GitHub", "--field", "username=ann")  # that version pruned: the bytes go
    assert not (blobs / hub).exists()
    cli("rm", "GitLab")
    assert (blobs / lab).exists()  # in the trash
    cli("trash", "empty", "--yes")
    assert list(blobs.iterdir()) == []


def test_a_file_named_again_by_another_device_comes_back_through_the_folder(
    two_devices: tuple[Path, Path, Path, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """A purges the record and its file's bytes leave A, not the folder; B edited it meanwhile
    (its version still names the file, and an edit beats a concurrent delete): A's next sync
    brings the record back and the file's bytes with it, byte-exact."""
    a, b, folder, account = two_devices
    scan = _file(tmp_path, "passport-scan.pdf", 300_000)
    ok(a, "attach", "add", "GitHub", str(scan))
    ok(a, "sync", "now")
    ok(b, "sync", "now")
    (blob,) = [p.name for p in (a / "blobs").iterdir()]
    assert (b / "blobs" / blob).exists()
    _age(a / "blobs")
    ok(a, "rm", "GitHub")
    ok(a, "trash", "empty", "--yes")
    assert not (a / "blobs" / blob).exists()
    ok(a, "sync", "now")
    assert (folder / account / "blobs" / blob).exists()  # the folder's copy stays
    ok(b, "edit", "GitHub", "--field", "username=edited-on-b")
    ok(b, "sync", "now")
    ok(a, "sync", "now")
    assert (a / "blobs" / blob).exists()  # fetched again with the version that names it
    got = tmp_path / "got.pdf"
    ok(a, "attach", "get", "GitHub", "passport-scan.pdf", "-o", str(got))
    assert got.read_bytes() == scan.read_bytes()
    # purged on B this time: A lets go of the bytes when the purge arrives
    ok(a, "sync", "now")
    ok(b, "sync", "now")
    _age(a / "blobs")
    _age(b / "blobs")
    ok(b, "rm", "GitHub")
    ok(b, "trash", "empty", "--yes")
    assert not (b / "blobs" / blob).exists()
    ok(b, "sync", "now")
    assert (a / "blobs" / blob).exists()
    ok(a, "sync", "now")
    assert not (a / "blobs" / blob).exists()
    assert (folder / account / "blobs" / blob).exists()
