"""The import screen's format guess (vault/importers/sniff.py) on every format's fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from vault.importers import FORMATS, read_file
from vault.importers.sniff import guess_bytes, guess_format

DATA = Path(__file__).resolve().parent / "data" / "import"
FIXTURES = {
    "1password.1pux": "1password-1pux",
    "1password.csv": "1password-csv",
    "bitwarden.csv": "bitwarden-csv",
    "bitwarden.json": "bitwarden-json",
    "chrome.csv": "chrome-csv",
    "firefox.csv": "firefox-csv",
    "keepass.csv": "keepass-csv",
    "keepass.xml": "keepass-xml",
    "msecure.csv": "msecure-csv",
    "real/passimport-lastpass.csv": "lastpass-csv",
    "real/passimport-nordpass.csv": "nordpass-csv",
    "real/passimport-roboform.csv": "roboform-csv",
    "real/passimport-keepass2.csv": "keepass-csv",
    "real/passimport-keepassx.xml": "keepass-xml",
    "real/passimport-1password6.csv": "1password-csv",
    "real/bitwarden-keeper.csv": "keeper-csv",
    "real/keepassxc-bitwarden_passkey_export.json": "bitwarden-json",
    "real/protonpass-keeper.json": "keeper-json",
    "real/protonpass-dashlane-payments.csv": "dashlane-csv",
    "real/passimport-dashlane.json": "dashlane-json",
    "real/bitwarden-protonpass.json": "protonpass-json",
    "real/passimport-enpass.json": "enpass-json",
    "real/passimport-1password.1pif": "1password-1pif",
}


@pytest.mark.parametrize("name, fmt", sorted(FIXTURES.items()))
def test_each_fixture_is_guessed_as_the_format_that_reads_it(name: str, fmt: str) -> None:
    assert guess_format(DATA / name) == fmt
    assert read_file(fmt, DATA / name).records  # the guess is one the reader accepts


def test_strongroom_json_and_unknowns() -> None:
    assert (
        guess_bytes(b'\xef\xbb\xbf{"format": "strongroom-json", "version": 1, "records": []}')
        == "strongroom-json"
    )
    assert guess_bytes(b'{"encrypted": true, "items": []}') == "bitwarden-json"
    assert guess_bytes(b'{"something": "else"}') is None
    assert guess_bytes(b"<html><body>") is None
    assert guess_bytes(b"a,b,c\n1,2,3\n") is None
    assert guess_bytes(b"\x00\xff\xfe garbage") is None
    assert guess_bytes(b"") is None
    assert guess_format(DATA / "no-such-file") is None
    # keepass-kdbx needs its password: guessed and read in tests/test_import_locked.py
    assert set(FIXTURES.values()) | {"strongroom-json", "apple-csv", "keepass-kdbx"} == set(FORMATS)


def test_apple_headers_and_ambiguous_ones() -> None:
    """Apple's two headers exactly; a lower-case title/url/username/password header (1Password
    4) could be more than one manager: no single guess, both candidates."""
    from vault.importers.sniff import candidates

    assert guess_bytes(b"Title,URL,Username,Password,Notes,OTPAuth\r\nA,https://a,u,p,,\r\n") == (
        "apple-csv"
    )
    assert guess_bytes(b"Title,Url,Username,Password\nA,https://a,u,p\n") == "apple-csv"
    head = (DATA / "real/passimport-1password4.csv").read_bytes()
    assert guess_bytes(head) is None
    assert candidates(head) == ["1password-csv", "apple-csv"]
    # a semicolon re-save is still recognised
    assert guess_bytes(b"url;username;password;extra;name;grouping;fav\n") == "lastpass-csv"
