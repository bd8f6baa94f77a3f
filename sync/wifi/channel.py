"""The Wi-Fi channel: a mutual challenge-response over TCP, then AES-256-GCM frames.

Handshake, protocol version 2 (fixed sizes, so nothing is parsed before authentication):

    client → server   HELLO  "SRW" | version u8 | mode u8 | client nonce (32)
    server → client   HELLO  "SRW" | version u8 | mode u8 | server nonce (32)
    client → server   PROOF  mask_c(client claims) ‖ HMAC(auth key, transcript "client")
    server → client   PROOF  mask_s(server claims) ‖ HMAC(auth key, transcript "server")

Claims (72 bytes) = generation u32 | key epoch u32 | device id (ASCII, zero-padded to 64). The
transcript binds the role, the account id (never sent), the version, the mode, both nonces and
the claims (the server's proof: both ends' claims), so a peer cannot claim another generation,
epoch or device than the one it proved, and a changed byte on the way fails the MAC. The claims
travel masked (HKDF of the auth key and both nonces), so a stranger learns no device id.
formats.md has the exact bytes; a peer speaking version 1 gets `PeerVersionError` ("update
Strongroom on the other device"), never a silent drop.

The auth key depends on the mode: MEMBER uses VK's "lan" sub-key (devices already linked to
the account), BOOTSTRAP uses HKDF(x_auth, "wifi-bootstrap") (a new device that has the Account
Password and the Kit but no VK yet). The client proves first, so a stranger who connects to a
listener receives nothing but a random nonce before the connection is dropped.

Session keys (one per direction) come from HKDF(auth key, salt = SHA-256 of the transcript). A
frame is

    length u32 | sequence u64 | AES-GCM(nonce = direction ‖ 0 0 0 ‖ sequence, AD = direction ‖ sequence)

with a strict sequence: a replayed, reordered, oversized, truncated or forged frame ends the
connection with a logged reason (never a secret). Frame plaintext = message type u8 | body.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault.crypto import associated_data, hkdf

from ..errors import SourceUnavailableError, SyncError

log = logging.getLogger("sync.wifi")

MAGIC = b"SRW"
#: 2: the proof binds account, generation, key epoch and both device ids (issue 16 Build 2)
VERSION = 2
NONCE_LEN = 32
HELLO_LEN = len(MAGIC) + 2 + NONCE_LEN
DEVICE_LEN = 64
CLAIMS_LEN = 8 + DEVICE_LEN
MAC_LEN = 32
PROOF_LEN = CLAIMS_LEN + MAC_LEN
TAG_LEN = 16
#: Largest frame accepted (length field value): room for the largest record envelope (16 MiB).
MAX_FRAME = 17 * 1024 * 1024
#: How long the handshake and each later read may take before the peer counts as gone.
HANDSHAKE_TIMEOUT = 5.0
READ_TIMEOUT = 30.0

MODE_MEMBER = 1
MODE_BOOTSTRAP = 2
#: A device still on keys a device removal replaced asks a peer that moved on for the key change
#: (vault/removal.py): proven with the old keys' member key; the peer sends it and hangs up.
MODE_KEYCHANGE = 3
MODES = (MODE_MEMBER, MODE_BOOTSTRAP, MODE_KEYCHANGE)

_C2S = b"\x01"
_S2C = b"\x02"


class WifiError(SyncError):
    """Something went wrong talking to a Wi-Fi peer."""


class ChannelError(WifiError):
    """The peer broke the protocol (malformed, replayed, oversized or forged frame); dropped."""


class PeerAuthError(WifiError):
    """The peer did not prove it belongs to this account (a stranger, or another epoch's keys)."""


class PeerGoneError(WifiError, SourceUnavailableError):
    """The peer closed the connection, timed out or could not be reached."""


class PeerVersionError(WifiError):
    """The peer speaks another Wi-Fi protocol version (an older or newer Strongroom)."""


def version_refusal(theirs: int) -> PeerVersionError:
    """The words for a peer on Wi-Fi protocol `theirs`: which device needs the update."""
    if theirs < VERSION:
        return PeerVersionError(
            f"the other device runs an older Strongroom (Wi-Fi protocol {theirs}, this device "
            f"speaks {VERSION}); update Strongroom on the other device"
        )
    return PeerVersionError(
        f"the other device runs a newer Strongroom (Wi-Fi protocol {theirs}, this device speaks "
        f"{VERSION}); update Strongroom on this device"
    )


@dataclass(frozen=True)
class Claims:
    """Who one end of a handshake says it is; bound into its proof. The account id is in the
    MAC but never sent (both ends know it, a stranger must not learn it)."""

    account_id: str
    generation: int
    epoch: int
    #: the device id ("" for a new device that has none yet: BOOTSTRAP)
    device: str

    def to_bytes(self) -> bytes:
        try:
            dev = self.device.encode("ascii")
        except UnicodeEncodeError:
            raise WifiError(f"device id {self.device!r} cannot go on the wire") from None
        if len(dev) > DEVICE_LEN or b"\0" in dev:
            raise WifiError(f"device id {self.device!r} cannot go on the wire")
        if not (0 <= self.generation < 2**32 and 0 <= self.epoch < 2**32):
            raise WifiError("generation or epoch out of range for the Wi-Fi handshake")
        return struct.pack(">II", self.generation, self.epoch) + dev.ljust(DEVICE_LEN, b"\0")

    @classmethod
    def from_bytes(cls, account_id: str, raw: bytes) -> Claims:
        """Claims from authenticated bytes (call only after the MAC checked)."""
        generation, epoch = struct.unpack_from(">II", raw)
        dev = raw[8:CLAIMS_LEN].rstrip(b"\0")
        if b"\0" in dev or not all(0x21 <= c < 0x7F for c in dev):
            raise ChannelError("malformed device id in the handshake")
        return cls(account_id, generation, epoch, dev.decode("ascii"))


def member_key(lan_subkey: bytes) -> bytes:
    """The MEMBER auth key from VK's "lan" sub-key (`UnlockedKeys.subkey("lan")`)."""
    return hkdf(lan_subkey, "strongroom wifi member v1")


def bootstrap_key(x_auth: bytes) -> bytes:
    """The BOOTSTRAP auth key from x_auth (needs the Account Password and the Kit)."""
    return hkdf(x_auth, "strongroom wifi-bootstrap v1")


def _transcript(
    account_id: str, mode: int, cn: bytes, sn: bytes, client: bytes, server: bytes
) -> list[bytes | str | int]:
    return [account_id, VERSION, mode, cn, sn, client, server]


def _mac(
    key: bytes, role: str, account_id: str, mode: int, cn: bytes, sn: bytes, c: bytes, s: bytes
) -> bytes:
    parts = _transcript(account_id, mode, cn, sn, c, s)
    msg = associated_data("strongroom/wifi/proof v2", role, *parts)
    return hmac.new(key, msg, hashlib.sha256).digest()


def _masks(key: bytes, cn: bytes, sn: bytes) -> tuple[bytes, bytes]:
    raw = hkdf(key, "strongroom wifi claims v2", salt=cn + sn, length=2 * CLAIMS_LEN)
    return raw[:CLAIMS_LEN], raw[CLAIMS_LEN:]


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def client_proof(key: bytes, mode: int, cn: bytes, sn: bytes, client: Claims) -> bytes:
    """The client's PROOF: its masked claims ‖ HMAC over the transcript so far."""
    raw = client.to_bytes()
    mac = _mac(key, "client", client.account_id, mode, cn, sn, raw, b"")
    return _xor(raw, _masks(key, cn, sn)[0]) + mac


def server_proof(
    key: bytes, mode: int, cn: bytes, sn: bytes, client: Claims, server: Claims
) -> bytes:
    """The server's PROOF: its masked claims ‖ HMAC over both ends' claims."""
    c, s = client.to_bytes(), server.to_bytes()
    mac = _mac(key, "server", server.account_id, mode, cn, sn, c, s)
    return _xor(s, _masks(key, cn, sn)[1]) + mac


def _open_proof(
    key: bytes,
    role: str,
    account_id: str,
    mode: int,
    cn: bytes,
    sn: bytes,
    proof: bytes,
    client: Claims | None = None,
) -> Claims | None:
    """The claims in `proof` when its MAC checks under `key`, else None (nothing parsed)."""
    masks = _masks(key, cn, sn)
    raw = _xor(proof[:CLAIMS_LEN], masks[0] if role == "client" else masks[1])
    if client is None:
        c, s = raw, b""
    else:
        c, s = client.to_bytes(), raw
    if not hmac.compare_digest(proof[CLAIMS_LEN:], _mac(key, role, account_id, mode, cn, sn, c, s)):
        return None
    return Claims.from_bytes(account_id, raw)


def _hello(mode: int, nonce: bytes) -> bytes:
    return MAGIC + bytes([VERSION, mode]) + nonce


def _parse_hello(raw: bytes) -> tuple[int, bytes]:
    if len(raw) != HELLO_LEN or raw[:3] != MAGIC:
        raise ChannelError("not a Strongroom peer (bad hello)")
    if raw[3] != VERSION:
        raise version_refusal(raw[3])
    if raw[4] not in MODES:
        raise ChannelError("peer asked for an unknown mode")
    return raw[4], raw[5:]


async def _read(reader: asyncio.StreamReader, n: int, timeout: float) -> bytes:
    try:
        return await asyncio.wait_for(reader.readexactly(n), timeout)
    except asyncio.IncompleteReadError:
        raise PeerGoneError("the peer closed the connection") from None
    except TimeoutError:
        raise PeerGoneError("the peer stopped answering (timeout)") from None
    except OSError as exc:
        raise PeerGoneError(f"connection error: {exc.strerror or type(exc).__name__}") from None


@dataclass
class Channel:
    """An authenticated, encrypted, ordered message pipe to one peer."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    mode: int
    _send_key: AESGCM = field(repr=False)
    _recv_key: AESGCM = field(repr=False)
    _send_dir: bytes = field(repr=False)
    _recv_dir: bytes = field(repr=False)
    read_timeout: float = READ_TIMEOUT
    #: what the other end proved it is (account, generation, key epoch, device)
    peer: Claims | None = None
    #: which of the listener's keys for this mode the client proved (MODE_KEYCHANGE: several)
    key_index: int = 0
    _send_seq: int = 0
    _recv_seq: int = 0

    def __repr__(self) -> str:
        return f"Channel(mode={self.mode}, sent={self._send_seq}, received={self._recv_seq}, <keys hidden>)"

    @property
    def peer_address(self) -> str:
        info = self.writer.get_extra_info("peername")
        return str(info[0]) if info else "?"

    # -- frames ---------------------------------------------------------------------------
    def seal_frame(self, msg_type: int, body: bytes) -> bytes:
        """The wire bytes of the next frame (advances the send sequence)."""
        seq = self._send_seq
        self._send_seq += 1
        seq_raw = struct.pack(">Q", seq)
        nonce = self._send_dir + b"\0\0\0" + seq_raw
        ct = self._send_key.encrypt(nonce, bytes([msg_type]) + body, self._send_dir + seq_raw)
        if 8 + len(ct) > MAX_FRAME:
            raise WifiError("a message is too large for one frame")
        return struct.pack(">I", 8 + len(ct)) + seq_raw + ct

    async def send(self, msg_type: int, body: bytes = b"") -> None:
        frame = self.seal_frame(msg_type, body)
        await self.send_raw(frame)

    async def send_raw(self, data: bytes) -> None:
        try:
            self.writer.write(data)
            await self.writer.drain()
        except OSError as exc:
            raise PeerGoneError(f"connection error: {exc.strerror or type(exc).__name__}") from None

    async def recv(self) -> tuple[int, bytes]:
        """Next message (type, body). ChannelError on anything but the next authentic frame."""
        (length,) = struct.unpack(">I", await _read(self.reader, 4, self.read_timeout))
        if length > MAX_FRAME:
            raise ChannelError(f"oversized frame ({length} bytes, limit {MAX_FRAME})")
        if length < 8 + TAG_LEN + 1:
            raise ChannelError("malformed frame (too short)")
        raw = await _read(self.reader, length, self.read_timeout)
        (seq,) = struct.unpack_from(">Q", raw, 0)
        if seq != self._recv_seq:
            raise ChannelError(
                f"replayed or reordered frame (sequence {seq}, expected {self._recv_seq})"
            )
        seq_raw = raw[:8]
        try:
            plain = self._recv_key.decrypt(
                self._recv_dir + b"\0\0\0" + seq_raw, raw[8:], self._recv_dir + seq_raw
            )
        except InvalidTag:
            raise ChannelError("forged or damaged frame (authentication failed)") from None
        self._recv_seq += 1
        return plain[0], plain[1:]

    async def close(self) -> None:
        try:
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        except (OSError, TimeoutError):
            pass


def session_keys(
    key: bytes, mode: int, cn: bytes, sn: bytes, client: Claims, server: Claims
) -> bytes:
    """64 bytes: the client→server key, then the server→client key."""
    parts = _transcript(client.account_id, mode, cn, sn, client.to_bytes(), server.to_bytes())
    salt = hashlib.sha256(associated_data("strongroom/wifi/session v2", *parts)).digest()
    return hkdf(key, "strongroom wifi session v2", salt=salt, length=64)


def _session(
    key: bytes, mode: int, cn: bytes, sn: bytes, client: Claims, server: Claims
) -> tuple[AESGCM, AESGCM]:
    raw = session_keys(key, mode, cn, sn, client, server)
    return AESGCM(raw[:32]), AESGCM(raw[32:])


async def _drain(writer: asyncio.StreamWriter) -> None:
    try:
        await writer.drain()
    except OSError as exc:
        raise PeerGoneError(f"connection error: {exc.strerror or type(exc).__name__}") from None


async def client_handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    mode: int,
    key: bytes,
    me: Claims,
    timeout: float = HANDSHAKE_TIMEOUT,
) -> Channel:
    """Prove we hold `key` and are `me`, check that the listener holds it too; PeerAuthError if
    it does not. The listener's proven claims are `Channel.peer`."""
    cn = secrets.token_bytes(NONCE_LEN)
    writer.write(_hello(mode, cn))
    await _drain(writer)
    smode, sn = _parse_hello(await _read(reader, HELLO_LEN, timeout))
    if smode != mode:
        raise ChannelError("peer answered in another mode")
    writer.write(client_proof(key, mode, cn, sn, me))
    await _drain(writer)
    try:
        theirs = await _read(reader, PROOF_LEN, timeout)
    except PeerGoneError:
        # A listener of another account (or on other keys) hangs up right after our proof.
        raise PeerAuthError(
            "the peer refused us: it is not a device of this account, or it is on "
            "other keys (another password or an account reset)"
        ) from None
    peer = _open_proof(key, "server", me.account_id, mode, cn, sn, theirs, client=me)
    if peer is None:
        raise PeerAuthError("the peer could not prove it belongs to this account")
    c2s, s2c = _session(key, mode, cn, sn, me, peer)
    return Channel(reader, writer, mode, c2s, s2c, _C2S, _S2C, peer=peer)


async def server_handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    keys: dict[int, bytes | list[bytes]],
    me: Claims,
    timeout: float = HANDSHAKE_TIMEOUT,
) -> Channel:
    """Check the client's proof for its mode's key (from `keys`; a list: any one of them, the
    one proven is `Channel.key_index`); only then prove ourselves (as `me`). A client on another
    protocol version gets our hello (an older build names both versions) and PeerVersionError."""
    raw = await _read(reader, HELLO_LEN, timeout)
    if raw[:3] == MAGIC and raw[3] != VERSION:
        writer.write(_hello(raw[4] if raw[4] in MODES else MODE_MEMBER, secrets.token_bytes(32)))
        await _drain(writer)
        raise version_refusal(raw[3])
    mode, cn = _parse_hello(raw)
    given = keys.get(mode)
    candidates = [given] if isinstance(given, bytes) else list(given or [])
    if not candidates:
        raise ChannelError("this device does not accept that mode now")
    sn = secrets.token_bytes(NONCE_LEN)
    writer.write(_hello(mode, sn))
    await _drain(writer)
    theirs = await _read(reader, PROOF_LEN, timeout)
    proven = [
        (i, k, c)
        for i, k in enumerate(candidates)
        if (c := _open_proof(k, "client", me.account_id, mode, cn, sn, theirs)) is not None
    ]
    if not proven:
        raise PeerAuthError("the peer could not prove it belongs to this account")
    index, key, peer = proven[0]
    if mode != MODE_BOOTSTRAP and not peer.device:
        raise ChannelError("the peer named no device")
    writer.write(server_proof(key, mode, cn, sn, peer, me))
    await _drain(writer)
    c2s, s2c = _session(key, mode, cn, sn, peer, me)
    return Channel(reader, writer, mode, s2c, c2s, _S2C, _C2S, peer=peer, key_index=index)
