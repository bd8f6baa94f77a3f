"""A device's causal identity is never reused (issue 17, reproduction 2): a store put back from a
copy, or a cloned home, writes under a new actor id, so its edits are concurrent with the ones
made after the copy — a visible conflict with both values on every device, never "file already
current" with each device showing its own value. Real homes, real file copies, a real folder."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from sync.folder import FolderSync, bootstrap_from_folder
from vault.records import new_record
from vault.vault import DB_NAME, Vault

PW = "identity password"


def _open(home: Path) -> Vault:
    v = Vault.open(home)
    v.unlock(PW)
    return v


def _retitle(home: Path, rid: str, title: str) -> None:
    v = _open(home)
    v.edit(rid, lambda r: replace(r, title=title))
    v.close()


def _sync(home: Path, folder: Path) -> bool:
    v = _open(home)
    wrote = FolderSync(v, folder).sync_now().wrote
    v.close()
    return wrote


def _titles(home: Path, rid: str) -> set[str]:
    v = _open(home)
    d = v.detail(rid)
    v.close()
    return {r.title for r in (d.record, *d.others)}


def _two_devices(tmp_path: Path) -> tuple[Path, Path, Path, str]:
    folder, x, y = tmp_path / "Dropbox", tmp_path / "x", tmp_path / "y"
    folder.mkdir()
    v = Vault.create(x, "ann@example.com", PW)
    rid = v.add(new_record("login", "v1")).id
    FolderSync(v, folder).sync_now()
    bootstrap_from_folder(y, folder, "ann@example.com", PW, v.slot.kit).close()
    v.close()
    return folder, x, y, rid


def _store_files(home: Path) -> list[Path]:
    return [p for p in home.iterdir() if p.name.startswith(DB_NAME)]


def test_a_store_put_back_from_a_copy_does_not_reuse_its_counters(tmp_path: Path) -> None:
    folder, x, y, rid = _two_devices(tmp_path)
    aside = tmp_path / "aside"
    aside.mkdir()
    for p in _store_files(x):
        shutil.copy2(p, aside / p.name)
    _retitle(x, rid, "v2")
    _sync(x, folder)
    _sync(y, folder)
    for p in _store_files(x):  # put the copy back, over the files (same inodes, as cp does)
        p.unlink() if not (aside / p.name).exists() else shutil.copyfile(aside / p.name, p)
    _retitle(x, rid, "v3")
    assert _sync(x, folder), "the folder took the restored store's edit for one it already had"
    _sync(y, folder)
    _sync(x, folder)
    assert _titles(x, rid) == _titles(y, rid) == {"v2", "v3"}


def test_a_cloned_home_writes_under_its_own_identity(tmp_path: Path) -> None:
    folder, x, y, rid = _two_devices(tmp_path)
    z = tmp_path / "z"
    shutil.copytree(x, z)
    _retitle(x, rid, "from x")
    _retitle(z, rid, "from z")
    for home in (x, z, y, x, z):
        _sync(home, folder)
    assert _titles(x, rid) == _titles(y, rid) == _titles(z, rid) == {"from x", "from z"}


def test_an_untouched_home_keeps_its_identity(tmp_path: Path) -> None:
    """Opening, writing and syncing as usual never mints a new actor (vectors stay small)."""
    folder, x, y, rid = _two_devices(tmp_path)
    for n in range(3):
        _retitle(x, rid, f"t{n}")
        _sync(x, folder)
    v = _open(x)
    assert list(v.store.versions(rid)[0].vv) == [v.device]
    v.close()
