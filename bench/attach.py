"""Attachments (issue 22): `python3 -m bench attach [--quick]`.

1. Adding a 10 MB attachment and syncing it through a folder, against `cp` of the file plus one
   AES-256-GCM pass over it (target: under 2×). Median of 5.
2. A 50 MB attachment round trip through a real folder, each step in its own process, with that
   process's peak memory (ru_maxrss; target < 200 MB) and a byte-exact check at the end.
   `--quick`: 10 MB instead of 50 MB.
3. The same file added and saved in the real app (its files screen, driven by keys in its own
   process, with a folder syncing in the background): that process's peak memory, byte-exact.
4. Collecting blobs nothing names (`attachstore.collect_garbage`) at 10,000 records, 500 of them
   with a file: with no blob old enough (one listing), with every blob old and still named (the
   store's versions read), and `trash empty` of 100 records with files (their blobs removed).
   `--gc`: this part only.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import insecure_test_kdf

PW = "bench attachments password"
MB = 1_000_000


def run() -> None:
    quick = "--quick" in sys.argv
    with insecure_test_kdf():
        if "--gc" in sys.argv:
            with tempfile.TemporaryDirectory() as d:
                _collection(Path(d))
            return
        with tempfile.TemporaryDirectory() as d:
            _ten_mb(Path(d), repeat=3 if quick else 5)
        with tempfile.TemporaryDirectory() as d:
            _round_trip(Path(d), (10 if quick else 50) * MB)
        with tempfile.TemporaryDirectory() as d:
            _in_the_app(Path(d), (10 if quick else 50) * MB)
        with tempfile.TemporaryDirectory() as d:
            _collection(Path(d))


def _collection(tmp: Path, records: int = 10_000, with_files: int = 500, purged: int = 100) -> None:
    """The cost of `collect_garbage` (median of 5 each), and of a `trash empty` that collects."""
    from vault import attachstore
    from vault.records import new_record
    from vault.vault import Vault

    vault = Vault.create(tmp / "a", "bench@example.com", PW)
    recs = [new_record("login", f"Bench {i}", {"password": f"pw-{i}"}) for i in range(records)]
    vault.add_many(recs)
    src = tmp / "file.bin"
    src.write_bytes(os.urandom(1000))
    for r in recs[:with_files]:
        attachstore.add(vault, r.id, src)
    blobs = tmp / "a" / "blobs"
    old = time.time() - 2 * 3600
    for p in blobs.iterdir():
        os.utime(p, (old, old))

    def median_ms(fn: object) -> float:
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            assert fn() == (0, 0)  # type: ignore[operator]
            runs.append(time.perf_counter() - t0)
        return statistics.median(runs) * 1000

    young = median_ms(lambda: attachstore.collect_garbage(vault, min_age=10 * 3600))
    named = median_ms(lambda: attachstore.collect_garbage(vault))
    for r in recs[:purged]:
        vault.trash(r.id)
    now = time.time()
    for p in blobs.iterdir():  # young: the purge's own collection finds nothing old enough
        os.utime(p, (now, now))
    t0 = time.perf_counter()
    vault.empty_trash()
    empty = (time.perf_counter() - t0) * 1000
    for p in blobs.iterdir():
        os.utime(p, (old, old))
    t0 = time.perf_counter()
    gone, size = attachstore.collect_garbage(vault)
    collect = (time.perf_counter() - t0) * 1000
    assert gone == purged, f"{gone} blobs removed, {purged} expected"
    vault.close()
    print(
        f"blob collection at {records:,} records ({with_files} with a file): nothing old enough "
        f"{young:.1f} ms (one listing); all old and named {named:.0f} ms (every version read); "
        f"after `trash empty` of {purged} records with files ({empty:.0f} ms), removing their "
        f"{gone} blobs ({size / 1000:.0f} kB) {collect:.0f} ms",
        flush=True,
    )


def _baseline(src: Path, tmp: Path, durable: bool = False) -> float:
    """`cp` of the file, then one AES-256-GCM pass over its bytes (1 MiB at a time); `durable`:
    also `sync` the copy to disk, as every blob write here is (fsync before the rename)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    target = tmp / f"cp-{os.urandom(4).hex()}"
    t0 = time.perf_counter()
    subprocess.run(["cp", str(src), str(target)], check=True)
    if durable:
        fd = os.open(target, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    aead = AESGCM(os.urandom(32))
    with open(src, "rb") as f:
        i = 0
        while block := f.read(1 << 20):
            aead.encrypt(i.to_bytes(12, "big"), block, b"")
            i += 1
    took = time.perf_counter() - t0
    target.unlink()
    return took


def _ten_mb(tmp: Path, repeat: int) -> None:
    from sync.blobsync import add_file, folder_blobs
    from sync.folder import FolderSync
    from vault.attachments import blob_size
    from vault.records import new_record
    from vault.vault import Vault

    folder = tmp / "Dropbox"
    folder.mkdir()
    src = tmp / "ten.bin"
    src.write_bytes(os.urandom(10 * MB))
    vault = Vault.create(tmp / "a", "bench@example.com", PW)
    rid = vault.add(new_record("login", "Bench")).id
    vault.update_settings(sync={"method": "folder", "folder": str(folder)})
    sync = FolderSync(vault, folder)
    sync.sync_now()
    base, durable, ours, add_only = [], [], [], []
    for _ in range(repeat):
        base.append(_baseline(src, tmp))
        durable.append(_baseline(src, tmp, durable=True))
        t0 = time.perf_counter()
        att = add_file(vault, rid, src)  # as `attach add` and the app's files screen do
        t1 = time.perf_counter()
        sync.sync_now()
        t2 = time.perf_counter()
        in_folder = folder_blobs(sync.account_dir).path(att.blob)
        assert in_folder.stat().st_size == blob_size(att.size), "the folder lacks the file"
        ours.append(t2 - t0)
        add_only.append(t1 - t0)
    vault.close()
    b, d, o, a = (statistics.median(x) * 1000 for x in (base, durable, ours, add_only))
    verdict = "OK" if o < 2 * b else "OVER"
    print(
        f"10 MB attachment: add + folder sync {o:.0f} ms (add {a:.0f} ms, sync {o - a:.0f} ms); "
        f"cp + one AES-GCM pass {b:.0f} ms; ratio {o / b:.2f}x [target < 2x] {verdict}; "
        f"with the copy synced to disk (cp + fsync + AES-GCM) {d:.0f} ms: {o / d:.2f}x",
        flush=True,
    )


_STEP = r"""
import asyncio, sys, time
from pathlib import Path
step, home, arg, port = sys.argv[1:5]
from vault.vault import Vault
from vault import attachstore
from sync.blobsync import add_file, fetch_if_missing
from sync.method import sync_now
t0 = time.perf_counter()
vault = Vault.open(Path(home))
vault.unlock(PASSWORD)
if step == "add":
    add_file(vault, vault.find("Bench"), Path(arg))
    sync_now(vault)
elif step == "serve":  # Wi-Fi: A answers until its stdin closes
    from sync.wifi import WifiPeer

    async def serve():
        async with WifiPeer(vault, ["127.0.0.1"], int(port)):
            print("ready", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(serve())
else:
    if port != "0":  # Wi-Fi: sync with A at 127.0.0.1:port
        from sync.wifi import WifiPeer

        async def once():
            async with WifiPeer(vault, ["127.0.0.1"]) as peer:
                r = await peer.sync_with("127.0.0.1", int(port))
                assert r.ok and r.files_received == 1, r
        asyncio.run(once())
    else:
        sync_now(vault)
    att = attachstore.listed(vault, vault.find("Bench"))[0]
    fetch_if_missing(vault, att)
    attachstore.save_to(vault, att, Path(arg))
took = time.perf_counter() - t0
from bench.common import own_peak_mb
print(f"{took:.3f} {own_peak_mb() * 1024:.0f}", flush=True)
"""


def _step(step: str, home: Path, arg: Path, port: int = 0) -> tuple[float, float]:
    """One device step in its own process: (seconds, peak memory in MB)."""
    done = subprocess.run(_argv(step, home, arg, port), env=_env(), capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{step} failed: {done.stderr[-2000:]}")
    took_s, rss_kib = done.stdout.split()[-2:]
    return float(took_s), int(rss_kib) / 1024.0


def _argv(step: str, home: Path, arg: Path, port: int) -> list[str]:
    code = f"PASSWORD = {PW!r}\n" + _STEP
    return [sys.executable, "-c", code, step, str(home), str(arg), str(port)]


def _env() -> dict[str, str]:
    return os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def _round_trip(tmp: Path, size: int) -> None:
    src = tmp / "big.bin"
    with open(src, "wb") as f:
        for _ in range(size // MB):
            f.write(os.urandom(MB))
    for method in ("folder", "cloud", "wifi"):
        rows = _one_method(tmp / method, method, src)
        out = tmp / method / "out.bin"
        same = _same(src, out)
        for what, took, rss in rows:
            verdict = "OK" if rss < 200 else "OVER"
            memory = f", peak memory {rss:.0f} MB [target < 200 MB] {verdict}" if rss else ""
            print(
                f"{size / MB:.0f} MB attachment, {method}, {what}: {took * 1000:.0f} ms{memory}",
                flush=True,
            )
        print(f"  {method}: round trip byte-exact: {same}", flush=True)
        if not same:
            raise SystemExit(f"the attachment did not round-trip byte-exact by {method}")
        shutil.rmtree(tmp / method, ignore_errors=True)


def _one_method(tmp: Path, method: str, src: Path) -> list[tuple[str, float, float]]:
    """Two devices of one account syncing by `method`; A adds `src`, B saves it to out.bin."""
    from vault.records import new_record
    from vault.vault import Vault

    tmp.mkdir()
    a = Vault.create(tmp / "a", "bench@example.com", PW)
    a.add(new_record("login", "Bench"))
    out = tmp / "out.bin"
    if method == "folder":
        from sync.folder import FolderSync, bootstrap_from_folder

        folder = tmp / "Dropbox"
        folder.mkdir()
        a.update_settings(sync={"method": "folder", "folder": str(folder)})
        FolderSync(a, folder).sync_now()
        b = bootstrap_from_folder(tmp / "b", folder, "bench@example.com", PW, a.slot.kit)
        b.update_settings(sync={"method": "folder", "folder": str(folder)})
        a.close()
        b.close()
        return [
            ("add + sync on A", *_step("add", tmp / "a", src)),
            ("sync + save on B", *_step("get", tmp / "b", out)),
        ]
    if method == "cloud":
        from sync.cloud import CloudClient, save_session
        from sync.server.runner import ServerThread
        from sync.server.service import ServerConfig

        cfg = ServerConfig(database=str(tmp / "server.db"), outbox=tmp / "outbox")
        with ServerThread(cfg) as server:
            client = CloudClient(server.url)
            save_session(a, client.signup(a.slot, a.keys, a.device, "bench a"))
            a.update_settings(sync={"method": "cloud", "server": server.url})
            slot, keys, session = client.signin_with_kit(
                "bench@example.com", PW, a.slot.kit, "benchb", "bench b"
            )
            b = Vault.adopt(tmp / "b", slot, keys, [])
            save_session(b, session)
            b.update_settings(sync={"method": "cloud", "server": server.url})
            a.close()
            b.close()
            return [
                ("add + sync on A", *_step("add", tmp / "a", src)),
                ("sync + save on B", *_step("get", tmp / "b", out)),
            ]
    # Wi-Fi: A adds (no sync method), then serves; B syncs with it on loopback
    b = Vault.adopt(tmp / "b", a.slot, a.keys, [])
    a.close()
    b.close()
    return _wifi(tmp, src, out)


def _wifi(tmp: Path, src: Path, out: Path) -> list[tuple[str, float, float]]:
    import socket

    from vault import attachstore
    from vault.vault import Vault

    a = Vault.open(tmp / "a")
    a.unlock(PW)
    t0 = time.perf_counter()
    attachstore.add(a, a.find("Bench"), src)
    add_s = time.perf_counter() - t0
    a.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve = subprocess.Popen(
        _argv("serve", tmp / "a", src, port),
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert serve.stdout is not None and serve.stdin is not None
    if serve.stdout.readline().strip() != "ready":
        raise SystemExit("the Wi-Fi peer did not start")
    try:
        got = _step("get", tmp / "b", out, port)
    finally:
        serve.stdin.close()
        rest = serve.stdout.read().split()
        serve.wait(30)
    serve_s, serve_rss = float(rest[-2]), int(rest[-1]) / 1024.0
    return [
        ("add on A, in the bench process", add_s, 0.0),
        ("serving peer A", serve_s, serve_rss),
        ("sync + save on B", *got),
    ]


_APP = r"""
import asyncio, sys, time
from pathlib import Path
from tui.app import StrongroomApp
from tui.screens.account import LockScreen
from tui.screens.files import FilesScreen, PathPrompt
from tui.screens.records import RecordDetailScreen, RecordListScreen
home, src, out = (Path(a) for a in sys.argv[1:4])

async def until(pilot, check, seconds=600):
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > seconds:
            raise SystemExit(f"timed out on {type(pilot.app.screen).__name__}")
        await pilot.pause(0.02)

async def typed(pilot, text):
    for ch in text:
        await pilot.press(ch if ch != " " else "space")

async def main():
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LockScreen))
        await typed(pilot, PASSWORD)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen))
        await until(pilot, lambda: app.screen.query_one("#records").rows)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RecordDetailScreen))
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FilesScreen))
        files = app.screen
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, PathPrompt))
        app.screen.query_one("#path").value = str(src)  # typing it is not what is measured
        t0 = time.perf_counter()
        await pilot.press("enter")
        await until(pilot, lambda: len(files.files) == 1)
        added = time.perf_counter() - t0
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, PathPrompt))
        app.screen.query_one("#path").value = str(out)
        t0 = time.perf_counter()
        await pilot.press("enter")
        await until(pilot, lambda: "Saved" in str(files.query_one("#files-status").render()))
        saved = time.perf_counter() - t0
    from bench.common import own_peak_mb
    peak = round(own_peak_mb() * 1024)
    print(f"{added:.3f} {saved:.3f} {peak}", flush=True)

asyncio.run(main())
"""


def _in_the_app(tmp: Path, size: int) -> None:
    """The real app adds `size` bytes through its files screen and saves them back out, with
    folder sync on (its background sync runs); its process's peak memory."""
    from sync.folder import FolderSync
    from vault.records import new_record
    from vault.vault import Vault

    src, out, folder = tmp / "big.bin", tmp / "saved.bin", tmp / "Dropbox"
    with open(src, "wb") as f:
        for _ in range(size // MB):
            f.write(os.urandom(MB))
    folder.mkdir()
    vault = Vault.create(tmp / "a", "bench@example.com", PW)
    vault.add(new_record("login", "Bench"))
    vault.update_settings(sync={"method": "folder", "folder": str(folder)})
    FolderSync(vault, folder).sync_now()
    vault.close()
    code = f"PASSWORD = {PW!r}\n" + _APP
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp / "a"), str(src), str(out)],
        env=_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"the app step failed: {done.stderr[-2000:]}")
    added, saved, rss = done.stdout.split()[-3:]
    peak = int(rss) / 1024.0
    verdict = "OK" if peak < 200 else "OVER"
    print(
        f"{size / MB:.0f} MB attachment in the app (files screen, folder sync on): add "
        f"{float(added) * 1000:.0f} ms, save {float(saved) * 1000:.0f} ms, peak memory "
        f"{peak:.0f} MB [target < 200 MB] {verdict}; byte-exact: {_same(src, out)}",
        flush=True,
    )


def _same(a: Path, b: Path) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True
