"""The Authentication Kit as files: one name and one way to write them, for the app and the CLI.

Sign-up, sign-in after a reset, a password change, a key rotation and "save the Kit" all write
`Strongroom-Authentication-Kit-<AccountID>.png` and `.pdf` into a folder: the one the person
chose (`--kit-dir`; made owner-only if it does not exist yet), else the CLI's current folder,
else the app's default (`default_kit_folder`: the user's documents folder, or home). A Kit never
replaces a file: when the names are taken (the Kit before a password change, a Kit saved twice)
the new pair is numbered, `… (2).png` and `… (2).pdf`, the same number for both. Each file is
written whole and owner-only through the one durable write (vault/durable.py), its name given
only if still free, so a crash never leaves half a Kit and a file written meanwhile is never lost.
An explicit file (`strongroom kit --png F`) is written where it is asked to be, as before.
"""

from __future__ import annotations

import os
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


def kit_paths(folder: Path, account_id: str, number: int = 1) -> tuple[Path, Path]:
    """(PNG, PDF) of this account's Kit in `folder`; `number` > 1 gives the numbered pair."""
    name = kit_name(account_id) + (f" ({number})" if number > 1 else "")
    return folder / f"{name}.png", folder / f"{name}.pdf"


def free_kit_paths(folder: Path, account_id: str, start: int = 1) -> tuple[int, Path, Path]:
    """The first pair from `start` on whose names are both free (a link counts as taken)."""
    number = start
    while True:
        png, pdf = kit_paths(folder, account_id, number)
        if not (os.path.lexists(png) or os.path.lexists(pdf)):
            return number, png, pdf
        number += 1


def default_kit_folder() -> Path:
    """Where the app saves a Kit when nobody chose a folder: the user's documents folder
    (platformdirs: XDG_DOCUMENTS_DIR or ~/Documents on Linux) when it exists, else the home
    folder. Never the folder the app happened to be started from (a project, a git checkout)."""
    import platformdirs

    documents = Path(platformdirs.user_documents_dir())
    return documents if documents.is_dir() else Path.home()


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


def write_kit(
    slot: KeySlot, png: Path | None = None, pdf: Path | None = None, *, replace: bool = True
) -> list[Path]:
    """The Kit as PNG (its QR code) and/or PDF (a printable page); returns the paths written.
    `replace=False`: FileExistsError when a name is taken (nothing overwritten)."""
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
                render_png(slot.kit, path, replace=replace)
            else:
                render_pdf(
                    slot.kit,
                    path,
                    email=slot.email,
                    account_id=slot.account_id,
                    created=datetime.now(UTC),
                    replace=replace,
                )
        except FileExistsError:
            if replace:
                raise
            for done in written:  # taken meanwhile: the caller tries the next number
                done.unlink(missing_ok=True)
            raise
        except OSError as exc:  # the temporary file's name would mean nothing: say the target
            raise KitFolderError(f"cannot write the Kit to {path}: {exc.strerror or exc}") from None
        written.append(path)
    return written


def save_kit(slot: KeySlot, folder: Path | str | None) -> list[Path]:
    """PNG + PDF named after the account into `folder` (made if missing), numbered when the
    names are taken, never over a file; the paths written."""
    where = kit_folder(folder)
    number = 1
    for _ in range(100):  # another writer taking the same names each time: give up, saying so
        number, png, pdf = free_kit_paths(where, slot.account_id, number)
        try:
            return write_kit(slot, png, pdf, replace=False)
        except FileExistsError:
            number += 1
    raise KitFolderError(f"cannot find a free name for the Kit in {where}")
