"""Folder sync, layout 2 (issue 19): what one changed record costs at 10,000 and 100,000 records,
and what a watching `strongroom sync serve` costs idle and how fast a change gets through.

For each size, in one run: device A holds N records and writes the snapshot; device B signs in
from the folder. Then

- one changed record, five times on A (a fresh `FolderSync` each time, as a new process): bytes A
  writes to the folder and reads from it, bytes B reads and writes to take it in (worst of 5);
- a compaction (forced here by a zero threshold in this process only): the whole snapshot
  written once and read once by every other device, amortised over the changes a compaction
  waits for (change files > max(256 kB, snapshot / 8));
- a real `sync serve` process on A's home watching the folder: its read bytes (/proc/PID/io
  rchar: every read call, page cache included) and CPU over 10 s idle, before and after the
  changes; propagation = from B's file being in place to the serve printing that it merged it,
  for change files (B's usual write) and for a snapshot (B compacting).

Run: python3 -m bench folder [--quick] [--markdown docs/benchmarks.md]
(`--quick`: 1,000 records only; the cheap test KDF inside the run: the figures are sync work).
The markdown section sits between `<!-- bench folder: start -->` and `<!-- bench folder: end -->`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from bench.common import insecure_test_kdf, write_marked_section

PASSWORD = "bench watch password"  # the one bench.watch._Serve signs in with
EMAIL = "bench@example.com"
CHANGES = 5
IDLE = 10.0
LIMIT = 16 * 1024
SECTION_START = "<!-- bench folder: start -->"
SECTION_END = "<!-- bench folder: end -->"
T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - start) * 1000


@dataclass
class Figures:
    n: int
    snapshot: int = 0
    a_written: int = 0  # worst of CHANGES: bytes A wrote for one changed record
    a_read: int = 0
    b_read: int = 0
    b_written: int = 0
    a_ms: float = 0.0
    b_ms: float = 0.0
    compaction_written: int = 0
    compaction_read: int = 0
    changes_per_compaction: int = 1
    idle: list[tuple[int, float]] = field(default_factory=list)  # (rchar, CPU %) per idle spell
    via_change: list[float] = field(default_factory=list)  # seconds, B's change file -> merged
    via_snapshot: list[float] = field(default_factory=list)  # seconds, B's snapshot -> merged


@contextmanager
def compact_at_once() -> Iterator[None]:
    """Every sync in this process compacts (a zero threshold), then the real thresholds again."""
    import sync.folder as folder_mod

    before = folder_mod.MIN_COMPACT, folder_mod.COMPACT_RATIO
    folder_mod.MIN_COMPACT, folder_mod.COMPACT_RATIO = 0, 2**62
    try:
        yield
    finally:
        folder_mod.MIN_COMPACT, folder_mod.COMPACT_RATIO = before


def _records(n: int) -> list[Any]:
    from vault.records import new_record

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


def measure(tmp: Path, n: int, log: Callable[[str], None] = print) -> Figures:
    """Every figure for one size (see the module docstring)."""
    from bench.watch import _idle, _Serve
    from sync.folder import COMPACT_RATIO, MIN_COMPACT, FolderSync, bootstrap_from_folder
    from sync.method import configure
    from vault.vault import Vault

    fig = Figures(n)
    folder = tmp / "Dropbox"
    folder.mkdir()
    a = Vault.create(tmp / "a", EMAIL, PASSWORD)
    a.add_many(_records(n))
    configure(a, "folder", folder=str(folder))
    first, first_ms = timed(FolderSync(a, folder).sync_now)
    fig.snapshot = first.bytes_written
    b = bootstrap_from_folder(tmp / "b", folder, EMAIL, PASSWORD, a.slot.kit)
    log(f"{n:,} records: snapshot {fig.snapshot / 1e6:.2f} MB written in {first_ms:.0f} ms")

    rows = []
    for k, s in enumerate(a.summaries()[:CHANGES]):
        a.update(replace(a.record(s.id), notes=f"changed {k}"))
        wa, ms_a = timed(FolderSync(a, folder).sync_now)  # as a new process: state from the store
        rb, ms_b = timed(FolderSync(b, folder).sync_now)
        assert rb.received == 1 and not wa.compacted and not rb.compacted, (wa, rb)
        rows.append((wa.bytes_written, wa.bytes_read, rb.bytes_read, rb.bytes_written, ms_a, ms_b))
    worst = [max(col) for col in zip(*rows, strict=True)]
    fig.a_written, fig.a_read, fig.b_read, fig.b_written = (int(x) for x in worst[:4])
    fig.a_ms, fig.b_ms = worst[4], worst[5]
    log(
        f"  one changed record (worst of {CHANGES}): A writes {fig.a_written:,} B, reads "
        f"{fig.a_read:,} B ({fig.a_ms:.0f} ms); B reads {fig.b_read:,} B, writes "
        f"{fig.b_written:,} B ({fig.b_ms:.0f} ms)"
    )

    a.update(replace(a.record(a.summaries()[0].id), notes="compacted"))
    with compact_at_once():
        c = FolderSync(a, folder).sync_now()
    assert c.compacted
    r = FolderSync(b, folder).sync_now()
    fig.compaction_written, fig.compaction_read = c.bytes_written, r.bytes_read
    limit = max(MIN_COMPACT, fig.compaction_written // COMPACT_RATIO)
    fig.changes_per_compaction = max(1, limit // max(1, fig.a_written))
    log(
        f"  compaction: writes {c.bytes_written / 1e6:.2f} MB, the other device reads "
        f"{r.bytes_read / 1e6:.2f} MB; once per ~{fig.changes_per_compaction:,} changes"
    )
    a.close()

    serve = _Serve(tmp / "a")
    try:
        serve.wait_for("Watching", seconds=600)
        time.sleep(3.0)  # its first sync (nothing to do) is over
        rchar, _disk, cpu = _idle(serve.proc.pid, IDLE)
        fig.idle.append((rchar, cpu))
        log(f"  idle serve, {IDLE:.0f} s: read {rchar:,} B, CPU {cpu:.2f}%")
        ids = [s.id for s in b.summaries()][1 : 1 + 2 * CHANGES]
        for k, rid in enumerate(ids):
            snapshot = k % 2 == 1
            b.update(replace(b.record(rid), notes=f"from b {k}"))
            if snapshot:
                with compact_at_once():
                    rep = FolderSync(b, folder).sync_now()  # in place when this returns
                assert rep.compacted
            else:
                rep = FolderSync(b, folder).sync_now()
                assert rep.wrote and not rep.compacted
            written = time.monotonic()
            seen = serve.wait_for("1 record(s) updated here", after=written)
            (fig.via_snapshot if snapshot else fig.via_change).append(seen - written)
            time.sleep(1.5)
        log(
            "  propagation through the watcher: change file "
            + ", ".join(f"{t * 1000:.0f}" for t in fig.via_change)
            + " ms; snapshot "
            + ", ".join(f"{t * 1000:.0f}" for t in fig.via_snapshot)
            + " ms"
        )
        time.sleep(2.0)
        rchar, _disk, cpu = _idle(serve.proc.pid, IDLE)
        fig.idle.append((rchar, cpu))
        log(
            f"  idle serve again after those changes, {IDLE:.0f} s: read {rchar:,} B, CPU {cpu:.2f}%"
        )
    finally:
        serve.stop()
        b.close()
    return fig


def _kb(n: float) -> str:
    return f"{n / 1024:.1f} KB"


def _ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.0f} / {max(xs) * 1000:.0f} ms"


def table(figs: list[Figures]) -> list[str]:
    ok = "✓" if all(max(f.a_written, f.b_read) < LIMIT for f in figs) else "✗"
    lines = [
        "| records | snapshot | one change: A writes / reads | B reads / writes | A / B sync "
        "| compaction: written, read by each device | amortised per change: written / read |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in figs:
        per = f.changes_per_compaction
        lines.append(
            f"| {f.n:,} | {f.snapshot / 1e6:.2f} MB | {_kb(f.a_written)} / {_kb(f.a_read)} "
            f"| {_kb(f.b_read)} / {_kb(f.b_written)} | {f.a_ms:.0f} / {f.b_ms:.0f} ms "
            f"| {f.compaction_written / 1e6:.2f} MB, {f.compaction_read / 1e6:.2f} MB "
            f"(once per ~{per:,} changes) "
            f"| {_kb(f.compaction_written / per)} / {_kb(f.compaction_read / per)} |"
        )
    lines += [
        "",
        "| records | watcher, B's change file merged by the serve: median / max "
        "| watcher, B's snapshot: median / max "
        f"| idle serve, {IDLE:.0f} s, before the changes: read, CPU | after them: read, CPU |",
        "|---:|---:|---:|---:|---:|",
    ]
    for f in figs:
        idle = " | ".join(f"{r:,} B, {c:.2f}%" for r, c in f.idle)
        lines.append(f"| {f.n:,} | {_ms(f.via_change)} | {_ms(f.via_snapshot)} | {idle} |")
    # a change travels as a change file; a snapshot is the compaction's (reported, amortised)
    worst_prop = max(max(f.via_change) for f in figs)
    worst_snap = max(max(f.via_snapshot) for f in figs)
    worst_cpu = max(c for f in figs for _, c in f.idle)
    worst_read = max(r for f in figs for r, _ in f.idle)
    lines += [
        "",
        f"Targets (issue 19): one change < 16 KB written and < 16 KB read by the other device "
        f"{ok}; propagation of a change < 1 s {'✓' if worst_prop < 1 else '✗'} "
        f"(worst {worst_prop * 1000:.0f} ms; a compaction's snapshot, worst "
        f"{worst_snap * 1000:.0f} ms, is amortised with it); "
        f"idle serve < 1% CPU {'✓' if worst_cpu < 1 else '✗'} (worst {worst_cpu:.2f}%) and "
        f"0 bytes read {'✓' if worst_read == 0 else '✗'} (worst {worst_read:,} B).",
    ]
    return lines


def write_section(path: Path, lines: list[str], quick: bool) -> None:
    import datetime
    import os
    import platform
    import subprocess

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    load = os.getloadavg()[0]
    body = [
        "## Folder sync, layout 2: one changed record, the watcher, an idle `sync serve`",
        "",
        f"Written by `python3 -m bench folder{' --quick' if quick else ''} --markdown {path}` "
        f"({datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, load average {load:.1f} at "
        "the end). Device A changes one record and syncs (a fresh `FolderSync`, as a new process "
        "would), device B syncs it in: bytes each moves to and from the folder, worst of "
        f"{CHANGES}. A compaction (the whole snapshot written once, read once by every other "
        "device) comes when the change files exceed max(256 kB, snapshot / 8); it is reported "
        "apart and amortised over the changes it waits for. Then a real `strongroom sync serve` "
        f"process on A's home: propagation from B's file in place to the serve having merged it "
        f"({CHANGES} change files, {CHANGES} snapshots B compacted), and its bytes read "
        "(/proc/PID/io rchar: every read call, page cache included) and CPU over 10 s idle.",
        "",
        *lines,
    ]
    write_marked_section(path, SECTION_START, SECTION_END, body)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m bench folder")
    ap.add_argument("--quick", action="store_true", help="1,000 records only")
    ap.add_argument("--markdown", type=Path, help="write the table into this file")
    a, _ = ap.parse_known_args(argv)
    sizes = [1_000] if a.quick else [10_000, 100_000]
    figs = []
    with insecure_test_kdf():
        for n in sizes:
            with tempfile.TemporaryDirectory() as d:
                figs.append(measure(Path(d), n, lambda s: print(s, flush=True)))
    lines = table(figs)
    print("\n".join(lines))
    if a.markdown:
        write_section(a.markdown, lines, a.quick)
    return 0


def run() -> None:
    main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
