"""Sign-up and sign-in through the account server or a Wi-Fi peer (the sync issues' sources).

The cloud steps themselves live in `sync/cloudlink.py` (shared with the TUI); this module adds
only what a terminal needs: the password channels, download progress on stderr, and turning
"sign in again" answers of the server into exit 3 (CLI.md).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..invocation import EXIT_AUTH, EXIT_USAGE, CliError, Context

#: Below this many server revisions a first download is quick: no progress line.
PROGRESS_FROM = 2000


def signin_over_wifi(ctx: Context, email: str, kit: Any, interfaces: list[str]) -> Any:
    import asyncio

    from sync.method import wifi_interfaces
    from sync.wifi import bootstrap

    if kit is None:
        raise CliError(
            "strongroom: signing in over Wi-Fi needs your Authentication Kit (--kit FILE or --code CODE)",
            EXIT_USAGE,
        )
    password = ctx.password()
    return asyncio.run(
        bootstrap(ctx.home, email, password, kit, wifi_interfaces(interfaces), timeout=5.0)
    )


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


def signup_on_server(ctx: Context, url: str, email: str, password: str, hint: str) -> Any:
    from sync.cloudlink import signup

    with server_errors(url):
        return signup(ctx.home, url, email, password, hint)


def signin_on_server(ctx: Context, url: str, email: str, kit: Any) -> Any:
    from sync.cloudlink import signin

    if kit is None:
        raise CliError(
            "strongroom: signing in on a server needs your Authentication Kit (--kit FILE or "
            "--code CODE), or --reset-code CODE after an account reset",
            EXIT_USAGE,
        )
    password = ctx.password()
    with server_errors(url):
        return signin(ctx.home, url, email, password, kit, download_progress())


def signin_after_reset(ctx: Context, url: str, email: str, code: str, hint: str) -> Any:
    """The setup code from the reset page: choose the new Account Password here."""
    from sync.cloudlink import signin_after_reset as after_reset

    from .account import check_new_password, signup_password

    password = signup_password(ctx)
    check_new_password(password)
    with server_errors(url):
        return after_reset(ctx.home, url, email, code.strip(), password, hint, download_progress())


def home_met_reset(home: Path) -> bool:
    """Does this home hold a cloud account (which `signin --server` may replace after a reset)?"""
    from sync.method import config
    from vault.vault import Vault

    vault = Vault.open(home)
    try:
        return config(vault).get("method") == "cloud"
    finally:
        vault.close()
