"""Writing the Authentication Kit's PNG and PDF for signup, passwd and kit."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..invocation import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from vault.keys import KeySlot


def kit_basename(slot: KeySlot) -> str:
    return f"Strongroom-Authentication-Kit-{slot.account_id}"


def write_kit(slot: KeySlot, png: Path | None = None, pdf: Path | None = None) -> list[Path]:
    """Save the Kit as PNG and/or PDF; returns the paths written."""
    from vault.kitfile import render_pdf, render_png

    written: list[Path] = []
    try:
        if png is not None:
            render_png(slot.kit, png)
            written.append(png)
        if pdf is not None:
            render_pdf(
                slot.kit,
                pdf,
                email=slot.email,
                account_id=slot.account_id,
                created=datetime.now(UTC),
            )
            written.append(pdf)
    except OSError as exc:
        raise CliError(
            f"strongroom: cannot write the Kit to {exc.filename or 'that folder'}: "
            f"{exc.strerror or exc}; choose another place with --kit-dir",
            EXIT_USAGE,
        ) from None
    return written


def write_kit_dir(slot: KeySlot, kit_dir: str | None) -> list[Path]:
    """PNG + PDF named after the account into `kit_dir` (default: the current folder)."""
    folder = Path(kit_dir or ".").expanduser()
    if not folder.is_dir():
        raise CliError(
            f"strongroom: the Kit folder {folder} does not exist; create it or choose another "
            "with --kit-dir",
            EXIT_USAGE,
        )
    base = kit_basename(slot)
    return write_kit(slot, folder / f"{base}.png", folder / f"{base}.pdf")


def note_kit_written(paths: list[Path]) -> None:
    for p in paths:
        print(f"Authentication Kit saved: {p}", file=sys.stderr)
    if paths:
        print(
            "Keep it somewhere safe: with your Account Password it signs in a new device.",
            file=sys.stderr,
        )
