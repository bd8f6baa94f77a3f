"""`strongroom import` / `strongroom export` end to end in subprocesses: exit codes, messages, files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest
from clikit import cli_env, run_cli

PASSWORD = "import cli password"
DATA = Path(__file__).parent / "data" / "import"


class Cli:
    def __init__(self, home: Path, cwd: Path) -> None:
        self.home, self.cwd = home, cwd

    def run(self, *args: str, password: str | None = PASSWORD) -> subprocess.CompletedProcess[str]:
        return run_cli(cli_env(self.home, password), *args, cwd=self.cwd)

    def ok(self, *args: str) -> str:
        r = self.run(*args)
        assert r.returncode == 0, f"{args} → {r.returncode}: {r.stderr}"
        return r.stdout


def _one_error_line(r: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    c = Cli(tmp_path / "home", tmp_path)
    c.ok("signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path))
    return c


def test_import_export_round_trip_and_exit_codes(cli: Cli, tmp_path: Path) -> None:
    out = cli.ok("import", "bitwarden-json", str(DATA / "bitwarden.json"))
    assert out.startswith("Imported 7 records from bitwarden.json (bitwarden-json)")
    assert "item 8: unknown Bitwarden item type 99" in out
    assert "p@ss" not in out  # no secret in the report
    again = json.loads(cli.ok("import", "bitwarden-json", str(DATA / "bitwarden.json"), "--json"))
    assert again["imported"] == 0 and len(again["duplicates"]) == 7
    dry = json.loads(
        cli.ok("import", "chrome-csv", str(DATA / "chrome.csv"), "--dry-run", "--json")
    )
    assert dry["imported"] == 4 and dry["dry_run"]
    assert len(json.loads(cli.ok("ls", "--json"))) == 7

    target = tmp_path / "out.json"
    _one_error_line(cli.run("export", "--format", "json", str(target)), 2, "--yes", "plain text")
    assert not target.exists()
    said = cli.ok("export", "--format", "json", str(target), "--yes")
    assert str(target) in said and "7 records" in said
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    _one_error_line(
        cli.run("export", "--format", "json", str(target), "--yes"), 2, "exists", "--force"
    )
    cli.ok("export", "--format", "csv", str(tmp_path / "out.csv"), "--yes")
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == 0o600

    fresh = Cli(tmp_path / "home2", tmp_path)
    (tmp_path / "kit2").mkdir()
    fresh.ok("signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path / "kit2"))
    assert fresh.ok("import", "strongroom-json", str(target)).startswith("Imported 7 records")
    original = {r["id"]: r for r in json.loads(cli.ok("ls", "--json"))}
    copied = {r["id"]: r for r in json.loads(fresh.ok("ls", "--json"))}
    assert original == copied


def test_bad_files_exit_2_and_change_nothing(cli: Cli, tmp_path: Path) -> None:
    cli.ok("import", "keepass-xml", str(DATA / "keepass.xml"))
    before = cli.ok("ls", "--json")
    truncated = tmp_path / "t.json"
    truncated.write_bytes((DATA / "bitwarden.json").read_bytes()[:500])
    _one_error_line(
        cli.run("import", "bitwarden-json", str(truncated), password=None),
        2,
        "cannot import",
        "complete",
        "nothing was imported",
    )
    _one_error_line(
        cli.run("import", "keepass-xml", str(DATA / "chrome.csv"), password=None), 2, "not XML"
    )
    _one_error_line(
        cli.run("import", "chrome-csv", str(DATA / "keepass.csv"), password=None), 2, "keepass-csv"
    )
    _one_error_line(
        cli.run("import", "chrome-csv", str(tmp_path / "missing.csv"), password=None), 2, "no file"
    )
    _one_error_line(
        cli.run("import", "nosuch-csv", str(DATA / "chrome.csv"), password=None),
        2,
        "invalid choice",
    )
    _one_error_line(
        cli.run("import", "chrome-csv", str(DATA / "chrome.csv"), password="wrong password!"), 3
    )
    assert cli.ok("ls", "--json") == before


REAL = DATA / "real"


def test_import_without_format_guesses_says_so_and_refuses_when_unsure(
    cli: Cli, tmp_path: Path
) -> None:
    out = cli.ok("import", str(REAL / "passimport-lastpass.csv"))
    first, second = out.splitlines()[:2]
    assert "as LastPass (CSV) (lastpass-csv), guessed" in first
    assert second.startswith("Imported 14 records from passimport-lastpass.csv (lastpass-csv)")
    # a header two managers write: refused, naming both
    _one_error_line(
        cli.run("import", str(REAL / "passimport-1password4.csv"), password=None),
        2,
        "could be any of",
        "1password-csv",
        "apple-csv",
    )
    # nothing to go on: refused, naming the formats
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("a,b,c\n1,2,3\n")
    _one_error_line(cli.run("import", str(unknown), password=None), 2, "cannot tell", "keeper-csv")
    # the ambiguous one with its format given imports (its entries differ in tags only: the
    # same as the LastPass file's, so all are recognised as already there)
    given = cli.ok("import", "1password-csv", str(REAL / "passimport-1password4.csv"))
    assert given.startswith("Imported 0 records") and "14 already in the vault" in given


def test_dry_run_json_names_every_problem_and_what_is_not_imported(cli: Cli) -> None:
    report = json.loads(
        cli.ok(
            "import", str(REAL / "keepassxc-bitwarden_passkey_export.json"), "--dry-run", "--json"
        )
    )
    assert report["format"] == "bitwarden-json" and report["guessed"] and report["dry_run"]
    assert report["imported"] == 2 and report["not_imported"] == {"passkey": 2}
    assert [p["where"] for p in report["problems"]] == ["item 1", "item 2"]
    assert all(p["lost"] == "passkey" and not p["skipped"] for p in report["problems"])
    text = cli.ok("import", "bitwarden-json", str(REAL / "keepassxc-bitwarden_passkey_export.json"))
    assert "Not imported: 2 passkeys" in text and "item 2:" in text
    nordpass = json.loads(
        cli.ok(
            "import", "nordpass-csv", str(REAL / "passimport-nordpass.csv"), "--dry-run", "--json"
        )
    )
    assert sum(p["skipped"] for p in nordpass["problems"]) == 6  # the folder rows, each named


def _feed_fifo(path: Path, data: bytes) -> threading.Thread:
    """A FIFO at `path` that gives `data` once, as `import <(cat FILE)` does."""
    os.mkfifo(path)

    def write() -> None:
        with open(path, "wb") as f:
            f.write(data)

    t = threading.Thread(target=write, daemon=True)
    t.start()
    return t


def test_import_from_a_pipe_reads_it_once(cli: Cli, tmp_path: Path) -> None:
    """Guessing the format read the pipe's first 64 KiB and the import then found it empty
    ('this is not a Bitwarden CSV export: the file is empty'); a device was read without end."""
    export = (DATA / "real" / "passimport-bitwarden.csv").read_bytes()
    writer = _feed_fifo(tmp_path / "fifo", export)
    r = cli.run("import", str(tmp_path / "fifo"), "--json")
    writer.join(timeout=60)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["format"] == "bitwarden-csv" and report["imported"] == 14
    _one_error_line(cli.run("import", "chrome-csv", "/dev/zero"), 2, "more than 256 MiB")
