"""Change files: the small, immutable, encrypted files a device publishes to `<AccountID>/changes/`.

Layout 2 of the folder (docs/design.md, docs/formats.md): instead of rewriting the whole
data.mssb for every change, a device seals the versions it stored since it last published into
one new file, `changes/<writer>-<n>-<random>.mslog`, an `MSLG` v1 container whose body is
`pack_envelopes` sealed under VK's `folder-changes` sub-key and whose header (account, generation,
key id, writer, counter) is the associated data. It carries no key slot and no epoch, so a change
file can never announce a password change; the snapshot does that.

    data = encode(keys, writer, n, envelopes)
    header, envelopes = decode(data, keys, name)   # typed SyncError on any bad byte, never a crash
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from vault.container import seal_container
from vault.crypto import Sealer
from vault.envelope import Envelope
from vault.errors import TamperError
from vault.intake import Refusal
from vault.keys import UnlockedKeys

from . import mssb
from .errors import ForeignSyncFileError, NotASyncFileError

MAGIC = b"MSLG"
VERSION = 1
SUBKEY = "folder-changes"
WHAT = "change file"
MAX_FILE = 64 * 1024 * 1024


@dataclass(frozen=True)
class ChangeHeader:
    account_id: str
    generation: int
    kid: str
    writer: str
    n: int

    def to_obj(self) -> dict[str, Any]:
        return {
            "account": self.account_id,
            "gen": self.generation,
            "kid": self.kid,
            "writer": self.writer,
            "n": self.n,
        }

    @classmethod
    def from_obj(cls, o: dict[str, Any], name: str) -> ChangeHeader:
        try:
            h = cls(str(o["account"]), int(o["gen"]), str(o["kid"]), str(o["writer"]), int(o["n"]))
            base64.b64decode(h.kid, validate=True)
        except (KeyError, TypeError, ValueError, OverflowError):
            raise NotASyncFileError(f"{name} has a damaged header") from None
        if h.generation < 1 or h.n < 0:
            raise NotASyncFileError(f"{name} has a damaged header")
        return h


class RetiredKeyChangeError(NotASyncFileError):
    """A change file sealed under a Vault Key this device moved away from (a device removal):
    written before the key change, or by the removed device; never merged, never damage."""


class OtherGenerationChangeError(NotASyncFileError):
    """A change file from another generation of this account (before or after a reset): not ours
    to merge, not damage either; the snapshot says what happened."""


def encode(
    keys: UnlockedKeys,
    writer: str,
    n: int,
    envelopes: list[Envelope],
    codec: mssb.Codec | None = None,
) -> bytes:
    header = ChangeHeader(keys.account_id, keys.generation, mssb.key_id(keys), writer, n)
    body = (codec or mssb.Codec()).pack(envelopes)
    return seal_container(MAGIC, VERSION, header.to_obj(), body, keys.subkey(SUBKEY))


def decode(
    data: bytes,
    keys: UnlockedKeys,
    name: str,
    codec: mssb.Codec | None = None,
    refused: list[Refusal] | None = None,
    retired: frozenset[str] = frozenset(),
) -> tuple[ChangeHeader, list[Envelope]]:
    """Authenticate and unpack a change file of this account and generation (`refused`: an
    envelope inside that does not parse goes there and the rest are returned, as
    mssb.open_snapshot).

    NotASyncFileError (damaged, altered, not ours: skip it and say so), SyncFileVersionError
    (a newer Strongroom), ForeignSyncFileError, OtherGenerationChangeError,
    RetiredKeyChangeError (its key id is in `retired`: keys replaced by a device removal)."""
    if len(data) > MAX_FILE:
        raise NotASyncFileError(f"{name} is too large to be a change file")
    container = mssb.parse_sealed(data, MAGIC, VERSION, name)
    header = ChangeHeader.from_obj(container.header, name)
    if header.account_id != keys.account_id:
        raise ForeignSyncFileError(f"{name} belongs to account {header.account_id}")
    if header.kid != mssb.key_id(keys):
        if header.kid in retired and header.generation == keys.generation:
            raise RetiredKeyChangeError(f"{name} is sealed under a key retired by a device removal")
        if header.generation != keys.generation:
            raise OtherGenerationChangeError(
                f"{name} is from generation {header.generation} of this account, not this one"
            )
        raise mssb.FolderFileAlteredError(
            f"{name} was altered: it claims this account but is not sealed with its key"
        )
    try:
        body = Sealer(keys.subkey(SUBKEY)).open(container.sealed_body, container.prefix, WHAT)
    except TamperError:
        raise mssb.FolderFileAlteredError(
            f"{name} was altered or damaged (authentication failed)"
        ) from None
    if header.generation != keys.generation:  # authenticated, so only a writer with our VK did it
        raise NotASyncFileError(f"{name} has an impossible generation")
    return header, mssb.unpack_body(body, name, codec, refused)
