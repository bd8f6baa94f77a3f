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
    assert set(FIXTURES.values()) | {"strongroom-json"} == set(FORMATS)
