"""Format name (CLI.md) → reader."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from ..errors import FormatError, InvalidInputError
from . import (
    bitwarden_csv,
    bitwarden_json,
    chrome_csv,
    firefox_csv,
    keepass_csv,
    keepass_xml,
    msecure_csv,
    onepassword_1pux,
    onepassword_csv,
    strongroom_json,
)
from .common import ImportReport, Reader

FORMATS: dict[str, Reader] = {
    "strongroom-json": strongroom_json.read,
    "msecure-csv": msecure_csv.read,
    "1password-csv": onepassword_csv.read,
    "1password-1pux": onepassword_1pux.read,
    "bitwarden-json": bitwarden_json.read,
    "bitwarden-csv": bitwarden_csv.read,
    "keepass-csv": keepass_csv.read,
    "keepass-xml": keepass_xml.read,
    "chrome-csv": chrome_csv.read,
    "firefox-csv": firefox_csv.read,
}


def reader_for(fmt: str) -> Reader:
    try:
        return FORMATS[fmt.strip().lower()]
    except KeyError:
        raise InvalidInputError(
            f"unknown import format {fmt!r}; choose one of: {', '.join(FORMATS)}"
        ) from None


def read_stream(fmt: str, stream: IO[bytes]) -> ImportReport:
    """Parse a whole export; FormatError when it is not that format (nothing partial)."""
    reader = reader_for(fmt)
    try:
        return reader(stream)
    except RecursionError:
        raise FormatError("the file is nested too deeply to be an export") from None


def read_file(fmt: str, path: Path) -> ImportReport:
    reader_for(fmt)
    if path.is_dir():
        raise InvalidInputError(f"{path} is a folder, not an export file")
    with open(path, "rb") as stream:
        return read_stream(fmt, stream)
