"""Sign-up, sign-in, Kit files and backups through the real CLI, as the app does them
(runtime/account.py, runtime/kitfiles.py, runtime/backups.py are the one home of each)."""

from __future__ import annotations

import json
import secrets
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from clikit import cli_env, run_cli

from vault import keys as keymod
from vault.keys import KeySlot
from vault.records import new_record
from vault.vault import Vault

PW = "account cli password"
NEW_PW = "the password after a reset"
EMAIL = "lee@example.com"


def cli(
    home: Path, *args: str, password: str | None = PW, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(home, password), *args, cwd=cwd or home.parent, timeout=90)


def ok(home: Path, *args: str, password: str | None = PW) -> str:
    r = cli(home, *args, password=password)
    assert r.returncode == 0, f"{args}: {r.stderr}"
    return r.stdout


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def device(tmp_path: Path) -> tuple[Path, Path, str]:
    """A device syncing through a folder; its Kit is in tmp_path."""
    home, folder = tmp_path / "a", tmp_path / "Dropbox"
    folder.mkdir()
    account = ok(home, "signup", "--email", EMAIL, "--kit-dir", str(tmp_path)).strip()
    ok(home, "add", "login", "--title", "Mail", "--field", "password=m1")
    ok(home, "sync", "folder", str(folder))
    return home, folder, account


def test_kit_and_code_flags_take_a_kit_file_or_a_typed_code(
    device: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """What the app's one Kit field accepts, either flag accepts."""
    home, folder, account = device
    code = ok(home, "kit", "--code").strip()
    png = tmp_path / f"Strongroom-Authentication-Kit-{account}.png"
    signin = ("signin", "--email", EMAIL, "--folder", str(folder))
    ok(tmp_path / "b", *signin, "--kit", code)  # a typed code given to --kit
    ok(tmp_path / "c", *signin, "--code", str(png))  # a Kit file given to --code
    for other in ("b", "c"):
        assert ok(tmp_path / other, "get", "Mail", "--field", "password") == "m1\n"
    r = cli(tmp_path / "d", *signin, "--kit", str(tmp_path / "nowhere" / "kit.png"))
    assert r.returncode == 2 and "no file at" in r.stderr
    r = cli(tmp_path / "e", *signin, "--kit", code[:-1] + ("A" if code[-1] != "A" else "B"))
    assert r.returncode == 3 and "typo" in r.stderr
    assert not (tmp_path / "d" / "vault.db").exists() and not (tmp_path / "e" / "vault.db").exists()


def test_signup_makes_a_missing_kit_folder_owner_only(tmp_path: Path) -> None:
    kits = tmp_path / "new" / "kit"
    account = ok(tmp_path / "a", "signup", "--email", EMAIL, "--kit-dir", str(kits)).strip()
    assert mode(kits) == 0o700
    written = sorted(kits.iterdir())
    assert [p.name for p in written] == [
        f"Strongroom-Authentication-Kit-{account}.pdf",
        f"Strongroom-Authentication-Kit-{account}.png",
    ]
    assert all(mode(p) == 0o600 for p in written)
    assert "valid" in ok(tmp_path / "a", "kit", "--check", str(written[1]), password=None)
    # a Kit "folder" that is a file: refused before an account exists, saying what to change
    (tmp_path / "taken").write_text("not a folder")
    r = cli(tmp_path / "b", "signup", "--email", EMAIL, "--kit-dir", str(tmp_path / "taken"))
    assert r.returncode == 2 and "is a file" in r.stderr and "--kit-dir" in r.stderr
    assert not (tmp_path / "b" / "vault.db").exists()


def test_a_new_kit_never_replaces_the_old_file(
    device: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """After `passwd` into the folder holding the old Kit, the old files are left as they were
    (issue 20, item 14) and the new Kit is the numbered pair `… (2)`, new owner-only files."""
    home, _, account = device
    png = tmp_path / f"Strongroom-Authentication-Kit-{account}.png"
    pdf = png.with_suffix(".pdf")
    old = {p: (p.stat().st_ino, p.read_bytes()) for p in (png, pdf)}
    r = run_cli(
        cli_env(home, PW, STRONGROOM_NEW_PASSWORD=NEW_PW),
        "passwd",
        "--kit-dir",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert {p: (p.stat().st_ino, p.read_bytes()) for p in (png, pdf)} == old
    new_png = tmp_path / f"Strongroom-Authentication-Kit-{account} (2).png"
    new_pdf = new_png.with_suffix(".pdf")
    assert f"Authentication Kit saved: {new_png}" in r.stderr
    assert mode(new_png) == 0o600 and mode(new_pdf) == 0o600
    assert "valid" in ok(home, "kit", "--check", str(new_png), password=None)
    assert "valid" in ok(home, "kit", "--check", str(new_pdf), password=None)
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_passwd_refuses_a_weak_new_password_and_keeps_the_old_one(
    device: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """The strength floor (zxcvbn score 3, "strong") holds for a password change too."""
    home, _, _ = device
    r = run_cli(
        cli_env(home, PW, STRONGROOM_NEW_PASSWORD="password1"),
        "passwd",
        "--kit-dir",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert r.returncode == 2 and "too easy to guess" in r.stderr and "strong" in r.stderr
    assert ok(home, "get", "Mail", "--field", "password") == "m1\n"  # the old password still opens


def test_backup_create_and_list_use_the_apps_backup_folder(
    device: tuple[Path, Path, str], tmp_path: Path
) -> None:
    home, _, _ = device
    first = Path(ok(home, "backup", "create").strip())
    ok(home, "add", "note", "--title", "Second")
    second = Path(ok(home, "backup", "create").strip())
    assert first.parent == second.parent == home / "backups" and first != second
    assert mode(first) == 0o600
    listed = json.loads(ok(home, "backup", "list", "--json", password=None))
    assert [(Path(e["path"]), e["records"]) for e in listed] == [(second, 2), (first, 1)]
    assert all(e["problem"] is None for e in listed)
    assert str(second) in ok(home, "backup", "list", password=None).splitlines()[0]
    (tmp_path / "empty").mkdir()
    r = cli(home, "backup", "list", str(tmp_path / "empty"), password=None)
    assert r.returncode == 0 and r.stdout == "" and "No backups" in r.stderr


def test_signing_in_again_over_wifi_after_a_reset(
    device: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """A device of the account before a reset signs in again from a Wi-Fi peer of the new
    generation, in place; its old store is kept. Its old Kit is refused."""
    home, _, account = device
    kit, wvk, _ = keymod.wrap(
        NEW_PW, secrets.token_bytes(16), secrets.token_bytes(32), account, 2, 1
    )
    keys = keymod.open_vault_key(kit, *keymod.open_account_key(kit, NEW_PW), wvk)
    peer = Vault.adopt(tmp_path / "peer", KeySlot(EMAIL, kit, wvk, ""), keys, [])
    peer.add(new_record("note", "After the reset"))
    peer.close()
    ok(tmp_path / "peer", "sync", "wifi", "--interface", "127.0.0.1", password=NEW_PW)
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "sync", "serve"],
        env=cli_env(tmp_path / "peer", NEW_PW),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None and "Reachable" in server.stderr.readline()
        wifi = ("signin", "--email", EMAIL, "--wifi", "--interface", "127.0.0.1")
        old_png = tmp_path / f"Strongroom-Authentication-Kit-{account}.png"
        r = cli(home, *wifi, "--kit", str(old_png), password=NEW_PW)
        assert r.returncode == 2 and "already has an account" in r.stderr
        r = cli(home, *wifi, "--code", kit.to_typed_code(), password=NEW_PW)
        assert r.returncode == 0, r.stderr
        assert "kept in" in r.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    titles = {d["title"] for d in json.loads(ok(home, "ls", "--json", password=NEW_PW))}
    assert titles == {"After the reset"}
    assert list((home / "backups").glob("replaced-gen1-*.db"))


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("short", "at least 8 characters"),
        (" padded password ", "start or end with a space"),
        ("password", "too easy to guess: rated very weak"),  # long enough, but top-10 common
    ],
)
def test_signup_refuses_a_password_the_app_refuses(
    tmp_path: Path, password: str, words: str
) -> None:
    r = run_cli(
        cli_env(tmp_path / "a", STRONGROOM_NEW_PASSWORD=password),
        "signup",
        "--email",
        EMAIL,
        cwd=tmp_path,
    )
    assert r.returncode == 2 and words in r.stderr
    assert not (tmp_path / "a" / "vault.db").exists() and not list(tmp_path.glob("*.png"))
