"""Attachments streamed between two Wi-Fi peers on loopback: byte-exact both ways, nothing of
the name or content in the TCP bytes, a changed blob refused and wanted again, and an older peer
(no blob phase) still syncs its records."""

from __future__ import annotations

import io
import os
from pathlib import Path

from wifihelp import LOOPBACK, device_like

from sync.wifi import WifiPeer
from vault import attachstore
from vault.records import new_record
from vault.vault import Vault

NAME = "recovery-codes-WIFINAME.pdf"
MARK = b"WIFI-CONTENT-MARK"


def _add(vault: Vault, rid: str, tmp: Path, size: int) -> bytes:
    data = (MARK * (size // len(MARK) + 1))[:size]
    src = tmp / NAME
    src.write_bytes(data)
    attachstore.add(vault, rid, src)
    return data


def _read(vault: Vault, rid: str) -> bytes:
    out = io.BytesIO()
    attachstore.read(vault, attachstore.listed(vault, rid)[0], out)
    return out.getvalue()


async def test_a_file_streams_to_the_other_peer_byte_exact(account: Vault, tmp_path: Path) -> None:
    a = account
    b = device_like(a, tmp_path / "b")
    rid = a.add(new_record("login", "Bank")).id
    data = _add(a, rid, tmp_path, 3_000_000)
    async with WifiPeer(a, LOOPBACK) as pa, WifiPeer(b, LOOPBACK) as pb:
        result = await pb.sync_with("127.0.0.1", pa.port)
        assert result.ok, result.error
        assert result.files_received == 1 and result.files_sent == 0
        assert _read(b, rid) == data
        # and the other way: a file added on B reaches A
        rid2 = b.add(new_record("note", "Keys")).id
        data2 = os.urandom(70_000)
        (tmp_path / "k").write_bytes(data2)
        attachstore.add(b, rid2, tmp_path / "k")
        again = await pb.sync_with("127.0.0.1", pa.port)
        assert again.ok and again.files_sent == 1
        assert _read(a, rid2) == data2
    b.close()


async def test_a_changed_blob_is_refused_and_wanted_again(account: Vault, tmp_path: Path) -> None:
    a = account
    b = device_like(a, tmp_path / "b")
    rid = a.add(new_record("login", "Bank")).id
    data = _add(a, rid, tmp_path, 200_000)
    (att,) = attachstore.listed(a, rid)
    path = attachstore.blob_dir(a).path(att.blob)
    good = path.read_bytes()
    bad = bytearray(good)
    bad[150_000] ^= 0x01
    path.write_bytes(bytes(bad))
    async with WifiPeer(a, LOOPBACK) as pa, WifiPeer(b, LOOPBACK) as pb:
        result = await pb.sync_with("127.0.0.1", pa.port)
        assert result.ok and result.files_received == 0
        assert any("failed authentication" in x for x in result.file_problems)
        assert attachstore.blob_dir(b).names() == set()
        path.write_bytes(good)  # repaired on A: the next session brings it
        again = await pb.sync_with("127.0.0.1", pa.port)
        assert again.files_received == 1 and _read(b, rid) == data
    b.close()


async def test_nothing_readable_on_the_wire(account: Vault, tmp_path: Path) -> None:
    import asyncio

    a = account
    b = device_like(a, tmp_path / "b")
    rid = a.add(new_record("login", "Bank")).id
    _add(a, rid, tmp_path, 500_000)
    captured: list[bytes] = []
    async with WifiPeer(a, LOOPBACK) as pa, WifiPeer(b, LOOPBACK) as pb:

        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", pa.port)

            async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
                while chunk := await src.read(65536):
                    captured.append(chunk)
                    dst.write(chunk)
                    await dst.drain()
                dst.close()

            await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))

        proxy = await asyncio.start_server(relay, "127.0.0.1", 0)
        port = proxy.sockets[0].getsockname()[1]
        result = await pb.sync_with("127.0.0.1", port)
        proxy.close()
        assert result.ok and result.files_received == 1
    wire = b"".join(captured)
    assert len(wire) > 500_000
    for clear in (b"WIFINAME", b"recovery", MARK, b"Bank"):
        assert clear not in wire
    b.close()
