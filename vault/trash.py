"""The trash: a record moved there is a live version marked `trashed` (it syncs and merges as
every edit does); a purge is a tombstone. An edit concurrent with a move to the trash wins:
whatever shows a record in conflict shows its version out of the trash first."""

from __future__ import annotations

from .envelope import Envelope, RecordCipher
from .errors import FormatError, TamperError
from .merge import RecordState
from .records import Record


def kept_out(
    cipher: RecordCipher, st: RecordState, winner: Record | None
) -> tuple[Envelope, Record] | None:
    """When the winner of `st` is in the trash and a concurrent live version is not (edited on
    one device while deleted on another): that version, which is shown instead; else None."""
    if winner is None or winner.trashed is None or not st.conflict:
        return None
    for env in st.others:
        if env.deleted:
            continue
        try:
            other = cipher.open(env)
        except (TamperError, FormatError):
            continue
        if other is not None and other.trashed is None:
            return env, other
    return None


def expired(trashed: float | None, days: float, at: float) -> bool:
    """True when a record moved to the trash at `trashed` is past a retention of `days` at `at`."""
    return trashed is not None and days > 0 and trashed <= at - days * 86400
