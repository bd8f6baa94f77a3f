"""Format name (CLI.md) → reader."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from ..errors import FormatError, InvalidInputError
from . import (
    apple_csv,
    bitwarden_csv,
    bitwarden_json,
    chrome_csv,
    firefox_csv,
    kdbx,
    keepass_csv,
    keepass_xml,
    keeper_csv,
    lastpass_csv,
    msecure_csv,
    nordpass_csv,
    onepassword_1pux,
    onepassword_csv,
    roboform_csv,
    strongroom_json,
)
from .common import ImportReport, Reader, bulk
from .secret import FileSecret, using

FORMATS: dict[str, Reader] = {
    "strongroom-json": strongroom_json.read,
    "msecure-csv": msecure_csv.read,
    "1password-csv": onepassword_csv.read,
    "1password-1pux": onepassword_1pux.read,
    "bitwarden-json": bitwarden_json.read,
    "bitwarden-csv": bitwarden_csv.read,
    "keepass-csv": keepass_csv.read,
    "keepass-xml": keepass_xml.read,
    "keepass-kdbx": kdbx.read,
    "chrome-csv": chrome_csv.read,
    "firefox-csv": firefox_csv.read,
    "lastpass-csv": lastpass_csv.read,
    "apple-csv": apple_csv.read,
    "nordpass-csv": nordpass_csv.read,
    "roboform-csv": roboform_csv.read,
    "keeper-csv": keeper_csv.read,
}
#: What each format is, as a person would recognise the source (the app's list, the CLI's report).
LABELS = {
    "strongroom-json": "Strongroom (JSON export)",
    "msecure-csv": "mSecure 5/6 (CSV)",
    "1password-csv": "1Password (CSV)",
    "1password-1pux": "1Password (1PUX)",
    "bitwarden-json": "Bitwarden (JSON, plain or password-protected)",
    "bitwarden-csv": "Bitwarden (CSV)",
    "keepass-csv": "KeePassXC / KeePass 2 (CSV)",
    "keepass-xml": "KeePass 2 / KeePassX (XML)",
    "keepass-kdbx": "KeePass / KeePassXC database (.kdbx)",
    "chrome-csv": "Chrome, Edge, Brave, Opera, Vivaldi (CSV)",
    "firefox-csv": "Firefox (CSV)",
    "lastpass-csv": "LastPass (CSV)",
    "apple-csv": "Apple Passwords / Safari (CSV)",
    "nordpass-csv": "NordPass (CSV)",
    "roboform-csv": "RoboForm (CSV)",
    "keeper-csv": "Keeper (CSV)",
}


def reader_for(fmt: str) -> Reader:
    try:
        return FORMATS[fmt.strip().lower()]
    except KeyError:
        raise InvalidInputError(
            f"unknown import format {fmt!r}; choose one of: {', '.join(FORMATS)}"
        ) from None


def read_stream(fmt: str, stream: IO[bytes], secret: FileSecret | None = None) -> ImportReport:
    """Parse a whole export; FormatError when it is not that format (nothing partial).

    `secret` opens a file locked with its own password (see `secret.py`)."""
    reader = reader_for(fmt)
    try:
        with using(secret), bulk():
            return reader(stream)
    except RecursionError:
        raise FormatError("the file is nested too deeply to be an export") from None


def read_file(fmt: str, path: Path, secret: FileSecret | None = None) -> ImportReport:
    reader_for(fmt)
    if path.is_dir():
        raise InvalidInputError(f"{path} is a folder, not an export file")
    with open(path, "rb") as stream:
        return read_stream(fmt, stream, secret)
