"""Strangers learn nothing and change nothing; bad frames never crash the listener; epochs."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import struct
from pathlib import Path

import pytest
from wifihelp import LOOPBACK, PW, add_notes, device_like, titles

from sync.errors import SyncError
from sync.wifi import (
    PasswordChangedElsewhereError,
    PeerAuthError,
    PeerOnOldPasswordError,
    WifiPeer,
)
from sync.wifi import protocol as p
from sync.wifi.channel import (
    HELLO_LEN,
    MAGIC,
    MAX_FRAME,
    MODE_BOOTSTRAP,
    MODE_MEMBER,
    VERSION,
    Claims,
    client_handshake,
    member_key,
)
from sync.wifi.discovery import Discovery
from vault.envelope import pack_envelopes
from vault.errors import EpochChangedError, WrongPasswordError
from vault.vault import Vault


def secrets_of(v: Vault) -> list[bytes]:
    """Byte strings a stranger must never see: account id, email, titles and bodies."""
    out = [v.slot.account_id.encode(), v.slot.email.encode(), b"ann", b"secret body"]
    out += [s.title.encode() for s in v.summaries()]
    return out


async def test_stranger_learns_nothing_and_cannot_inject(account: Vault, tmp_path: Path) -> None:
    a = account
    add_notes(a, "Bank", 3)
    before = {e.record_id: e.vv_text for e in a.store.all_versions()}
    stranger = Vault.create(tmp_path / "s", "eve@example.com", "eve's password")
    add_notes(stranger, "Injected", 2)
    async with WifiPeer(a, LOOPBACK) as pa:
        # discovery: what the network sees of us is a version and two opaque tags
        seen: list[dict[str, str]] = []
        snoop = Discovery(LOOPBACK, lambda props: seen.append(props) or True)
        await snoop.start()
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.02)
        await snoop.stop()
        assert seen and set(seen[0]) == {"v", "p", "tag", "kt"}
        txt = repr(seen).encode()
        assert not any(s in txt for s in secrets_of(a))

        # a stranger's peer never lists us, and a direct connection is refused
        async with WifiPeer(stranger, LOOPBACK) as ps:
            report = await ps.sync_with_all(timeout=0.6)
            assert report.results == []
            result = await ps.sync_with("127.0.0.1", pa.port)
            assert isinstance(result.error, PeerAuthError)

        # the raw bytes a stranger receives: our hello (random nonce), then the connection ends
        for mode in (MODE_MEMBER, MODE_BOOTSTRAP):
            reader, writer = await asyncio.open_connection("127.0.0.1", pa.port)
            writer.write(MAGIC + bytes([VERSION, mode]) + secrets.token_bytes(32))
            writer.write(secrets.token_bytes(32))  # a proof made without the key
            # and a frame carrying the stranger's envelopes, as if authenticated
            body = bytes([p.ENVS]) + pack_envelopes(stranger.store.all_versions())
            writer.write(struct.pack(">I", 8 + len(body)) + bytes(8) + body)
            await writer.drain()
            received = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            assert len(received) == HELLO_LEN and received[:3] == MAGIC
            assert not any(s in received for s in secrets_of(a))
    assert {e.record_id: e.vv_text for e in a.store.all_versions()} == before
    assert titles(a) == ["Bank 0000", "Bank 0001", "Bank 0002"]
    stranger.close()


async def _authenticated(
    port: int, a: Vault
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, object]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    me = Claims(a.keys.account_id, a.keys.generation, a.keys.epoch, a.device)
    ch = await client_handshake(reader, writer, MODE_MEMBER, member_key(a.keys.subkey("lan")), me)
    return reader, writer, ch


async def test_fuzzed_frames_never_crash_the_listener(
    account: Vault, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sync.wifi")
    a = account
    add_notes(a, "Keep", 2)
    before = sorted(e.vv_text + e.record_id for e in a.store.all_versions())
    rng = random.Random(1234)
    async with WifiPeer(a, LOOPBACK) as pa:

        async def send(data: bytes) -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", pa.port)
            writer.write(data)
            writer.write_eof()
            await asyncio.wait_for(reader.read(), 10)
            writer.close()

        # unauthenticated garbage: random bytes, and hellos with random tails
        hello = MAGIC + bytes([VERSION, MODE_MEMBER])
        for _ in range(60):
            n = rng.choice([0, 1, 5, 36, 37, 69, 70, 200, 5000])
            data = rng.randbytes(n)
            if rng.random() < 0.5:
                data = hello + data
            await send(data)

        # authenticated peers that misbehave after the handshake
        async def misbehave(kind: str) -> None:
            reader, writer, ch = await _authenticated(pa.port, a)
            assert hasattr(ch, "seal_frame")
            if kind == "replay":
                frame = ch.seal_frame(p.STATE, p.state_body(a.keys.generation, a.keys.epoch, "x"))
                writer.write(frame + frame)
            elif kind == "reorder":
                f0 = ch.seal_frame(p.STATE, p.state_body(a.keys.generation, a.keys.epoch, "x"))
                f1 = ch.seal_frame(p.SUMMARY_END, b"")
                writer.write(f1 + f0)
            elif kind == "oversize":
                writer.write(struct.pack(">I", MAX_FRAME + 1) + bytes(64))
            elif kind == "flip":
                frame = bytearray(ch.seal_frame(p.STATE, p.state_body(1, 1, "x")))
                frame[rng.randrange(12, len(frame))] ^= 1 << rng.randrange(8)
                writer.write(bytes(frame))
            elif kind == "short":
                writer.write(struct.pack(">I", 3) + b"abc")
            elif kind == "truncated":
                writer.write(ch.seal_frame(p.STATE, p.state_body(1, 1, "x"))[:-5])
                writer.write_eof()
            elif kind == "badstate":
                writer.write(ch.seal_frame(p.STATE, rng.randbytes(40)))
            elif kind == "badtype":
                writer.write(ch.seal_frame(99, b"{}"))
            elif kind == "badsummary":
                writer.write(
                    ch.seal_frame(p.STATE, p.state_body(a.keys.generation, a.keys.epoch, "x"))
                )
                writer.write(ch.seal_frame(p.SUMMARY, b'[["id", [1, 2]]]'))
            elif kind == "badenvelopes":
                writer.write(
                    ch.seal_frame(p.STATE, p.state_body(a.keys.generation, a.keys.epoch, "x"))
                )
                writer.write(ch.seal_frame(p.SUMMARY_END, b""))
                # bytes that are no envelope: refused one by one (counted), the session goes on
                writer.write(ch.seal_frame(p.ENVS, struct.pack(">I", 10) + rng.randbytes(10)))
                writer.write(ch.seal_frame(p.ENVS_END, b'{"count": 1}'))
            elif kind == "forged-envelope":
                # a member that sends an envelope which does not open with the record key
                writer.write(
                    ch.seal_frame(p.STATE, p.state_body(a.keys.generation, a.keys.epoch, "x"))
                )
                writer.write(ch.seal_frame(p.SUMMARY_END, b""))
                env = a.store.all_versions()[0]
                from dataclasses import replace

                forged = replace(env, record_id="f" * 16, ciphertext=rng.randbytes(60))
                writer.write(ch.seal_frame(p.ENVS, pack_envelopes([forged])))
                writer.write(ch.seal_frame(p.ENVS_END, b'{"count": 1}'))
            await writer.drain()
            await asyncio.wait_for(reader.read(), 10)
            writer.close()

        kinds = [
            "replay",
            "reorder",
            "oversize",
            "flip",
            "short",
            "truncated",
            "badstate",
            "badtype",
            "badsummary",
            "badenvelopes",
            "forged-envelope",
        ]
        for kind in kinds * 3:
            await misbehave(kind)

        # every refused version is kept aside and counted, none merged
        refused = a.store.refused_summary()
        assert {src for src, *_ in refused} == {"wifi"}
        assert sum(n for _, _, n, _ in refused) == 6  # 3 × not an envelope, 3 × forged
        # still alive and still correct: a real device syncs
        b = device_like(a, tmp_path / "b")
        async with WifiPeer(b, LOOPBACK) as pb:
            result = await pb.sync_with("127.0.0.1", pa.port)
            assert result.ok, result.error
        assert titles(b) == ["Keep 0000", "Keep 0001"]
        b.close()
    assert sorted(e.vv_text + e.record_id for e in a.store.all_versions()) == before
    log = caplog.text
    for reason in (
        "replayed or reordered frame",
        "oversized frame",
        "forged or damaged frame",
        "not a Strongroom peer",
        "could not prove",
    ):
        assert reason in log, reason
    assert "not sealed with this account's key" in log
    assert not any(s.decode() in log for s in secrets_of(a) if s != b"ann")


async def test_password_changed_elsewhere_is_refused_with_the_reason(
    account: Vault, tmp_path: Path
) -> None:
    a = account
    b = device_like(a, tmp_path / "b")
    add_notes(a, "Before", 1)
    async with WifiPeer(a, LOOPBACK) as pa, WifiPeer(b, LOOPBACK) as pb:
        assert (await pb.sync_with_all(timeout=5.0, expect=1)).received == 1
        a.change_password("a brand new password")
        add_notes(a, "After", 1)
        report = await pb.sync_with_all(timeout=5.0, expect=1)
        [err] = report.errors
        assert isinstance(err, PasswordChangedElsewhereError)
        assert isinstance(err, EpochChangedError) and isinstance(err, SyncError)
        assert "password changed on another device" in str(err)
        assert titles(b) == ["Before 0000"]
        # the device that is ahead says why too
        ahead = await pa.sync_with("127.0.0.1", pb.port)
        assert isinstance(ahead.error, PeerOnOldPasswordError)
        # b follows with the new password, then syncs
        with pytest.raises(WrongPasswordError):
            await pb.adopt_new_password("wrong guess")
        await pb.adopt_new_password("a brand new password")
        assert b.slot.epoch == a.slot.epoch == 2
        report = await pb.sync_with_all(timeout=5.0, expect=1)
        assert report.errors == [] and titles(b) == ["After 0000", "Before 0000"]
    b.close()
    again = Vault.open(tmp_path / "b")
    again.unlock("a brand new password")
    with pytest.raises(WrongPasswordError):
        Vault.open(tmp_path / "b").unlock(PW)
    again.close()
