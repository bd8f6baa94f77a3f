"""Issue 21 numbers, one command: `python3 -m bench import_scale` (`--quick`: 10,000 / 1,000).

1. 100,000 Bitwarden-JSON records imported — read, duplicate check, seal, one transaction; the
   vault's own KDF excluded — in a child process of their own: wall and CPU seconds and the
   process's peak RSS from just before the import. Budget: 3 s and 300 MB.
2. A 10,000-entry KDBX 4 file (Argon2id 64 MiB, t = 3, p = 4), whole processes measured
   alternately: keepassxc-cli's own `export` of it (XML to stdout), Strongroom reading it (the
   interpreter's start, the KDF, decryption and every entry built into a record), and the whole
   `strongroom import keepass-kdbx` into an empty vault (its own Argon2id unlock too). Budget:
   reading in under 2× keepassxc-cli's export. No keepassxc-cli on the machine: said, and only
   Strongroom's rows are printed (`apt-get install keepassxc` brings it).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 3


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env["PYTHONPATH"] = str(REPO)
    return env | extra


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_bitwarden(src: Path, home: Path) -> None:
    """In its own process: make a vault (KDF), then import `src` into it; print the numbers."""
    import gc

    from bench.common import refuse_insecure_test_kdf
    from bench.imports import PASSWORD, _peak_mb, _reset_peak
    from vault import kdf
    from vault.importers import import_report, read_file
    from vault.vault import Vault

    refuse_insecure_test_kdf()
    vault = Vault.create(home, "bench@example.com", PASSWORD, params=kdf.PRODUCTION)
    gc.collect()
    reset = _reset_peak()
    c0, t0 = _cpu(), time.perf_counter()
    report = read_file("bitwarden-json", src)
    t1 = time.perf_counter()
    result = import_report(vault, report)
    t2, c2 = time.perf_counter(), _cpu()
    vault.close()
    out = {
        "added": len(result.added),
        "parse": t1 - t0,
        "store": t2 - t1,
        "wall": t2 - t0,
        "cpu": c2 - c0,
        "peak_mb": _peak_mb(),
        "peak_reset": reset,
    }
    print(json.dumps(out))


def _bitwarden(tmp: Path, n: int) -> None:
    from bench.imports import bitwarden_doc

    src = tmp / "bitwarden.json"
    src.write_text(json.dumps(bitwarden_doc(n)), encoding="utf-8")
    size = src.stat().st_size / 1e6
    rows = []
    for i in range(RUNS):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.import_scale",
                "--child-bitwarden",
                str(src),
                str(tmp / f"h{i}"),
            ],
            cwd=REPO,
            env=_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the import child failed: {done.stderr.strip()[-500:]}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        assert row["added"] == n, row
        rows.append(row)
        shutil.rmtree(tmp / f"h{i}")
    wall = statistics.median(r["wall"] for r in rows)
    cpu = statistics.median(r["cpu"] for r in rows)
    peak = max(r["peak_mb"] for r in rows)
    print(
        f"import {n:,} Bitwarden-JSON records ({size:.0f} MB), KDF excluded, {RUNS} runs: "
        f"median {wall:.2f} s wall (min {min(r['wall'] for r in rows):.2f}; parse "
        f"{statistics.median(r['parse'] for r in rows):.2f} s, dedupe + seal + one transaction "
        f"{statistics.median(r['store'] for r in rows):.2f} s), {cpu:.2f} s CPU"
        + (f"   budget 3 s{'  OK' if wall <= 3 else '  OVER'}" if n >= 100_000 else ""),
        flush=True,
    )
    print(
        f"  peak RSS of the importing process from just before the import: {peak:.0f} MB"
        + (f"   budget 300 MB{'  OK' if peak <= 300 else '  OVER'}" if n >= 100_000 else "")
        + (
            ""
            if all(r["peak_reset"] for r in rows)
            else "  (peak could not be reset: KDF included)"
        ),
        flush=True,
    )


def _kdbx(tmp: Path, n: int) -> None:
    from bench.core import PASSWORD
    from bench.peers import build_kdbx, run_once
    from vault import kdf
    from vault.vault import Vault

    db = tmp / "db.kdbx"
    t0 = time.perf_counter()
    if not build_kdbx(db, n):
        print("[import_scale] pykeepass missing: the KDBX comparison is skipped", flush=True)
        return
    print(
        f"[import_scale] built a {n:,}-entry KDBX 4 (Argon2id 64 MiB, t=3, p=4; "
        f"{db.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    kxc = shutil.which("keepassxc-cli")
    if kxc is None:
        print(
            "keepassxc-cli is not installed (apt-get install keepassxc): its export is not "
            "measured, only Strongroom's rows follow",
            flush=True,
        )
    read = (
        "import sys\nfrom pathlib import Path\nfrom vault.importers import read_file\n"
        "from vault.importers.secret import FileSecret\n"
        f"r = read_file('keepass-kdbx', Path({str(db)!r}), FileSecret({PASSWORD!r}))\n"
        f"assert len(r.records) == {n}, r\n"
    )
    homes = []
    for i in range(RUNS):
        home = tmp / f"sr{i}"
        Vault.create(home, "bench@example.com", PASSWORD, params=kdf.PRODUCTION).close()
        homes.append(home)
    tools: dict[str, list[tuple[float, float]]] = {}
    for i in range(RUNS):  # alternately, so load changes hit every tool alike
        if kxc:
            tools.setdefault("keepassxc-cli export (XML)", []).append(
                run_once([kxc, "export", "-q", "-f", "xml", str(db)], PASSWORD + "\n", _env())
            )
        tools.setdefault("strongroom: read the .kdbx into records", []).append(
            run_once([sys.executable, "-c", read], "", _env())
        )
        env = _env(
            STRONGROOM_HOME=str(homes[i]),
            STRONGROOM_PASSWORD=PASSWORD,
            STRONGROOM_IMPORT_PASSWORD=PASSWORD,
        )
        tools.setdefault("strongroom import (+ own unlock, store)", []).append(
            run_once([sys.executable, "-m", "cli", "import", "keepass-kdbx", str(db)], "", env)
        )
    print(f"{n:,}-entry KDBX 4, whole processes, {RUNS} runs each (median, min–max; peak RSS):")
    medians = {}
    for name, samples in tools.items():
        secs = [s for s, _ in samples]
        medians[name] = statistics.median(secs)
        print(
            f"  {name:<42} {medians[name]:6.2f} s ({min(secs):.2f}–{max(secs):.2f})"
            f"  {max(m for _, m in samples):5.0f} MB",
            flush=True,
        )
    if kxc:
        base = medians["keepassxc-cli export (XML)"]
        ratio = medians["strongroom: read the .kdbx into records"] / base
        full = medians["strongroom import (+ own unlock, store)"] / base
        print(
            f"  reading / keepassxc-cli export = {ratio:.2f}×   budget 2×"
            f"{'  OK' if ratio <= 2 else '  OVER'};  whole import / export = {full:.2f}×",
            flush=True,
        )


def run() -> None:
    from bench.common import ensure_bytecode, refuse_insecure_test_kdf

    refuse_insecure_test_kdf()
    ensure_bytecode()
    quick = "--quick" in sys.argv
    load = os.getloadavg()[0]
    print(f"[import_scale] load average {load:.1f} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        _bitwarden(Path(tmp), 10_000 if quick else 100_000)
        _kdbx(Path(tmp), 1_000 if quick else 10_000)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child-bitwarden":
        child_bitwarden(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        run()
