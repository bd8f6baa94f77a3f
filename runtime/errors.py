"""One mapping from an error of vault/ or sync/ to what a person is told.

Both front ends use it: the CLI turns the category into its exit code (CLI.md), the app into a
notification. The categories are the CLI's exit codes, which scripts outside this repo rely on.
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_NO_MATCH, EXIT_USAGE, EXIT_AUTH, EXIT_SYNC = 0, 1, 2, 3, 4
#: Reserved for a bug: no input may ever reach it (a test that finds a way is a bug to fix).
EXIT_INTERNAL = 70
#: The vault stayed busy (another Strongroom process held its write lock too long); nothing changed.
EXIT_BUSY = 75


def explain(exc: BaseException) -> tuple[int, str]:
    """(exit code, one-line message) for an error from vault/ or sync/."""
    from sync.errors import SyncError, TransportSettingError
    from vault import errors as e
    from vault import removal

    if isinstance(exc, e.AmbiguousError):
        lines = "; ".join(f"{rid} {title}" for rid, title in exc.candidates[:20])
        return EXIT_USAGE, f"{exc} — candidates: {lines}"
    if isinstance(exc, e.NotFoundError):
        return EXIT_NO_MATCH, str(exc)
    if isinstance(exc, e.KitError) and exc.reason is e.KitReason.UNREADABLE:
        return EXIT_USAGE, str(exc)  # an unreadable file is bad input; a readable non-Kit is exit 3
    if isinstance(
        exc,
        e.WrongPasswordError
        | e.KitError
        | e.EpochChangedError
        | e.GenerationChangedError
        | e.KdfParamsError
        | e.TamperError
        | e.LockedError
        | e.WrongFileSecretError
        | removal.DeviceRemovedError
        | removal.NoWrapForDeviceError,
    ):
        return EXIT_AUTH, str(exc)
    cloud = sys.modules.get(
        "sync.cloud"
    )  # loaded whenever one of its errors exists (httpx is slow to import)
    if cloud is not None and isinstance(exc, cloud.CloudAuthError):
        return EXIT_AUTH, str(exc)  # the session is gone or the sign-in was refused: sign in again
    if isinstance(exc, TransportSettingError):
        return EXIT_USAGE, str(exc)  # a setting to fix (plain http, a CA file); nothing was sent
    if isinstance(exc, SyncError):
        return EXIT_SYNC, str(exc)
    if isinstance(exc, e.VaultError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return EXIT_USAGE, f"cannot access{where}: {exc.strerror or exc}"
    sqlite3 = sys.modules.get("sqlite3")  # loaded whenever one of its errors exists
    if sqlite3 is not None and isinstance(exc, sqlite3.OperationalError):
        text = str(exc)
        if "locked" in text or "busy" in text:
            return EXIT_BUSY, (
                "the vault is busy: another Strongroom process kept it locked too long; "
                "nothing was changed, try again"
            )
        return EXIT_USAGE, f"the vault store cannot be used: {text}"
    if sqlite3 is not None and isinstance(exc, sqlite3.DatabaseError):
        return EXIT_USAGE, f"the vault store is damaged or not a Strongroom store: {exc}"
    if isinstance(exc, UnicodeEncodeError) and "surrogates" in exc.reason:
        # Undecodable bytes of argv, the environment or a file name, held as lone surrogates.
        return EXIT_USAGE, "text from the command line or the environment is not valid UTF-8"
    return EXIT_INTERNAL, f"internal error ({type(exc).__name__}); please report it"


def message_for(exc: BaseException) -> str:
    """The one-line message alone (the app's notifications)."""
    return explain(exc)[1]
