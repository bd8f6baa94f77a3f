"""What two authenticated peers say to each other inside the channel.

MEMBER session (both devices hold VK), driven by the client:

    both      STATE  {"gen", "epoch", "name", "sv"}    refuse on a different generation/epoch
    (ahead)   SLOT   key slot bytes                    only to a peer on an older epoch
    C → S     SUMMARY* SUMMARY_END                     record id → the versions it holds
    S → C     SUMMARY* SUMMARY_END ENVS* ENVS_END      the server's summary + what the client lacks
    C → S     ENVS* ENVS_END                           what the server lacks
    S → C     DONE {"applied": n}
    both      the attachment blob phase, when both announced "bv" ≥ 1 (sync/wifi/blobs.py)

BOOTSTRAP session (new device with Account Password + Kit):

    S → C     STATE, SLOT (Kit + VK wrapped under K_unlock), ENVS* ENVS_END
    C → S     DONE

Summaries name versions in the form the receiving peer announced in its STATE (`sv`, absent
= 1): version 1 by vector text alone; version 2 by `<vector text>#<digest>` (the first 8 bytes
of SHA-256 of the envelope's ciphertext, hex), so a version with the vector of one the peer holds
and other content (a reused causal identity wrote it) is still sent, never taken for it.

Everything handed over opens only with the Account Password and the Kit. Incoming envelopes are
checked with this account's record key before they are merged; one that does not open is
skipped and counted, never stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vault import intake, safejson
from vault.envelope import Envelope, pack_envelopes, split_envelopes
from vault.errors import EpochChangedError, FormatError, GenerationChangedError, VaultError
from vault.intake import Refusal
from vault.keys import KeySlot
from vault.merge import dominates

from .channel import Channel, ChannelError, WifiError

log = logging.getLogger("sync.wifi")

STATE = 1
SUMMARY = 2
SUMMARY_END = 3
ENVS = 4
ENVS_END = 5
SLOT = 6
DONE = 7
#: MODE_KEYCHANGE: the key change (SRKC bytes, vault/removal.py) moving away from the keys the
#: client proved; the only message of that mode
KEYCHANGE = 8

#: Split summaries and envelope batches so no frame gets near MAX_FRAME.
SUMMARY_CHUNK = 512 * 1024
ENVS_CHUNK = 4 * 1024 * 1024

Summary = dict[str, set[str]]

#: The summary form this build reads (and announces in STATE); 1 = vector texts alone.
SUMMARY_VERSION = 2
#: The attachment blob phase this build speaks after DONE (announced in STATE as "bv"; absent =
#: 0, a build from before it, which is never sent blob frames): sync/wifi/blobs.py.
BLOB_VERSION = 1


class PasswordChangedElsewhereError(EpochChangedError, WifiError):
    """The peer is on a newer epoch: the Account Password was changed on another device.

    `offered_slot` is the key slot that peer handed over (it opens with the new password only),
    so the password can be adopted after the session is over (`adopt_offered_slot`)."""

    offered_slot: Any = None


class PeerOnOldPasswordError(WifiError):
    """The peer is on an older epoch: it needs the new Account Password before it can sync."""


class AccountResetElsewhereError(GenerationChangedError, WifiError):
    """The peer is on a newer generation: the account was reset on another device."""


class PeerBeforeResetError(WifiError):
    """The peer is on an older generation: it still holds the account as it was before a reset."""


@dataclass(frozen=True)
class PeerState:
    generation: int
    epoch: int
    name: str
    #: the summary form the peer reads (1: a build from before summary version 2)
    summaries: int = 1
    #: the attachment blob phase the peer speaks (0: none; sync/wifi/blobs.py)
    blobs: int = 0


def state_body(generation: int, epoch: int, name: str, *, blobs: bool = False) -> bytes:
    """STATE; `blobs`: announce the attachment blob phase (a session that will speak it)."""
    body: dict[str, Any] = {"gen": generation, "epoch": epoch, "name": name, "sv": SUMMARY_VERSION}
    if blobs:
        body["bv"] = BLOB_VERSION
    return json.dumps(body, sort_keys=True).encode()


def parse_state(body: bytes) -> PeerState:
    try:
        obj = safejson.loads(body)
        gen, epoch, name, sv = obj["gen"], obj["epoch"], obj["name"], obj.get("sv", 1)
        bv = obj.get("bv", 0)
        if (
            not all(isinstance(x, int) for x in (gen, epoch, sv, bv))
            or not isinstance(name, str)
            or len(name) > 128
        ):
            raise ValueError
        return PeerState(
            gen, epoch, name, max(1, min(sv, SUMMARY_VERSION)), max(0, min(bv, BLOB_VERSION))
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ChannelError("malformed state message") from exc


def proven_state(ch: Channel, body: bytes) -> PeerState:
    """The peer's STATE, which must name the generation and epoch its handshake proved."""
    state = parse_state(body)
    proven = ch.peer
    if proven is None or (proven.generation, proven.epoch) != (state.generation, state.epoch):
        raise ChannelError(
            "the peer's state names another generation or key epoch than its handshake proved"
        )
    return state


def refusal(mine: tuple[int, int], theirs: PeerState) -> WifiError | None:
    """The error this side reports when the two devices are on different account keys."""
    gen, epoch = mine
    if theirs.generation > gen:
        return AccountResetElsewhereError(
            "account reset elsewhere: this account was reset on another device; sign in again "
            "with the new password and Kit"
        )
    if theirs.generation < gen:
        return PeerBeforeResetError(
            "the other device still holds this account as it was before the account reset; sign "
            "it in again with the new password and Kit"
        )
    if theirs.epoch > epoch:
        return PasswordChangedElsewhereError(
            "password changed on another device: enter the new Account Password to keep syncing"
        )
    if theirs.epoch < epoch:
        return PeerOnOldPasswordError(
            "the other device is still on the old Account Password: enter the new password there"
        )
    return None


async def expect(ch: Channel, msg_type: int) -> bytes:
    got, body = await ch.recv()
    if got != msg_type:
        raise ChannelError(f"unexpected message {got} (expected {msg_type})")
    return body


# -- summaries -----------------------------------------------------------------------------
def version_name(env: Envelope, form: int = SUMMARY_VERSION) -> str:
    """How a summary of `form` names one version: its vector text (1), plus a content digest (2)."""
    if form < 2:
        return env.vv_text
    return f"{env.vv_text}#{hashlib.sha256(env.ciphertext).digest()[:8].hex()}"


def summary_of(envelopes: Iterable[Envelope], form: int = SUMMARY_VERSION) -> Summary:
    """What a peer reading summaries of `form` is told this device holds."""
    out: Summary = {}
    for env in envelopes:
        out.setdefault(env.record_id, set()).add(version_name(env, form))
    return out


async def send_summary(ch: Channel, summary: Summary) -> None:
    chunk: list[list[Any]] = []
    size = 0
    for rid, vvs in summary.items():
        entry = [rid, sorted(vvs)]
        chunk.append(entry)
        size += len(rid) + sum(len(v) + 3 for v in vvs) + 8
        if size >= SUMMARY_CHUNK:
            await ch.send(SUMMARY, json.dumps(chunk, separators=(",", ":")).encode())
            chunk, size = [], 0
    if chunk:
        await ch.send(SUMMARY, json.dumps(chunk, separators=(",", ":")).encode())
    await ch.send(SUMMARY_END)


async def recv_summary(ch: Channel) -> Summary:
    out: Summary = {}
    while True:
        msg_type, body = await ch.recv()
        if msg_type == SUMMARY_END:
            return out
        if msg_type != SUMMARY:
            raise ChannelError(f"unexpected message {msg_type} in a summary")
        try:
            for rid, vvs in safejson.loads(body):
                if (
                    not isinstance(rid, str)
                    or not isinstance(vvs, list)
                    or not all(isinstance(v, str) for v in vvs)
                ):
                    raise ValueError
                out.setdefault(rid, set()).update(vvs)
        except (ValueError, TypeError) as exc:
            raise ChannelError("malformed summary") from exc


def lacking(
    mine: Iterable[Envelope], theirs: Summary, form: int = SUMMARY_VERSION
) -> list[Envelope]:
    """My versions the peer neither holds nor has superseded (`theirs` in summary `form`)."""
    out: list[Envelope] = []
    parsed: dict[str, list[dict[str, int]]] = {}
    for env in mine:
        have = theirs.get(env.record_id)
        if have is None:
            out.append(env)
            continue
        if version_name(env, form) in have:
            continue
        vvs = parsed.get(env.record_id)
        if vvs is None:
            vvs = []
            for name in have:
                text = name.rpartition("#")[0] if form >= 2 else name
                try:
                    vvs.append({str(k): int(v) for k, v in safejson.loads(text).items()})
                except (ValueError, TypeError, AttributeError):
                    continue  # a peer's odd vector text only means we send a little more
            parsed[env.record_id] = vvs
        if not any(dominates(vv, env.vv) for vv in vvs):
            out.append(env)
    return out


# -- envelopes ----------------------------------------------------------------------------
async def send_envelopes(ch: Channel, envelopes: list[Envelope]) -> None:
    batch: list[Envelope] = []
    size = 0
    for env in envelopes:
        n = len(env.ciphertext) + 256
        if batch and size + n > ENVS_CHUNK:
            await ch.send(ENVS, pack_envelopes(batch))
            batch, size = [], 0
        batch.append(env)
        size += n
    if batch:
        await ch.send(ENVS, pack_envelopes(batch))
    await ch.send(ENVS_END, json.dumps({"count": len(envelopes)}).encode())


async def recv_envelopes(ch: Channel, refused: list[Refusal] | None = None) -> list[Envelope]:
    """The peer's envelopes. One whose bytes are malformed or out of bounds goes to `refused`
    (with its reason) and the rest go on; without that list it is a ChannelError."""
    out: list[Envelope] = []
    bad: list[Refusal] = []
    while True:
        msg_type, body = await ch.recv()
        if msg_type == ENVS_END:
            try:
                count = safejson.loads(body)["count"]
            except (ValueError, KeyError, TypeError) as exc:
                raise ChannelError("malformed end of envelopes") from exc
            if count != len(out) + len(bad):
                raise ChannelError(
                    f"peer announced {count} envelopes but sent {len(out) + len(bad)}"
                )
            if refused is not None:
                refused += bad
            return out
        if msg_type != ENVS:
            raise ChannelError(f"unexpected message {msg_type} among envelopes")
        try:
            envs, wrong = intake.parse(split_envelopes(body), "wifi")
        except VaultError as exc:
            raise ChannelError(f"malformed envelope batch ({exc})") from None
        if wrong and refused is None:
            raise ChannelError(f"malformed envelope batch ({wrong[0].reason})")
        out += envs
        bad += wrong


def parse_slot(body: bytes) -> KeySlot:
    try:
        return KeySlot.from_bytes(body)
    except FormatError as exc:
        raise ChannelError(f"malformed key slot ({exc})") from None
