"""The CLI end to end, in subprocesses, as a script would use it (CLI.md)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from clikit import cli_env

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "tr0ub4dor & three more words"


def _cmd() -> list[str]:
    exe = shutil.which("strongroom")
    return [exe] if exe else [sys.executable, "-m", "cli"]


class Cli:
    def __init__(self, home: Path, cwd: Path) -> None:
        self.home = home
        self.cwd = cwd

    def run(
        self,
        *args: str,
        password: str | None = PASSWORD,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_cmd(), *args],
            cwd=self.cwd,
            env=cli_env(self.home, password, **(env or {})),
            input=stdin or "",
            capture_output=True,
            text=True,
            timeout=60,
        )

    def ok(self, *args: str, **kw: object) -> str:
        r = self.run(*args, **kw)  # type: ignore[arg-type]
        assert r.returncode == 0, f"{args} → {r.returncode}: {r.stderr}"
        return r.stdout


def assert_error(r: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "home", tmp_path)


@pytest.fixture
def account(cli: Cli) -> tuple[Cli, str]:
    account_id = cli.ok("signup", "--email", "Ann@Example.com", "--kit-dir", str(cli.cwd)).strip()
    return cli, account_id


def test_help_lists_every_command(cli: Cli) -> None:
    out = cli.ok("--help", password=None)
    for name in (
        "signup",
        "kit",
        "ls",
        "get",
        "add",
        "edit",
        "rm",
        "generate",
        "totp",
        "passwd",
        "backup",
        "audit",
        "lock",
    ):
        assert name in out


def test_cli_path_never_imports_textual(account: tuple[Cli, str]) -> None:
    cli, _ = account
    code = (
        "import sys; from cli.main import main; rc = main(['ls']); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual'); "
        "print('TEXTUAL', bad); sys.exit(rc)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        env=cli_env(cli.home, PASSWORD),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "TEXTUAL []" in r.stdout


def test_signup_writes_kit_and_prints_account_id(account: tuple[Cli, str]) -> None:
    cli, account_id = account
    assert len(account_id) == 10 and account_id.isalnum()
    png = cli.cwd / f"Strongroom-Authentication-Kit-{account_id}.png"
    pdf = png.with_suffix(".pdf")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert "valid" in cli.ok("kit", "--check", str(png), password=None)
    assert "valid" in cli.ok("kit", "--check", str(pdf), password=None)
    again = cli.run("signup", "--email", "ann@example.com")
    assert_error(again, 2, "already has an account")


def test_record_lifecycle(account: tuple[Cli, str]) -> None:
    cli, _ = account
    rid = cli.ok(
        "add",
        "login",
        "--title",
        "GitHub",
        "--field",
        "username=ann",
        "--field",
        "password=hunter2-x",
        "--field",
        "url=https://github.com",
        "--tag",
        "work",
        "--tag",
        "dev",
    ).strip()
    cli.ok("add", "note", "--title", "Door codes", "--notes", "front 1234")
    rows = json.loads(cli.ok("ls", "--json"))
    assert [r["title"] for r in rows] == ["Door codes", "GitHub"]
    gh = rows[1]
    assert set(gh) == {
        "id",
        "title",
        "type",
        "username",
        "url",
        "tags",
        "favorite",
        "modified",
        "conflict",
    }
    assert (gh["id"], gh["type"], gh["username"], gh["url"], gh["tags"]) == (
        rid,
        "login",
        "ann",
        "https://github.com",
        ["work", "dev"],
    )
    assert rows[0]["username"] is None and rows[0]["url"] is None
    assert [r["title"] for r in json.loads(cli.ok("ls", "--json", "--tag", "WORK"))] == ["GitHub"]
    assert [r["title"] for r in json.loads(cli.ok("ls", "--json", "--type", "note"))] == [
        "Door codes"
    ]
    assert cli.ok("get", "github", "--field", "PASSWORD") == "hunter2-x\n"
    text = cli.ok("get", "GitHub")
    assert "hunter2-x" not in text and "ann" in text

    cli.ok("edit", rid, "--field", "password=new-secret-2")
    doc = json.loads(cli.ok("get", rid, "--json"))
    assert {f["name"]: f["value"] for f in doc["fields"]}["password"] == "new-secret-2"
    assert doc["history"][0]["fields"] == [
        {"name": "password", "kind": "secret", "value": "hunter2-x"}
    ]
    assert set(doc) >= {
        "id",
        "title",
        "type",
        "fields",
        "notes",
        "tags",
        "favorite",
        "created",
        "modified",
        "conflict",
        "history",
    }
    assert doc["created"].endswith("Z") or doc["created"].endswith("+00:00")

    cli.ok("rm", "GitHub")
    assert_error(cli.run("get", "GitHub"), 1, "no record")
    assert [r["title"] for r in json.loads(cli.ok("ls", "--json"))] == ["Door codes"]


def test_generate_and_totp(account: tuple[Cli, str]) -> None:
    cli, _ = account
    pw = cli.ok("generate", "--length", "32", "--no-symbols", password=None).strip()
    assert len(pw) == 32 and pw.isalnum()
    words = cli.ok("generate", "--words", "6", password=None).strip().split("-")
    assert len(words) == 6
    assert_error(cli.run("generate", "--length", "2", password=None), 2)
    cli.ok(
        "add", "login", "--title", "Bank", "--field", "totp=JBSWY3DPEHPK3PXP", "--generate-password"
    )
    code = cli.ok("totp", "Bank").strip()
    assert len(code) == 6 and code.isdigit()
    assert len(cli.ok("get", "Bank", "--field", "password").strip()) == 20
    cli.ok("add", "note", "--title", "Plain")
    assert_error(cli.run("totp", "Plain"), 1, "one-time password")
    assert_error(cli.run("add", "login", "--title", "X", "--field", "totp=not base32 !!"), 2)


def test_bad_input_gives_exit_code_and_one_line(account: tuple[Cli, str], tmp_path: Path) -> None:
    cli, _ = account
    assert_error(cli.run("ls", password=None), 2, "password")
    assert_error(cli.run("ls", password="wrong password!"), 3, "password")
    assert_error(cli.run("add", "spaceship", "--title", "x"), 2, "unknown record type")
    assert_error(cli.run("add", "login", "--title", "x", "--field", "colour=red"), 2, "no field")
    assert_error(cli.run("add", "login", "--title", "x", "--field", "novalue"), 2, "NAME=VALUE")
    assert_error(cli.run("ls", "--bogus-flag"), 2)
    cli.ok("add", "login", "--title", "Mail work")
    cli.ok("add", "login", "--title", "Mail home")
    assert_error(cli.run("get", "mail"), 2, "Mail work", "Mail home")
    assert_error(cli.run("edit", "Mail work"), 2, "nothing to change")
    assert_error(cli.run("rm", "nothing like this"), 1)

    from PIL import Image, ImageDraw

    cat = Image.new("RGB", (320, 240), (200, 170, 120))
    d = ImageDraw.Draw(cat)
    d.ellipse((80, 60, 240, 200), fill=(90, 60, 30))
    d.polygon([(90, 90), (110, 20), (140, 70)], fill=(90, 60, 30))
    d.polygon([(230, 90), (210, 20), (180, 70)], fill=(90, 60, 30))
    cat.save(tmp_path / "cat.jpg", quality=85)
    assert_error(
        cli.run("kit", "--check", str(tmp_path / "cat.jpg"), password=None), 3, "no QR code"
    )

    from fpdf import FPDF

    blank = FPDF()
    blank.add_page()
    blank.output(str(tmp_path / "empty.pdf"))
    assert_error(
        cli.run("kit", "--check", str(tmp_path / "empty.pdf"), password=None), 3, "no QR code"
    )

    (tmp_path / "noise.png").write_bytes(random.Random(1).randbytes(2000))
    assert_error(cli.run("kit", "--check", str(tmp_path / "noise.png"), password=None), 2)
    assert_error(cli.run("kit", "--check", str(tmp_path / "missing.png"), password=None), 2)

    assert_error(Cli(tmp_path / "nobody", tmp_path).run("ls"), 2, "sign up")
    fresh = Cli(tmp_path / "fresh", tmp_path)
    assert_error(fresh.run("signup", "--email", "not-an-email"), 2, "email")
    assert_error(fresh.run("signup", "--email", "b@example.com", password="short"), 2, "at least")


def test_passwd_outdates_old_kit(account: tuple[Cli, str], tmp_path: Path) -> None:
    cli, account_id = account
    old_png = tmp_path / "old-kit.png"
    shutil.copy(cli.cwd / f"Strongroom-Authentication-Kit-{account_id}.png", old_png)
    cli.ok("add", "login", "--title", "Keep me", "--field", "password=abc-123-xyz")
    newdir = tmp_path / "newkit"
    newdir.mkdir()
    cli.ok(
        "passwd",
        "--kit-dir",
        str(newdir),
        "--password-stdin",
        password=None,
        stdin=f"{PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert_error(cli.run("kit", "--check", str(old_png), password=None), 3, "outdated")
    cli.ok(
        "kit",
        "--check",
        str(newdir / f"Strongroom-Authentication-Kit-{account_id}.png"),
        password=None,
    )
    assert_error(cli.run("ls"), 3, "password")
    assert cli.ok("get", "Keep me", "--field", "password", password=NEW_PASSWORD) == "abc-123-xyz\n"


def test_kit_of_another_account_is_rejected(account: tuple[Cli, str], tmp_path: Path) -> None:
    cli, _ = account
    other = Cli(tmp_path / "other-home", tmp_path / "o")
    other.cwd.mkdir()
    other_id = other.ok("signup", "--email", "bob@example.com").strip()
    r = cli.run(
        "kit",
        "--check",
        str(other.cwd / f"Strongroom-Authentication-Kit-{other_id}.pdf"),
        password=None,
    )
    assert_error(r, 3, "different account")


def test_kit_outputs(account: tuple[Cli, str], tmp_path: Path) -> None:
    cli, _ = account
    code = cli.ok("kit", "--code").strip()
    assert len(code.replace("-", "").replace(" ", "")) >= 109
    drawn = cli.ok("kit", "--terminal")
    assert len(drawn.splitlines()) <= 24 and "\x1b[" in drawn
    cli.ok("kit", "--png", str(tmp_path / "k.png"), "--pdf", str(tmp_path / "k.pdf"))
    assert (tmp_path / "k.png").stat().st_size > 0 and (tmp_path / "k.pdf").stat().st_size > 0
    assert_error(cli.run("kit", "--code", password="nope nope nope"), 3)


def test_backup_create_and_restore(account: tuple[Cli, str], tmp_path: Path) -> None:
    cli, _ = account
    cli.ok("add", "login", "--title", "Saved", "--field", "password=p-1-p")
    file = tmp_path / "vault.srbk"
    cli.ok("backup", "create", str(file))
    assert_error(cli.run("backup", "create", str(file)), 2, "--force")
    cli.ok("rm", "Saved")
    cli.ok("passwd", "--password-stdin", password=None, stdin=f"{PASSWORD}\n{NEW_PASSWORD}\n")
    r = cli.run(
        "backup", "restore", str(file), password=NEW_PASSWORD
    )  # the current password does not open it
    assert_error(r, 3, "in force when it was made")
    cli.ok(
        "backup",
        "restore",
        str(file),
        password=NEW_PASSWORD,
        env={"STRONGROOM_BACKUP_PASSWORD": PASSWORD},
    )
    assert cli.ok("get", "Saved", "--field", "password", password=NEW_PASSWORD) == "p-1-p\n"
    fresh = Cli(tmp_path / "fresh-home", tmp_path)
    fresh.ok("backup", "restore", str(file), password=PASSWORD)
    assert fresh.ok("get", "Saved", "--field", "password") == "p-1-p\n"
    assert_error(
        cli.run("backup", "restore", str(tmp_path / "nope.srbk"), password=NEW_PASSWORD),
        2,
        "no backup",
    )
    (tmp_path / "junk.srbk").write_bytes(b"not a backup at all")
    assert_error(
        cli.run("backup", "restore", str(tmp_path / "junk.srbk"), password=NEW_PASSWORD),
        2,
        "not a Strongroom",
    )
