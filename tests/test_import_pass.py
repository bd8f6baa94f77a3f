"""pass / gopass stores decrypted by a real gpg: pass-import's sample store with its own test
keyring (tests/data/SOURCES.md), and stores made here with a throwaway key (without and with a
passphrase, given through loopback pinentry), through the reader and the CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from clikit import cli_env, run_cli
from gpgkit import GPG, gnupg_home, make_store, stop_agent, throwaway_key
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.errors import FormatError, InvalidInputError, WrongFileSecretError
from vault.importers import read_file
from vault.importers.common import ImportReport, build, left_out
from vault.importers.pass_store import parse
from vault.importers.secret import FileSecret
from vault.importers.sniff import path_candidates

REAL = Path(__file__).parent / "data" / "import" / "real"
needs_gpg = pytest.mark.skipif(GPG is None, reason="gpg is not installed")


@pytest.fixture
def gnupg(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with gnupg_home() as home:
        monkeypatch.setenv("GNUPGHOME", str(home))
        yield home


_throwaway_key = throwaway_key
_store = make_store


GOPASS_ENTRY = (
    b"s3cr3t-Pa55\n---\nuser: ann\nurl: https://mail.example.com\nrecovery code: 1234-5678\n"
    b"otpauth://totp/Example:ann?secret=JBSWY3DPEHPK3PXP&issuer=Example\n"
)
ENTRIES = {
    "Work/Mail/ann@example.com": GOPASS_ENTRY,
    "Bank/aib": b"pw-aib\nlogin: dpbx\ncomments: first line\nsecond line\n",
    "plain": b"only-a-password\n",
    "Files/scan": b"\x89PNG\r\n\x1a\n\x00\xff binary",
}


@needs_gpg
def test_pass_import_sample_store_with_its_own_keyring(gnupg: Path) -> None:
    shutil.copytree(
        REAL / "passimport-gnupg", gnupg, dirs_exist_ok=True, ignore=shutil.ignore_patterns("S.*")
    )
    gnupg.chmod(0o700)
    store = REAL / "passimport-pass-store"
    assert path_candidates(store) == ["pass"]
    report = read_file("pass", store)
    t = {r.title: r for r in report.records}
    assert len(report.records) == 15
    assert t["aib"].value("password") == "ws5T@;_UB[Q|P!8'`~z%XC'JHFUbf#IX _E0}:HF,[{ei0hBg14"
    assert t["aib"].value("username") == "dpbx@fner.ws" and t["aib"].notes == "Pin: 462916"
    assert t["dpbx@fner.ws"].tags == ("Emails/WS",)
    mastodon = t["mastodon.social"]
    assert mastodon.value("totp") == "otpauth://totp/mastodon.social:ostqxi?secret=JBSWY3DPEHPK3PXP"
    assert mastodon.value("url") == "mastodon.social/"
    note = t["note"]  # its first line is already "comments: …": no password line
    assert note.type == "note" and note.notes.startswith("This is a multiline note entry.")
    assert note.notes.endswith("unbeaten sift.")
    assert not any(r.title in ("filename", ".filename") for r in report.records)  # hidden
    assert [p.where for p in report.problems] == ["file CornerCases/filename"]


@needs_gpg
def test_throwaway_key_store_gopass_layout_folders_and_binary(gnupg: Path, tmp_path: Path) -> None:
    key = _throwaway_key(gnupg)
    store = _store(gnupg, tmp_path / "store", key, ENTRIES)
    report = read_file("pass", store)
    t = {r.title: r for r in report.records}
    mail = t["ann@example.com"]
    assert mail.tags == ("Work/Mail",)
    assert (mail.value("password"), mail.value("username"), mail.value("url")) == (
        "s3cr3t-Pa55",
        "ann",
        "https://mail.example.com",
    )
    assert mail.value("totp").startswith("otpauth://totp/Example:ann")
    recovery = next(f for f in mail.fields if f.name == "recovery code")
    assert recovery.kind.concealed  # its name says secret
    assert t["aib"].notes == "first line\nsecond line" and t["aib"].value("username") == "dpbx"
    assert t["plain"].value("password") == "only-a-password" and t["plain"].tags == ()
    assert left_out(report.problems) == {"attachment": 1}
    assert "Files/scan" in next(p.where for p in report.problems if p.lost)


@needs_gpg
def test_passphrase_key_through_loopback_and_a_wrong_one(gnupg: Path, tmp_path: Path) -> None:
    key = _throwaway_key(gnupg, "correct horse battery")
    store = _store(gnupg, tmp_path / "store", key, {"site": b"pw1\nuser: ann\n"})
    with pytest.raises(WrongFileSecretError, match="passphrase"):
        read_file("pass", store, FileSecret("wrong passphrase"))
    (rec,) = read_file("pass", store, FileSecret("correct horse battery")).records
    assert rec.value("password") == "pw1" and rec.value("username") == "ann"


@needs_gpg
def test_cli_guesses_a_store_and_reads_it_with_the_passphrase_from_the_environment(
    gnupg: Path, tmp_path: Path
) -> None:
    key = _throwaway_key(gnupg, "store passphrase")
    store = _store(gnupg, tmp_path / "store", key, ENTRIES)
    home = tmp_path / "home"
    env = cli_env(home, "cli pass import password", GNUPGHOME=str(gnupg))
    kit = tmp_path / "kit"
    kit.mkdir()
    assert (
        run_cli(env, "signup", "--email", "ann@example.com", "--kit-dir", str(kit)).returncode == 0
    )
    env_pw = env | {"STRONGROOM_IMPORT_PASSWORD": "store passphrase"}
    dry = run_cli(env_pw, "import", str(store), "--dry-run", "--json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    doc = json.loads(dry.stdout)
    assert doc["format"] == "pass" and doc["guessed"] and doc["imported"] == 3
    assert doc["not_imported"] == {"attachment": 1}
    assert [p["where"] for p in doc["problems"]] == ["entry Files/scan"]
    done = run_cli(env_pw, "import", str(store), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Reading store as pass / gopass store")
    assert "Imported 3 records" in done.stdout and "s3cr3t" not in done.stdout
    assert "Not imported: 1 attachment" in done.stdout
    stop_agent(gnupg)  # it cached the right passphrase
    wrong = run_cli(
        env | {"STRONGROOM_IMPORT_PASSWORD": "not it"}, "import", "pass", str(store), cwd=tmp_path
    )
    assert wrong.returncode == 3 and "passphrase" in wrong.stderr, wrong.stderr
    plain = tmp_path / "not-a-store"
    plain.mkdir()
    refused = run_cli(env, "import", str(plain), cwd=tmp_path)
    assert refused.returncode == 2 and ".gpg-id" in refused.stderr


def test_a_store_that_gpg_cannot_open_is_one_clear_error(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "Mail").mkdir(parents=True)
    (store / ".gpg-id").write_text("ABCDEF\n")
    (store / "Mail" / "x.gpg").write_bytes(b"not an OpenPGP message")
    with pytest.raises(FormatError, match="could not decrypt any entry"):
        read_file("pass", store)
    with pytest.raises(InvalidInputError, match="folder"):
        read_file("pass", store / ".gpg-id")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FormatError, match="no .gpg entries"):
        read_file("pass", empty)


@settings(max_examples=200, deadline=None)
@given(content=st.text(max_size=300), title=st.text(min_size=1, max_size=20))
def test_fuzz_entry_text_never_crashes(content: str, title: str) -> None:
    """Any decrypted text makes a record or a listed skip; the first line is the password
    unless it is a known `key: value` line."""
    report = ImportReport("pass")
    draft = parse(content, title, "a/b")
    build(draft, report, "entry x")
    first = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")[0]
    if report.records and first.strip() and ":" not in first:
        assert report.records[0].value("password") == first
