"""The CLI's words (issue 20, item 15): `unlock` says how long in words ("1 minute", not "1m");
`kit --check` says an old Kit was replaced by an Account Key rotation when that is what made it
invalid, and that the password was changed when that is; counts agree with their noun."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clikit import cli_env, run_cli

from vault.vault import Vault

PW = "cli wording password"
NEW_PW = "a different cli wording passphrase"


def cli(
    home: Path, *args: str, password: str | None = PW, **env: str
) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(home, password, **env), *args, cwd=home.parent, timeout=90)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    r = cli(home, "signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path / "kit0"))
    assert r.returncode == 0, r.stderr
    return home


def test_a_kit_replaced_by_a_rotation_says_so(home: Path, tmp_path: Path) -> None:
    first = next((tmp_path / "kit0").glob("*.png"))
    v = Vault.open(home)
    v.unlock(PW)
    v.rotate_account_key(PW)  # what the app's Settings → r does, on this device
    v.close()
    r = cli(home, "kit", "--check", str(first), password=None)
    assert r.returncode == 3, r.stderr
    assert "replaced by an Account Key rotation" in r.stderr and "password" not in r.stderr


def test_a_kit_from_before_a_password_change_says_so(home: Path, tmp_path: Path) -> None:
    first = next((tmp_path / "kit0").glob("*.png"))
    r = cli(home, "passwd", "--kit-dir", str(tmp_path / "kit1"), STRONGROOM_NEW_PASSWORD=NEW_PW)
    assert r.returncode == 0, r.stderr
    r = cli(home, "kit", "--check", str(first), password=None)
    assert r.returncode == 3
    assert "the Account Password was changed after it was made" in r.stderr
    assert "rotation" not in r.stderr


def test_unlock_says_the_time_in_words(home: Path) -> None:
    r = cli(home, "unlock", "--timeout", "1m")
    try:
        assert r.returncode == 0, r.stderr
        assert "locks again after 1 minute without use" in r.stderr and "1m" not in r.stderr
    finally:
        cli(home, "lock", password=None)
