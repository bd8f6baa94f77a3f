"""Attachments (issue 22): `python3 -m bench attach [--quick]`.

1. Adding a 10 MB attachment and syncing it through a folder, against `cp` of the file plus one
   AES-256-GCM pass over it (target: under 2×). Median of 5.
2. A 50 MB attachment round trip through a real folder, each step in its own process, with that
   process's peak memory (ru_maxrss; target < 200 MB) and a byte-exact check at the end.
   `--quick`: 10 MB instead of 50 MB.
"""

from __future__ import annotations

import os
import resource
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
        with tempfile.TemporaryDirectory() as d:
            _ten_mb(Path(d), repeat=3 if quick else 5)
        with tempfile.TemporaryDirectory() as d:
            _round_trip(Path(d), (10 if quick else 50) * MB)


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
    from sync.folder import FolderSync
    from vault import attachstore
    from vault.records import new_record
    from vault.vault import Vault

    folder = tmp / "Dropbox"
    folder.mkdir()
    src = tmp / "ten.bin"
    src.write_bytes(os.urandom(10 * MB))
    vault = Vault.create(tmp / "a", "bench@example.com", PW)
    rid = vault.add(new_record("login", "Bench")).id
    sync = FolderSync(vault, folder)
    sync.sync_now()
    base, durable, ours, add_only = [], [], [], []
    for _ in range(repeat):
        base.append(_baseline(src, tmp))
        durable.append(_baseline(src, tmp, durable=True))
        t0 = time.perf_counter()
        attachstore.add(vault, rid, src)
        t1 = time.perf_counter()
        report = sync.sync_now()
        t2 = time.perf_counter()
        assert report.blobs.sent == 1
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
import resource, sys, time
from pathlib import Path
step, home, folder, arg = sys.argv[1:5]
from vault.vault import Vault
from sync.folder import FolderSync
from vault import attachstore
from sync.blobsync import fetch_if_missing
t0 = time.perf_counter()
vault = Vault.open(Path(home))
vault.unlock(PASSWORD)
rid = vault.find("Bench")
if step == "add":
    attachstore.add(vault, rid, Path(arg))
    FolderSync(vault, Path(folder)).sync_now()
else:
    FolderSync(vault, Path(folder)).sync_now()
    att = attachstore.listed(vault, rid)[0]
    fetch_if_missing(vault, att)
    attachstore.save_to(vault, att, Path(arg))
took = time.perf_counter() - t0
print(f"{took:.3f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
"""


def _round_trip(tmp: Path, size: int) -> None:
    from sync.folder import FolderSync, bootstrap_from_folder
    from vault.records import new_record
    from vault.vault import Vault

    folder = tmp / "Dropbox"
    folder.mkdir()
    src = tmp / "big.bin"
    with open(src, "wb") as f:
        for _ in range(size // MB):
            f.write(os.urandom(MB))
    a = Vault.create(tmp / "a", "bench@example.com", PW)
    a.add(new_record("login", "Bench"))
    a.update_settings(sync={"method": "folder", "folder": str(folder)})
    FolderSync(a, folder).sync_now()
    b = bootstrap_from_folder(tmp / "b", folder, "bench@example.com", PW, a.slot.kit)
    b.update_settings(sync={"method": "folder", "folder": str(folder)})
    a.close()
    b.close()
    out = tmp / "out.bin"
    env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    rows: list[tuple[str, float, float]] = []
    for step, home, arg in (("add", tmp / "a", src), ("get", tmp / "b", out)):
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                f"PASSWORD = {PW!r}\n" + _STEP,
                step,
                str(home),
                str(folder),
                str(arg),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"{step} failed: {done.stderr[-2000:]}")
        took_s, rss_kib = done.stdout.split()
        rows.append((step, float(took_s), int(rss_kib) / 1024.0))
    same = _same(src, out)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for step, took, rss in rows:
        what = "add + folder sync on A" if step == "add" else "folder sync + save on B"
        verdict = "OK" if rss < 200 else "OVER"
        print(
            f"{size / MB:.0f} MB attachment, {what}: {took * 1000:.0f} ms, peak memory "
            f"{rss:.0f} MB [target < 200 MB] {verdict}",
            flush=True,
        )
    print(f"  round trip byte-exact: {same} (bench process itself peaked at {baseline:.0f} MB)")
    if not same:
        raise SystemExit("the attachment did not round-trip byte-exact")
    shutil.rmtree(tmp / "a", ignore_errors=True)


def _same(a: Path, b: Path) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True
