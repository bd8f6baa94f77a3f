"""What the terminal adds to the Kit files of runtime/kitfiles.py: the flag to fix a bad folder
with, and the lines saying where the Kit went."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..invocation import EXIT_USAGE, CliError


@contextmanager
def kit_dir_errors() -> Iterator[None]:
    """A Kit folder that cannot be made or written: exit 2, naming --kit-dir as the way out."""
    from runtime.kitfiles import KitFolderError

    try:
        yield
    except KitFolderError as exc:
        raise CliError(
            f"strongroom: {exc}; choose another place with --kit-dir", EXIT_USAGE
        ) from None


def note_kit_written(paths: list[Path]) -> None:
    for p in paths:
        print(f"Authentication Kit saved: {p}", file=sys.stderr)
    if paths:
        print(
            "Keep it somewhere safe: with your Account Password it signs in a new device.",
            file=sys.stderr,
        )
