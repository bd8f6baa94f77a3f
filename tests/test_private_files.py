"""What this device keeps is for its owner only: 0600 files in 0700 folders, also after a slip.

The home holds the Encrypted Account Key, the wrapped Vault Key, the email and the cloud session
token; the server's database holds every account's verifier and wrapped keys. Both are created
owner-only whatever the umask, and a looser mode found on open (a copy, a restore, an older
version) is put right and reported: the CLI says so on stderr.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from clikit import cli_env, run_cli

from sync.server.storage import Storage
from vault.durable import write_private_atomic

PASSWORD = "private files password"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _everything(folder: Path) -> Iterator[Path]:
    yield folder
    yield from folder.rglob("*")


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common default umask (022): what SQLite and mkdir make 0644/0755 under."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A device signed up through the real CLI, with a Kit emailed to the outbox in its home."""
    home = tmp_path / "home"
    env = _env(home)
    signup = run_cli(env, "signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path))
    assert signup.returncode == 0, signup.stderr
    added = run_cli(env, "add", "login", "--title", "GitHub", "--field", "username=ann")
    assert added.returncode == 0, added.stderr
    mailed = run_cli(env, "kit", "--email")
    assert mailed.returncode == 0, mailed.stderr
    return home


def _env(home: Path) -> dict[str, str]:
    return cli_env(home, PASSWORD)


def test_everything_a_device_keeps_is_created_owner_only(loose_umask: None, home: Path) -> None:
    names = {p.name for p in home.iterdir()}
    assert {"vault.db", "outbox"} <= names
    for path in _everything(home):
        want = 0o700 if path.is_dir() else 0o600
        assert _mode(path) == want, f"{path} is {_mode(path):04o}"


def test_a_looser_home_is_made_private_on_open_and_reported(home: Path) -> None:
    loose = [home, home / "vault.db", home / "outbox", *(home / "outbox").iterdir()]
    for path in loose:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (home / "vault.db-wal").touch(mode=0o644)  # SQLite's companions, as a copy may leave them
    (home / "vault.db-wal").chmod(0o644)
    elsewhere = home.parent / "not-ours.txt"
    elsewhere.write_text("a file the user keeps elsewhere")
    elsewhere.chmod(0o644)
    (home / "outbox" / "link").symlink_to(elsewhere)

    listed = run_cli(_env(home), "ls")

    assert listed.returncode == 0, listed.stderr
    assert "GitHub" in listed.stdout
    for path in _everything(home):
        if path.is_symlink():
            continue
        want = 0o700 if path.is_dir() else 0o600
        assert _mode(path) == want, f"{path} is still {_mode(path):04o}"
    assert _mode(elsewhere) == 0o644  # a symlink is neither followed nor changed
    warnings = [line for line in listed.stderr.splitlines() if "open to other users" in line]
    assert any(str(home / "vault.db") in w and "0644" in w for w in warnings), listed.stderr
    assert any(w.startswith("strongroom: warning:") for w in warnings)
    assert len(warnings) == len(loose) + 1

    again = run_cli(_env(home), "ls")
    assert again.returncode == 0 and "open to other users" not in again.stderr


def test_the_server_database_is_owner_only(loose_umask: None, tmp_path: Path) -> None:
    db = tmp_path / "server" / "accounts.db"
    storage = Storage.open(db)
    try:
        with storage.tx() as tx:  # a write makes SQLite's -wal and -shm files
            tx.all("SELECT 1")
        files = sorted(p.name for p in db.parent.iterdir())
        assert files == ["accounts.db", "accounts.db-shm", "accounts.db-wal"], files
        for path in db.parent.iterdir():
            assert _mode(path) == 0o600, f"{path} is {_mode(path):04o}"
        assert _mode(db.parent) == 0o700
    finally:
        storage.close()


def test_a_looser_server_database_is_made_private_and_reported(tmp_path: Path) -> None:
    db = tmp_path / "accounts.db"
    Storage.open(db).close()
    db.chmod(0o644)
    storage = Storage.open(db)
    try:
        assert _mode(db) == 0o600
        assert any("0644" in fix and str(db) in fix for fix in storage.permission_fixes)
    finally:
        storage.close()


def test_the_one_durable_write_makes_new_private_files_and_refuses_symlinks(
    loose_umask: None, tmp_path: Path
) -> None:
    target = tmp_path / "kit.png"
    target.write_bytes(b"old")
    target.chmod(0o644)
    write_private_atomic(target, b"new")
    assert target.read_bytes() == b"new" and _mode(target) == 0o600

    victim = tmp_path / "victim.txt"
    victim.write_text("do not overwrite me")
    link = tmp_path / "Strongroom-Authentication-Kit.pdf"
    link.symlink_to(victim)
    with pytest.raises(OSError) as refused:
        write_private_atomic(link, b"kit bytes")
    assert "symbolic link" in str(refused.value)
    assert victim.read_text() == "do not overwrite me"
    assert link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "Strongroom-Authentication-Kit.pdf",
        "kit.png",
        "victim.txt",
    ]  # no temporary file left behind


def test_kit_files_are_new_private_files_never_written_through_a_link(
    loose_umask: None, home: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old-kit.pdf"
    old.write_bytes(b"an older Kit, readable by others")
    old.chmod(0o644)
    r = run_cli(_env(home), "kit", "--pdf", str(old))
    assert r.returncode == 0, r.stderr
    assert old.read_bytes().startswith(b"%PDF") and _mode(old) == 0o600

    victim = tmp_path / "victim.txt"
    victim.write_text("a file the link points at")
    link = tmp_path / "planted.png"
    link.symlink_to(victim)
    r = run_cli(_env(home), "kit", "--png", str(link))
    assert r.returncode == 2, r.stderr
    assert "symbolic link" in r.stderr
    assert victim.read_text() == "a file the link points at" and link.is_symlink()
