"""The SSH keys of the unlocked vault, for the SSH agent (agent/sshagent.py) to list and use.

Answered by the unlock agent (ops `ssh_list`, `ssh_sign`), so private keys never leave the
process that holds the Vault Key; a locked or absent agent means no keys.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vault.vault import Vault

SSH_TYPE = "ssh-key"


@dataclass(frozen=True)
class HeldKey:
    """One SSH key record as the agent offers it; `ask`: the open app must allow each use."""

    blob: bytes
    comment: str
    record_id: str
    title: str
    fingerprint: str
    ask: bool


def _keys(vault: Vault) -> list[HeldKey]:
    """Each usable SSH key record, in title order."""
    from vault.errors import VaultError
    from vault.sshkeys import ASK_FIELD, asks, fingerprint, public_blob

    out = []
    rows = sorted(
        (s for s in vault.summaries() if s.type == SSH_TYPE and not s.error),
        key=lambda s: (s.title.lower(), s.id),
    )
    for s in rows:
        try:
            rec = vault.record(s.id)
            line = rec.value("public-key") or ""
            comment = rec.value("comment") or rec.display_title
            blob = public_blob(line)
            out.append(
                HeldKey(
                    blob,
                    comment,
                    rec.id,
                    rec.display_title,
                    fingerprint(blob),
                    asks(rec.value(ASK_FIELD)),
                )
            )
        except VaultError:
            continue  # a damaged or half-filled record is not offered
    return out


def list_identities(vault: Vault) -> list[dict[str, Any]]:
    return [{"blob": base64.b64encode(k.blob).decode(), "comment": k.comment} for k in _keys(vault)]


def find(vault: Vault, blob: bytes) -> HeldKey | None:
    """The held key whose public blob is `blob`, or None."""
    return next((k for k in _keys(vault) if k.blob == blob), None)


def sign(vault: Vault, key: HeldKey, data: bytes, flags: int) -> bytes:
    """The signature blob by `key` (its record read again: it may have changed meanwhile)."""
    from vault.sshkeys import sign as sign_with

    pem = vault.record(key.record_id).value("private-key") or ""
    return sign_with(pem, data, flags)
