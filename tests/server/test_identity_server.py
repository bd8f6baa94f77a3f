"""A restored store or a cloned home on the account server (issue 17, reproduction 2, cloud):
its edits are concurrent with the ones made after the copy, so both values reach every device as
a visible conflict. Before, the server converged but dropped one edit without a trace (the
restored or cloned store counted again under the vector of an edit it had made before). Real
homes, real file copies, a real server on 127.0.0.1; SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from sync.method import configure, sync_now
from sync.server.runner import ServerThread
from vault.records import new_record
from vault.vault import DB_NAME, Vault

from .helpers import PASSWORD, sign_in, sign_up


def _open(home: Path) -> Vault:
    v = Vault.open(home)
    v.unlock(PASSWORD)
    return v


def _retitle(home: Path, rid: str, title: str) -> None:
    v = _open(home)
    v.edit(rid, lambda r: replace(r, title=title))
    v.close()


def _sync(home: Path) -> None:
    v = _open(home)
    sync_now(v)
    v.close()


def _titles(home: Path, rid: str) -> set[str]:
    v = _open(home)
    d = v.detail(rid)
    v.close()
    return {r.title for r in (d.record, *d.others)}


def _two_devices(server: ServerThread, tmp_path: Path) -> tuple[Path, Path, str]:
    x, y = tmp_path / "x", tmp_path / "y"
    a, _ = sign_up(server.url, x)
    configure(a, "cloud", server=server.url)
    rid = a.add(new_record("login", "v1")).id
    sync_now(a)
    b, _ = sign_in(server.url, y, "alice@example.com", a.slot.kit)
    configure(b, "cloud", server=server.url)
    a.close()
    b.close()
    return x, y, rid


def test_a_store_put_back_from_a_copy_keeps_both_edits_on_the_server(
    server: ServerThread, tmp_path: Path
) -> None:
    x, y, rid = _two_devices(server, tmp_path)
    aside = tmp_path / "aside"
    aside.mkdir()
    for p in x.glob(f"{DB_NAME}*"):
        shutil.copy2(p, aside / p.name)
    _retitle(x, rid, "v2")
    _sync(x)
    _sync(y)
    for p in x.glob(f"{DB_NAME}*"):  # put the copy back over the files
        p.unlink()
    for p in aside.iterdir():
        shutil.copy2(p, x / p.name)
    _retitle(x, rid, "v3")
    for home in (x, y, x):
        _sync(home)
    assert _titles(x, rid) == _titles(y, rid) == {"v2", "v3"}


def test_a_cloned_home_keeps_both_edits_on_the_server(server: ServerThread, tmp_path: Path) -> None:
    x, y, rid = _two_devices(server, tmp_path)
    z = tmp_path / "z"
    shutil.copytree(x, z)  # cp -r: the clone holds the same session and store
    _retitle(x, rid, "from x")
    _retitle(z, rid, "from z")
    for home in (x, z, y, x, z):
        _sync(home)
    assert _titles(x, rid) == _titles(y, rid) == _titles(z, rid) == {"from x", "from z"}
