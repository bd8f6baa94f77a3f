"""What a terminal adds to the account server's steps (runtime/account.py, sync/cloudlink.py):
download progress on stderr, and the server's "sign in again" answers as exit 3 (CLI.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..invocation import EXIT_AUTH, EXIT_USAGE, CliError

#: Below this many server revisions a first download is quick: no progress line.
PROGRESS_FROM = 2000


@contextmanager
def server_errors(url: str) -> Iterator[None]:
    """A session the server no longer accepts, or a refused sign-in, is exit 3 ("sign in again"); a
    password change or reset elsewhere keeps its own message (vault errors, exit 3 already)."""
    from sync.cloud import CloudAuthError, CloudError
    from vault.errors import EpochChangedError, GenerationChangedError

    try:
        yield
    except (EpochChangedError, GenerationChangedError):
        raise
    except CloudAuthError as exc:
        raise CliError(f"strongroom: {exc} (server {url})", EXIT_AUTH) from None
    except CloudError as exc:
        if exc.code == "account_exists":
            raise CliError(
                f"strongroom: {exc}; sign in instead with `strongroom signin --server {url}`",
                EXIT_USAGE,
            ) from None
        if exc.code == "link_invalid":  # a wrong, used or expired setup code
            raise CliError(
                f"strongroom: {exc}; ask for a new reset email with `strongroom reset`", EXIT_AUTH
            ) from None
        raise


def download_progress(stream: Any = None) -> Callable[[int, int], None]:
    """`progress(done, total)` for a first sync: a percentage on stderr when the vault is large."""
    out = stream or sys.stderr
    shown = {"any": False}

    def progress(done: int, total: int) -> None:
        # Called after each downloaded page: shown only while more pages follow (a first sign-in).
        if total < PROGRESS_FROM or (done >= total and not shown["any"]):
            return
        shown["any"] = True
        end = "\n" if done >= total else ""
        out.write(
            f"\rDownloading the vault: {min(done, total)}/{total} ({100 * min(done, total) // total}%)"
            + end
        )
        out.flush()

    return progress
