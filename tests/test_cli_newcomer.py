"""What a newcomer met with careless input (issue 20): each error names the real problem.

A folder where a file is due, an empty stdin for --password-stdin, `-` for stdout, a Kit of
another account for a sync folder: every case through the real CLI in its own process.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from clikit import cli_env, run_cli, run_on_terminal

PW = "newcomer cli password"
EMAIL = "new@example.com"


def cli(
    home: Path, *args: str, password: str | None = PW, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(home, password), *args, cwd=home.parent, stdin=stdin, timeout=90)


def one_line_error(r: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    r = cli(home, "signup", "--email", EMAIL, "--kit-dir", str(tmp_path / "kit"))
    assert r.returncode == 0, r.stderr
    r = cli(home, "add", "login", "--title", "GitHub", "--field", "password=gh-secret")
    assert r.returncode == 0, r.stderr
    return home


def test_a_folder_given_for_a_file_is_named_as_a_folder(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    one_line_error(
        cli(home, "kit", "--png", str(folder)), 2, "is a folder", "give a file name", ".png"
    )
    one_line_error(cli(home, "kit", "--pdf", str(folder)), 2, "is a folder", ".pdf")
    one_line_error(cli(home, "import", "chrome-csv", str(folder)), 2, "is a folder", "export file")
    for force in ((), ("--force",)):  # not "exists; use --force", then "Is a directory"
        line = one_line_error(cli(home, "backup", "create", str(folder), *force), 2, "is a folder")
        assert "--force" not in line and "Is a directory" not in line
    one_line_error(cli(home, "export", "--format", "csv", str(folder), "--yes"), 2, "is a folder")
    assert list(folder.iterdir()) == []  # nothing written anywhere


def test_an_empty_stdin_for_password_stdin_says_stdin_is_empty(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "a")
    r = run_cli(env, "--password-stdin", "signup", "--email", EMAIL, cwd=tmp_path, stdin="")
    one_line_error(r, 2, "--password-stdin", "stdin is empty", "line 1")
    assert not (tmp_path / "a" / "vault.db").exists()


def test_passwd_with_one_stdin_line_asks_for_the_new_password_on_line_2(home: Path) -> None:
    r = run_cli(cli_env(home), "--password-stdin", "passwd", cwd=home.parent, stdin=f"{PW}\n")
    one_line_error(r, 2, "stdin has 1 password line", "line 2", "STRONGROOM_NEW_PASSWORD")


def test_export_dash_writes_stdout_and_no_file_named_dash(home: Path) -> None:
    r = cli(home, "export", "--format", "json", "-", "--yes")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [rec["title"] for rec in doc["records"]] == ["GitHub"]
    assert "stdout" in r.stderr
    assert not (home.parent / "-").exists()
    r = cli(home, "export", "--format", "csv", "-", "--yes")
    assert r.returncode == 0 and r.stdout.startswith("id,type,title,username,password")


def test_export_dash_onto_a_terminal_is_refused(home: Path) -> None:
    code, drawn = run_on_terminal(
        cli_env(home, PW), "export", "--format", "json", "-", "--yes", cwd=home.parent
    )
    assert code == 2 and "stdout, which is a terminal" in drawn
    assert "gh-secret" not in drawn and not (home.parent / "-").exists()


def test_a_kit_of_another_account_for_a_sync_folder_says_so(home: Path, tmp_path: Path) -> None:
    """The folder is right, the Kit is not: exit 3 naming both accounts, not 'no sync file'."""
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    assert cli(home, "sync", "folder", str(folder)).returncode == 0
    held = [d.name for d in folder.iterdir()]
    other = tmp_path / "other"
    r = cli(other, "signup", "--email", "bob@example.com", "--kit-dir", str(tmp_path / "bobkit"))
    assert r.returncode == 0, r.stderr
    bob = r.stdout.strip()
    code = cli(other, "kit", "--code").stdout.strip()
    r = cli(tmp_path / "new", "signin", "--email", EMAIL, "--folder", str(folder), "--code", code)
    line = one_line_error(
        r, 3, f"account {bob}", f"holds account {held[0]}", "another account's Kit"
    )
    assert "no sync file" not in line
    # a folder holding no account at all still asks whether it is the right folder
    (tmp_path / "empty").mkdir()
    r = cli(
        tmp_path / "new",
        "signin",
        "--email",
        EMAIL,
        "--folder",
        str(tmp_path / "empty"),
        "--code",
        code,
    )
    one_line_error(r, 4, "no sync file", "right folder")
