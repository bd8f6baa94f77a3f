"""Folder sync at 10,000 records: data.mssb write, merge of two copies that differ in 1%,
and how long a change on one device takes to show on another with the watcher on.

Run: python -m bench sync  (cheap KDF inside the run: the figures are sync work, not sign-in cost).
Targets (issue 4): write < 300 ms, 1% merge < 300 ms, visible on the other device < 2 s.
Layout 2's figures (issue 19: one changed record at 10,000 and 100,000 records, compaction
amortised, the watcher, an idle `sync serve`) are `python -m bench folder` (bench/folder.py).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from bench.common import insecure_test_kdf
from sync import mssb
from sync.folder import FolderSync, bootstrap_from_folder
from sync.watch import FolderWatcher
from vault.records import new_record
from vault.vault import Vault

N = 10_000
T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - start) * 1000


def run() -> None:

    with insecure_test_kdf(), tempfile.TemporaryDirectory() as d:
        _measure(Path(d))


def _records(n: int) -> list:  # type: ignore[type-arg]
    return [
        new_record(
            "login",
            f"Site {i}",
            {
                "username": f"user{i}",
                "password": f"pw-{i}-xxxxxxxxxxxx",
                "url": f"https://s{i}.example.com",
            },
        )
        for i in range(n)
    ]


def _measure(tmp: Path) -> None:
    folder = tmp / "Dropbox"
    folder.mkdir()
    a = Vault.create(tmp / "a", "bench@example.com", "bench password")
    a.add_many(
        [
            new_record(
                "login",
                f"Site {i}",
                {
                    "username": f"user{i}",
                    "password": f"pw-{i}-xxxxxxxxxxxx",
                    "url": f"https://s{i}.example.com",
                },
            )
            for i in range(N)
        ]
    )
    sa = FolderSync(a, folder)
    _, first = timed(sa.sync_now)
    versions = a.store.all_versions()
    header = mssb.header_for(a.slot, a.device, 99)
    data, enc = timed(lambda: mssb.encode(header, a.keys, versions))
    _, write = timed(lambda: mssb.write_atomic(tmp / "x.mssb", data, lambda d: None))
    _, read = timed(lambda: mssb.read_for(data, a.keys))
    print(f"{N} records, data.mssb {sa.path.stat().st_size / 1e6:.2f} MB")
    print(f"  first sync_now (encode + verified atomic write): {first:.0f} ms")
    print(
        f"  cold encode {enc:.0f} ms, atomic write + fsync {write:.0f} ms, cold read + decrypt {read:.0f} ms"
    )
    steady = []
    for k in range(3):
        rid = a.summaries()[k].id
        a.update(replace(a.record(rid), notes=f"local {k}"))
        report, ms = timed(sa.sync_now)
        assert report.wrote
        steady.append(ms)
    print(
        "  publish a local change (a change file, written atomically): "
        + ", ".join(f"{ms:.0f}" for ms in steady)
        + " ms"
    )

    b = bootstrap_from_folder(tmp / "b", folder, "bench@example.com", "bench password", a.slot.kit)
    ids = [s.id for s in b.summaries()]
    for rid in ids[: N // 100]:
        b.update(replace(b.record(rid), notes="changed on b"))
    for rid in ids[-(N // 100) :]:
        a.update(replace(a.record(rid), notes="changed on a"))
    FolderSync(b, folder).sync_now()
    report, merge = timed(sa.sync_now)
    print(
        f"  merge a copy differing in 1% (+1% local), write back: {merge:.0f} ms "
        f"({report.received} records received)"
    )
    _, cold_merge = timed(FolderSync(a, folder).sync_now)
    print(f"  same in a fresh process (no parse memory), nothing new: {cold_merge:.0f} ms")

    seen = threading.Event()
    watcher = FolderWatcher(FolderSync(b, folder), on_change=lambda r: seen.set())
    watcher.start_background()
    time.sleep(2.5)
    for k in range(3):
        seen.clear()
        rid = ids[k]
        a.update(replace(a.record(rid), notes=f"live {k}"))
        start = time.perf_counter()
        sa.sync_now()
        seen.wait(10)
        print(
            f"  change on A visible on B (A writes, B's watcher merges): {(time.perf_counter() - start) * 1000:.0f} ms"
        )
    watcher.stop()


if __name__ == "__main__":
    run()
