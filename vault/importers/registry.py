"""Format name (CLI.md) → reader."""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

from ..errors import FormatError, InvalidInputError
from . import (
    apple_csv,
    bitwarden_csv,
    bitwarden_json,
    chrome_csv,
    dashlane,
    enpass_json,
    firefox_csv,
    kdbx,
    keepass_csv,
    keepass_xml,
    keeper_csv,
    keeper_json,
    lastpass_csv,
    msecure_csv,
    nordpass_csv,
    onepassword_1pif,
    onepassword_1pux,
    onepassword_csv,
    pass_store,
    protonpass,
    roboform_csv,
    strongroom_json,
)
from .common import MAX_JSON_BYTES, ImportReport, Reader, bulk, reading_from
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
    "keeper-json": keeper_json.read,
    "dashlane-csv": dashlane.read,
    "dashlane-json": dashlane.read_json,
    "protonpass-json": protonpass.read,
    "enpass-json": enpass_json.read,
    "1password-1pif": onepassword_1pif.read,
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
    "keeper-json": "Keeper (JSON)",
    "dashlane-csv": "Dashlane (CSV zip, or one of its CSVs)",
    "dashlane-json": "Dashlane (JSON)",
    "protonpass-json": "Proton Pass (zip or JSON, unencrypted)",
    "enpass-json": "Enpass (JSON)",
    "1password-1pif": "1Password 4-7 (1PIF)",
    "pass": "pass / gopass store (a folder; your gpg decrypts)",
}
#: Formats read from a folder, not a file: (folder, passphrase or None) → report.
FOLDER_FORMATS = {"pass": pass_store.read_store}


def reader_for(fmt: str) -> Reader:
    if fmt.strip().lower() in FOLDER_FORMATS:
        raise InvalidInputError(f"{fmt} reads a folder, not a file: give the store's folder")
    try:
        return FORMATS[fmt.strip().lower()]
    except KeyError:
        raise InvalidInputError(
            f"unknown import format {fmt!r}; choose one of: {', '.join(FORMATS)}"
        ) from None


def read_stream(
    fmt: str, stream: IO[bytes], secret: FileSecret | None = None, path: Path | None = None
) -> ImportReport:
    """Parse a whole export; FormatError when it is not that format (nothing partial).

    `secret` opens a file locked with its own password (see `secret.py`); `path` is where the
    stream comes from, for files an export keeps beside it."""
    reader = reader_for(fmt)
    try:
        with using(secret), reading_from(path), bulk():
            return reader(stream)
    except RecursionError:
        raise FormatError("the file is nested too deeply to be an export") from None


def read_file(fmt: str, path: Path, secret: FileSecret | None = None) -> ImportReport:
    """Read the export at `path` (a folder for FOLDER_FORMATS: `secret`'s password unlocks the
    key of a pass store's entries, else the user's gpg-agent asks)."""
    folder_reader = FOLDER_FORMATS.get(fmt.strip().lower())
    if folder_reader is not None:
        if not path.is_dir():
            raise InvalidInputError(f"{path} is a file; a {fmt} import reads the store's folder")
        return folder_reader(path, secret.password if secret else None)
    reader_for(fmt)
    if path.is_dir():
        raise InvalidInputError(f"{path} is a folder, not an export file")
    with open(path, "rb") as stream:
        if path.is_file():
            return read_stream(fmt, stream, secret, path)
        # a device or a pipe: read once and at most the largest export (a zip reader looks for
        # its end by reading everything: /dev/zero filled memory through the app's import)
        data = stream.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise InvalidInputError(f"{path} gives more than 256 MiB: not an export")
    return read_stream(fmt, io.BytesIO(data), secret, path)
