"""The Authentication Kit as files: one name and one way to write them, for the app and the CLI.

Sign-up, sign-in after a reset, a password change, a key rotation and "save the Kit" all write
`Strongroom-Authentication-Kit-<AccountID>.png` and `.pdf` into a folder the person chose (made
owner-only if it does not exist yet). Each file is written whole and owner-only through the one
durable write (vault/durable.py): a crash never leaves half a Kit, and an older file of the same
name (the Kit before a password change) is replaced only once the new one is complete.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vault.errors import InvalidInputError

if TYPE_CHECKING:
    from vault.keys import KeySlot

STEM = "Strongroom-Authentication-Kit-"


class KitFolderError(InvalidInputError):
    """The Kit cannot be written where the person asked (CLI exit 2); nothing was written."""


def kit_name(account_id: str) -> str:
    """The file name (without suffix) every front end gives this account's Kit."""
    return f"{STEM}{account_id}"


def kit_paths(folder: Path, account_id: str) -> tuple[Path, Path]:
    """(PNG, PDF) of this account's Kit in `folder`."""
    base = folder / kit_name(account_id)
    return base.with_suffix(".png"), base.with_suffix(".pdf")


def kit_folder(folder: Path | str | None) -> Path:
    """The folder the Kit goes to (default: the current one), made owner-only (0700) if missing.

    Called before anything is created, so a folder that cannot be made stops a sign-up early."""
    path = Path(folder or ".").expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except FileExistsError:
        raise KitFolderError(f"{path} is a file, not a folder for the Kit") from None
    except OSError as exc:
        raise KitFolderError(
            f"cannot make the Kit folder {exc.filename or path}: {exc.strerror or exc}"
        ) from None
    return path


def write_kit(slot: KeySlot, png: Path | None = None, pdf: Path | None = None) -> list[Path]:
    """The Kit as PNG (its QR code) and/or PDF (a printable page); returns the paths written."""
    from vault.export import check_target
    from vault.kitfile import render_pdf, render_png

    for path, suffix in ((png, ".png"), (pdf, ".pdf")):
        if path is not None:  # a folder given for a file: said before anything is written
            try:
                check_target(path, kit_name(slot.account_id) + suffix)
            except InvalidInputError as exc:
                raise KitFolderError(str(exc)) from None
    written: list[Path] = []
    for path in (png, pdf):
        if path is None:
            continue
        try:
            if path is png:
                render_png(slot.kit, path)
            else:
                render_pdf(
                    slot.kit,
                    path,
                    email=slot.email,
                    account_id=slot.account_id,
                    created=datetime.now(UTC),
                )
        except OSError as exc:  # the temporary file's name would mean nothing: say the target
            raise KitFolderError(f"cannot write the Kit to {path}: {exc.strerror or exc}") from None
        written.append(path)
    return written


def save_kit(slot: KeySlot, folder: Path | str | None) -> list[Path]:
    """PNG + PDF named after the account into `folder` (made if missing); the paths written."""
    return write_kit(slot, *kit_paths(kit_folder(folder), slot.account_id))
