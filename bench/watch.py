"""What an idle `strongroom sync serve` on a folder costs, and how fast one change gets through.

Issue 19 (Build 2): an idle serve reads nothing from the folder (the watcher's own reads of
data.mssb used to wake it: 133 MB read in 10 s at 10,000 records) and stays under 1% CPU; a change
written by another device shows here in under 1 s.

A real `sync serve` process on a home of N records (10,000; `--quick`: 1,000) watching a real
folder; another device (this process) writes changes into the folder. Figures from the serve's
/proc/PID/io (rchar: bytes its read calls returned, page cache included; read_bytes: bytes
fetched from the block device) and /proc/PID/stat (user + system CPU time). Propagation: from the
other device's file being in place to the serve printing that it merged the change.

Run: python3 -m bench watch  (cheap KDF inside the run: the figures are sync work, not sign-in).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from bench.common import insecure_test_kdf

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench watch password"
IDLE = 10.0
ROUNDS = 5


def _io(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = int(value)
    return out


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _idle(pid: int, seconds: float) -> tuple[int, int, float]:
    """(rchar, read_bytes, CPU %) of the process over `seconds` of doing nothing."""
    io0, cpu0, t0 = _io(pid), _cpu(pid), time.monotonic()
    time.sleep(seconds)
    io1, cpu1, t1 = _io(pid), _cpu(pid), time.monotonic()
    return (
        io1["rchar"] - io0["rchar"],
        io1["read_bytes"] - io0["read_bytes"],
        100 * (cpu1 - cpu0) / (t1 - t0),
    )


class _Serve:
    def __init__(self, home: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
        env |= {
            "STRONGROOM_INSECURE_TEST_KDF": "1",
            "STRONGROOM_HOME": str(home),
            "STRONGROOM_PASSWORD": PASSWORD,
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "sync", "serve"],
            env=env,
            cwd=home.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, text: str, after: float = 0.0, seconds: float = 60.0) -> float:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for at, line in list(self.lines):
                if at >= after and text in line:
                    return at
            if self.proc.poll() is not None:
                raise SystemExit(f"sync serve ended: {self.lines}")
            time.sleep(0.005)
        raise SystemExit(f"sync serve never said {text!r}: {self.lines}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def run() -> None:
    n = 1_000 if "--quick" in sys.argv else 10_000
    with insecure_test_kdf(), tempfile.TemporaryDirectory() as d:
        _measure(Path(d), n)


def _measure(tmp: Path, n: int) -> None:
    from sync.folder import FolderSync, bootstrap_from_folder
    from sync.method import configure
    from vault.records import new_record
    from vault.vault import Vault

    folder = tmp / "Dropbox"
    folder.mkdir()
    a = Vault.create(tmp / "a", "bench@example.com", PASSWORD)
    a.add_many(
        [
            new_record("login", f"Site {i}", {"username": f"u{i}", "password": f"pw-{i}-xxxxxxxx"})
            for i in range(n)
        ]
    )
    configure(a, "folder", folder=str(folder))
    FolderSync(a, folder).sync_now()
    size = FolderSync(a, folder).path.stat().st_size
    b = bootstrap_from_folder(tmp / "b", folder, "bench@example.com", PASSWORD, a.slot.kit)
    a.close()
    sb = FolderSync(b, folder)
    ids = [s.id for s in b.summaries()][:ROUNDS]
    serve = _Serve(tmp / "a")
    try:
        serve.wait_for("Watching")
        time.sleep(3.0)  # the first sync (nothing to do) is over
        rchar, read_bytes, cpu = _idle(serve.proc.pid, IDLE)
        print(f"{n} records, data.mssb {size / 1e6:.2f} MB; idle `sync serve` over {IDLE:.0f} s:")
        print(
            f"  read {rchar:,} B (rchar), {read_bytes:,} B from disk (read_bytes), CPU {cpu:.2f}%"
            f"   targets: 0 B from the folder, < 1% CPU",
            flush=True,
        )
        took = []
        for k, rid in enumerate(ids):
            b.update(replace(b.record(rid), notes=f"from b {k}"))
            sb.sync_now()  # the file is in place when this returns
            written = time.monotonic()
            seen = serve.wait_for("1 record(s) updated here", after=written)
            took.append(seen - written)
            time.sleep(1.0)
        print(
            "  a change written by another device, merged by the serve: "
            f"median {statistics.median(took) * 1000:.0f} ms, max {max(took) * 1000:.0f} ms "
            f"(n={len(took)})   target: < 1000 ms",
            flush=True,
        )
        time.sleep(2.0)
        rchar, read_bytes, cpu = _idle(serve.proc.pid, IDLE)
        print(
            f"  idle again after those changes, {IDLE:.0f} s: read {rchar:,} B (rchar), "
            f"{read_bytes:,} B from disk, CPU {cpu:.2f}%",
            flush=True,
        )
    finally:
        serve.stop()
        b.close()


if __name__ == "__main__":
    run()
