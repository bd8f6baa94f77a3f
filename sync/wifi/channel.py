"""The Wi-Fi channel: a mutual challenge-response over TCP, then AES-256-GCM frames.

Handshake (clear text, fixed sizes, so nothing is parsed before authentication):

    client → server   HELLO  "SRW" | version u8 | mode u8 | client nonce (32)
    server → client   HELLO  "SRW" | version u8 | mode u8 | server nonce (32)
    client → server   PROOF  HMAC-SHA256(auth key, "client" ‖ mode ‖ both nonces)
    server → client   PROOF  HMAC-SHA256(auth key, "server" ‖ mode ‖ both nonces)

The auth key depends on the mode: MEMBER uses VK's "lan" sub-key (devices already linked to
the account), BOOTSTRAP uses HKDF(x_auth, "wifi-bootstrap") (a new device that has the Account
Password and the Kit but no VK yet). The client proves first, so a stranger who connects to a
listener receives nothing but a random nonce before the connection is dropped.

Session keys (one per direction) come from HKDF(auth key, salt = both nonces). A frame is

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
VERSION = 1
NONCE_LEN = 32
HELLO_LEN = len(MAGIC) + 2 + NONCE_LEN
PROOF_LEN = 32
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


def member_key(lan_subkey: bytes) -> bytes:
    """The MEMBER auth key from VK's "lan" sub-key (`UnlockedKeys.subkey("lan")`)."""
    return hkdf(lan_subkey, "strongroom wifi member v1")


def bootstrap_key(x_auth: bytes) -> bytes:
    """The BOOTSTRAP auth key from x_auth (needs the Account Password and the Kit)."""
    return hkdf(x_auth, "strongroom wifi-bootstrap v1")


def _proof(key: bytes, role: str, mode: int, cn: bytes, sn: bytes) -> bytes:
    msg = associated_data("strongroom/wifi/proof", role, mode, cn, sn)
    return hmac.new(key, msg, hashlib.sha256).digest()


def _hello(mode: int, nonce: bytes) -> bytes:
    return MAGIC + bytes([VERSION, mode]) + nonce


def _parse_hello(raw: bytes) -> tuple[int, bytes]:
    if len(raw) != HELLO_LEN or raw[:3] != MAGIC:
        raise ChannelError("not a Strongroom peer (bad hello)")
    if raw[3] != VERSION:
        raise ChannelError(
            f"peer speaks Wi-Fi protocol version {raw[3]}; this device speaks {VERSION}"
        )
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


def _session(key: bytes, cn: bytes, sn: bytes) -> tuple[AESGCM, AESGCM]:
    raw = hkdf(key, "strongroom wifi session v1", salt=cn + sn, length=64)
    return AESGCM(raw[:32]), AESGCM(raw[32:])


async def client_handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    mode: int,
    key: bytes,
    timeout: float = HANDSHAKE_TIMEOUT,
) -> Channel:
    """Prove we hold `key`, check that the listener does too; PeerAuthError if it does not."""
    cn = secrets.token_bytes(NONCE_LEN)
    writer.write(_hello(mode, cn))
    try:
        await writer.drain()
    except OSError as exc:
        raise PeerGoneError(f"connection error: {exc.strerror or type(exc).__name__}") from None
    smode, sn = _parse_hello(await _read(reader, HELLO_LEN, timeout))
    if smode != mode:
        raise ChannelError("peer answered in another mode")
    writer.write(_proof(key, "client", mode, cn, sn))
    try:
        await writer.drain()
    except OSError as exc:
        raise PeerGoneError(f"connection error: {exc.strerror or type(exc).__name__}") from None
    try:
        theirs = await _read(reader, PROOF_LEN, timeout)
    except PeerGoneError:
        # A listener of another account (or on other keys) hangs up right after our proof.
        raise PeerAuthError(
            "the peer refused us: it is not a device of this account, or it is on "
            "other keys (another password or an account reset)"
        ) from None
    if not hmac.compare_digest(theirs, _proof(key, "server", mode, cn, sn)):
        raise PeerAuthError("the peer could not prove it belongs to this account")
    c2s, s2c = _session(key, cn, sn)
    return Channel(reader, writer, mode, c2s, s2c, _C2S, _S2C)


async def server_handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    keys: dict[int, bytes | list[bytes]],
    timeout: float = HANDSHAKE_TIMEOUT,
) -> Channel:
    """Check the client's proof for its mode's key (from `keys`; a list: any one of them, the
    one proven is `Channel.key_index`); only then prove ourselves."""
    mode, cn = _parse_hello(await _read(reader, HELLO_LEN, timeout))
    given = keys.get(mode)
    candidates = [given] if isinstance(given, bytes) else list(given or [])
    if not candidates:
        raise ChannelError("this device does not accept that mode now")
    sn = secrets.token_bytes(NONCE_LEN)
    writer.write(_hello(mode, sn))
    try:
        await writer.drain()
    except OSError as exc:
        raise PeerGoneError(f"connection error: {exc.strerror or type(exc).__name__}") from None
    theirs = await _read(reader, PROOF_LEN, timeout)
    index = next(
        (
            i
            for i, k in enumerate(candidates)
            if hmac.compare_digest(theirs, _proof(k, "client", mode, cn, sn))
        ),
        None,
    )
    if index is None:
        raise PeerAuthError("the peer could not prove it belongs to this account")
    key = candidates[index]
    writer.write(_proof(key, "server", mode, cn, sn))
    try:
        await writer.drain()
    except OSError as exc:
        raise PeerGoneError(f"connection error: {exc.strerror or type(exc).__name__}") from None
    c2s, s2c = _session(key, cn, sn)
    return Channel(reader, writer, mode, s2c, c2s, _S2C, _C2S, key_index=index)
