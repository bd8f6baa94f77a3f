"""Issue 6 numbers: Wi-Fi discovery to first byte on loopback, and syncing 1,000 changed records.

mDNS runs on 127.0.0.1 only. "Patched" shortens python-zeroconf's probe/announce timings (as the
tests do); "real" uses the library's RFC 6762 timings.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import refuse_insecure_test_kdf, report

if TYPE_CHECKING:
    from vault.vault import Vault

LOOPBACK = ["127.0.0.1"]
PASSWORD = "bench wifi password"


@contextmanager
def mdns_timings(patched: bool) -> Iterator[None]:
    import zeroconf._core as core

    names = ("_CHECK_TIME", "_REGISTER_TIME", "_UNREGISTER_TIME")
    saved = {n: getattr(core, n) for n in names}
    if patched:
        for n in names:
            setattr(core, n, 10)
    try:
        yield
    finally:
        for n, v in saved.items():
            setattr(core, n, v)


async def _first_byte(a: object, b: object, fresh_a: bool) -> tuple[float, float]:
    """Seconds from B starting (and, if `fresh_a`, A too) to A found, and to A's first byte."""
    from sync.wifi import WifiPeer
    from sync.wifi.channel import HELLO_LEN, MAGIC, MODE_MEMBER, VERSION

    pa = WifiPeer(a, LOOPBACK)
    if not fresh_a:
        await pa.start()
        await asyncio.sleep(1.5)  # serving for a while (its own start-up queries are over)
    t0 = time.perf_counter()
    if fresh_a:
        start_a = asyncio.ensure_future(pa.start())
    pb = WifiPeer(b, LOOPBACK)
    await pb.start()
    assert pb._discovery is not None
    while not pb._discovery.found:
        await asyncio.sleep(0.001)
    t_found = time.perf_counter() - t0
    found = next(iter(pb._discovery.found.values()))
    reader, writer = await asyncio.open_connection(found.addresses[0], found.port)
    writer.write(MAGIC + bytes([VERSION, MODE_MEMBER]) + secrets.token_bytes(32))
    await writer.drain()
    await reader.readexactly(HELLO_LEN)
    t_byte = time.perf_counter() - t0
    writer.close()
    if fresh_a:
        await start_a
    await pb.stop()
    await pa.stop()
    return t_found, t_byte


def _bulk(vault: Vault, n: int, prefix: str) -> None:
    """n new records sealed and stored in one transaction (faster than n saves)."""
    from vault.records import new_record

    v = vault
    envs = []
    for i in range(n):
        rec = new_record(
            "login",
            f"{prefix} {i:05d}",
            {"username": f"user{i}", "password": f"pw-{i}-secret"},
            notes="x" * 200,
        )
        envs.append(v.cipher.seal(rec, rec.id, {v.device: 1}, 1_700_000_000_000 + i, v.device))
    v.apply(envs)


def _edit(vault: Vault, n: int, offset: int) -> None:
    """Edit n existing records (from `offset` in id order) (one new version each), in one transaction."""
    from dataclasses import replace

    from vault.merge import next_version

    v = vault
    envs = []
    for rid, versions in sorted(v.store.grouped().items())[offset : offset + n]:
        rec = v.cipher.open(versions[0])
        assert rec is not None, "the bench seals every record itself"
        vv, hlc = next_version(versions, v.device)
        envs.append(
            v.cipher.seal(replace(rec, title=rec.title + " (edited)"), rid, vv, hlc, v.device)
        )
    v.apply(envs)


async def _sync_once(a: object, b: object) -> tuple[float, int, int]:
    from sync.wifi import WifiPeer

    async with WifiPeer(a, LOOPBACK) as pa, WifiPeer(b, LOOPBACK) as pb:
        t0 = time.perf_counter()
        r = await pb.sync_with("127.0.0.1", pa.port)
        dt = time.perf_counter() - t0
        assert r.ok, r.error
        return dt, r.received, r.sent


def run() -> None:
    refuse_insecure_test_kdf()
    from vault.vault import Vault

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        a = Vault.create(root / "a", "bench@example.com", PASSWORD)
        b = Vault.adopt(root / "b", a.slot, a.keys, [])
        for patched, runs in ((True, 10), (False, 5)):
            label = "patched" if patched else "real"
            with mdns_timings(patched):
                for fresh in (False, True):
                    found, byte = [], []
                    for _ in range(runs):
                        f, t = asyncio.run(_first_byte(a, b, fresh))
                        found.append(f)
                        byte.append(t)
                    who = "both start" if fresh else "peer serving"
                    report(f"discovery → peer found ({label} mDNS, {who})", found)
                    budget = 1000 if patched else 3000
                    report(f"discovery → first byte ({label} mDNS, {who})", byte, budget)

        # 1,000 new records from A to an empty B (one session, discovery excluded)
        c = Vault.adopt(root / "c", a.slot, a.keys, [])
        _bulk(a, 1000, "New")
        times = []
        for i in range(5):
            d = Vault.adopt(root / f"d{i}", a.slot, a.keys, [])
            dt, received, sent = asyncio.run(_sync_once(a, d))
            assert received == 1000 and sent == 0
            times.append(dt)
            d.close()
        report("sync 1,000 new records A → empty B", times, 1000)

        # 10,000 shared records, then 500 edited on each side: 1,000 changed records both ways
        _bulk(a, 9000, "Base")
        asyncio.run(_sync_once(a, c))
        times = []
        for _ in range(5):
            _edit(a, 500, 0)
            _edit(c, 500, 5000)
            dt, received, sent = asyncio.run(_sync_once(a, c))
            assert received >= 500 and sent >= 500, (received, sent)
            times.append(dt)
        report("sync 500+500 edits both ways (10,000 records)", times, 1000)
        print(
            f"  (median {statistics.median(times) * 1000:.0f} ms includes summaries of all 10,000 records)"
        )
        for v in (a, b, c):
            v.close()


if __name__ == "__main__":
    run()
