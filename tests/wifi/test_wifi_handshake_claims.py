"""Wi-Fi protocol 2 (issue 16 Build 2): the handshake binds account, generation, key epoch and
both device ids into its MAC. Real peers on loopback, through a real TCP relay that changes one
claimed value on the way: the MAC fails and both sides refuse. A member that claims one epoch in
the handshake and another in STATE is refused; a peer on protocol 1 is told to update."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import pytest
from wifihelp import LOOPBACK, add_notes, device_like, titles

from sync.wifi import PeerAuthError, WifiPeer
from sync.wifi import protocol as p
from sync.wifi.channel import (
    HELLO_LEN,
    MAGIC,
    MODE_MEMBER,
    VERSION,
    Claims,
    PeerGoneError,
    PeerVersionError,
    client_handshake,
    member_key,
)
from sync.wifi.discovery import Found
from vault.vault import Vault

#: offsets in a PROOF of the claimed key epoch's low byte and the device id's first byte
EPOCH_AT = HELLO_LEN + 7
DEVICE_AT = HELLO_LEN + 8


class Relay:
    """A TCP relay on 127.0.0.1 to `port` that flips one bit at byte offset `c2s` of what the
    client sends, or `s2c` of what the server sends (None: relays faithfully)."""

    def __init__(self, port: int, c2s: int | None = None, s2c: int | None = None) -> None:
        self.target, self.c2s, self.s2c = port, c2s, s2c
        self.port = 0
        self._server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> Relay:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _relay(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        sr, sw = await asyncio.open_connection("127.0.0.1", self.target)

        async def pump(r: asyncio.StreamReader, w: asyncio.StreamWriter, flip: int | None) -> None:
            seen = 0
            with contextlib.suppress(OSError):
                while data := await r.read(65536):
                    if flip is not None and seen <= flip < seen + len(data):
                        buf = bytearray(data)
                        buf[flip - seen] ^= 0x01
                        data = bytes(buf)
                    seen += len(data)
                    w.write(data)
                    await w.drain()
            w.close()

        await asyncio.gather(pump(cr, sw, self.c2s), pump(sr, cw, self.s2c))


@pytest.mark.parametrize(
    "where",
    ["client-epoch", "client-device", "server-epoch", "server-device"],
)
async def test_a_changed_claim_fails_the_mac(
    account: Vault, tmp_path: Path, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    caplog.set_level(logging.INFO, logger="sync.wifi")
    a = account
    b = device_like(a, tmp_path / "b")
    add_notes(a, "Kept", 2)
    at = EPOCH_AT if where.endswith("epoch") else DEVICE_AT
    async with WifiPeer(a, LOOPBACK) as pa, WifiPeer(b, LOOPBACK) as pb:
        # faithfully relayed, the same two peers sync (so the relay itself is not the refusal)
        async with Relay(pa.port) as clean:
            good = await pb.sync_with("127.0.0.1", clean.port)
            assert good.ok, good.error
        assert titles(b) == ["Kept 0000", "Kept 0001"]
        add_notes(a, "Later", 1)
        flip = {"c2s": at} if where.startswith("client") else {"s2c": at}
        async with Relay(pa.port, **flip) as bad:
            result = await pb.sync_with("127.0.0.1", bad.port)
        assert isinstance(result.error, PeerAuthError), result.error
        assert "Later 0000" not in titles(b)
    if where.startswith("client"):  # the listener refused the client's changed claim
        assert "could not prove it belongs to this account" in caplog.text
    else:  # the client refused the listener's
        assert "could not prove it belongs to this account" in str(result.error)
    b.close()


async def test_the_handshake_proves_who_each_end_is(
    account: Vault, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sync.wifi")
    a = account
    b = device_like(a, tmp_path / "b")
    key = member_key(a.keys.subkey("lan"))
    async with WifiPeer(a, LOOPBACK) as pa:
        # the listener's proven claims are its own generation, epoch and device
        reader, writer = await asyncio.open_connection("127.0.0.1", pa.port)
        me = Claims(b.keys.account_id, b.keys.generation, b.keys.epoch, b.device)
        ch = await client_handshake(reader, writer, MODE_MEMBER, key, me)
        assert ch.peer == Claims(a.keys.account_id, a.keys.generation, a.keys.epoch, a.device)
        await ch.close()
        # a member that proves one epoch and says another in STATE: refused, nothing sent
        reader, writer = await asyncio.open_connection("127.0.0.1", pa.port)
        other = Claims(b.keys.account_id, b.keys.generation, b.keys.epoch + 1, b.device)
        ch = await client_handshake(reader, writer, MODE_MEMBER, key, other)
        await ch.send(p.STATE, p.state_body(b.keys.generation, b.keys.epoch, "b"))
        with pytest.raises(PeerGoneError):
            await p.expect(ch, p.STATE)
        await ch.close()
        # another account id: the same key and claims do not prove it
        reader, writer = await asyncio.open_connection("127.0.0.1", pa.port)
        stranger = Claims("ZZZZZZZZ22", b.keys.generation, b.keys.epoch, b.device)
        with pytest.raises(PeerAuthError):
            await client_handshake(reader, writer, MODE_MEMBER, key, stranger)
        writer.close()
    assert "state names another generation or key epoch than its handshake proved" in caplog.text
    b.close()


async def test_a_peer_on_protocol_1_is_told_to_update(
    account: Vault, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sync.wifi")
    a = account
    b = device_like(a, tmp_path / "b")
    async with WifiPeer(a, LOOPBACK) as pa, WifiPeer(b, LOOPBACK) as pb:
        # an older build's hello: it gets ours (it names both versions) and is refused
        reader, writer = await asyncio.open_connection("127.0.0.1", pa.port)
        writer.write(MAGIC + bytes([1, MODE_MEMBER]) + bytes(32))
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        assert len(answer) == HELLO_LEN and answer[3] == VERSION
        # an older build announces no "p": refused before connecting, with the reason
        old = Found("old._strongroom._tcp.local.", ("127.0.0.1",), pa.port, (("v", "1"),))
        result = await pb._sync_found(old)
        assert isinstance(result.error, PeerVersionError)
        assert "update Strongroom on the other device" in str(result.error)
        newer = Found("new._strongroom._tcp.local.", ("127.0.0.1",), pa.port, (("p", "3"),))
        assert "update Strongroom on this device" in str((await pb._sync_found(newer)).error)
    assert "update Strongroom on the other device" in caplog.text
    b.close()
