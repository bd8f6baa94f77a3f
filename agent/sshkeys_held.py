"""The SSH keys of the unlocked vault, for the SSH agent (agent/sshagent.py) to list and use.

Answered by the unlock agent (ops `ssh_list`, `ssh_sign`), so private keys never leave the
process that holds the Vault Key; a locked or absent agent means no keys.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vault.vault import Vault

SSH_TYPE = "ssh-key"


def _keys(vault: Vault) -> list[tuple[bytes, str, str]]:
    """(public blob, comment, record id) of each SSH key record, in title order."""
    from vault.errors import VaultError
    from vault.sshkeys import public_blob

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
            out.append((public_blob(line), comment, rec.id))
        except VaultError:
            continue  # a damaged or half-filled record is not offered
    return out


def list_identities(vault: Vault) -> list[dict[str, Any]]:
    return [
        {"blob": base64.b64encode(blob).decode(), "comment": comment}
        for blob, comment, _ in _keys(vault)
    ]


def sign(vault: Vault, blob: bytes, data: bytes, flags: int) -> bytes | None:
    """The signature blob by the key whose public blob is `blob`; None when it is not held."""
    from vault.sshkeys import sign as sign_with

    for held, _, rid in _keys(vault):
        if held == blob:
            pem = vault.record(rid).value("private-key") or ""
            return sign_with(pem, data, flags)
    return None
