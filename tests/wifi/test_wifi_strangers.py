"""Idle strangers cannot stall a real sync: the listener caps connections still in their
handshake (the oldest gives way) and gives each handshake one deadline."""

from __future__ import annotations

import asyncio
from pathlib import Path

from wifihelp import LOOPBACK, add_notes, device_like, titles

from sync.wifi import WifiPeer
from vault.vault import Vault

IDLE = 40


async def test_forty_idle_connections_do_not_stall_a_sync(account: Vault, tmp_path: Path) -> None:
    a = account
    b = device_like(a, tmp_path / "b")
    add_notes(a, "A", 2)
    add_notes(b, "B", 1)
    async with WifiPeer(a, LOOPBACK) as pa, WifiPeer(b, LOOPBACK) as pb:
        idle = [await asyncio.open_connection("127.0.0.1", pa.port) for _ in range(IDLE)]
        try:
            await asyncio.sleep(0.2)  # all of them accepted and waiting in their handshake
            result = await pb.sync_with("127.0.0.1", pa.port)
            assert result.ok, result.error
            assert titles(a) == titles(b) == ["A 0000", "A 0001", "B 0000"]
            # a stranger that never speaks is shown the door (given way, or its deadline passed)
            reader, _ = idle[-1]
            assert await asyncio.wait_for(reader.read(), 30) == b""
        finally:
            for _, writer in idle:
                writer.close()
    b.close()
