"""Open before merge: the one gate every version from outside passes before it may supersede
anything (cloud pull, folder file, Wi-Fi peer, backup restore, sign-in from any of them).

A version whose bytes do not parse or stay within bounds, or whose AEAD does not open under this
account's record key, is *refused*: it is kept aside in the store's quarantine (`Store.refuse`),
never merged, so it can prune nothing, and `sync status` / the app's sync screen count it by
source and reason. Whoever holds only a session token, the server's operator or a path in between
can therefore add refusals, never remove or hide a record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .envelope import Envelope, RecordCipher
from .errors import BoundsError, TamperError, VaultError

#: Where versions come from; `sync status` names them.
SOURCES = ("cloud", "folder", "wifi", "backup", "import", "local")
#: The reason for every version whose AEAD does not open (the message is the same for all).
NOT_OURS = "does not open with this account's key (forged, damaged or another account's)"


@dataclass(frozen=True)
class Refusal:
    """One incoming version that was not merged: where from, which record (if its header
    parsed), why, and its bytes as received (kept aside in the store)."""

    source: str
    record_id: str
    reason: str
    raw: bytes = b""

    def __repr__(self) -> str:
        return (
            f"Refusal({self.source!r}, {self.record_id!r}, {self.reason!r}, {len(self.raw)} bytes)"
        )


@dataclass(frozen=True)
class Intake:
    """What one batch did: ids whose state changed here, and the versions refused."""

    changed: list[str]
    refused: list[Refusal]


def parse(raws: Iterable[bytes], source: str) -> tuple[list[Envelope], list[Refusal]]:
    """Envelopes from their bytes one by one: a malformed or out-of-bounds one is refused with
    its reason, and the rest go on (one bad version never stops a sync)."""
    good: list[Envelope] = []
    refused: list[Refusal] = []
    for raw in raws:
        try:
            good.append(Envelope.from_bytes(raw))
        except VaultError as exc:
            refused.append(Refusal(source, "", _reason(exc), bytes(raw)))
    return good, refused


def admit(
    cipher: RecordCipher, envelopes: Iterable[Envelope], source: str
) -> tuple[list[Envelope], list[Refusal]]:
    """The versions whose AEAD opens under this account's record key, and the refusals."""
    good: list[Envelope] = []
    refused: list[Refusal] = []
    for env in envelopes:
        try:
            cipher.authenticate(env)
        except (VaultError, ValueError) as exc:
            refused.append(Refusal(source, env.record_id, _reason(exc), env.to_bytes()))
            continue
        good.append(env)
    return good, refused


def _reason(exc: Exception) -> str:
    if isinstance(exc, TamperError):
        return NOT_OURS
    if isinstance(exc, BoundsError):
        return f"out of bounds: {exc}"
    return f"malformed: {exc}"
