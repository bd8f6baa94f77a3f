"""Rows of the peers table that only Strongroom has: the app's first list paint and search
keystroke (headless, through the real app), a data.mssb write after one change, a merge of a
copy that differs in 1%, and an import. The peers have no such operation to compare with.

Measured on the vault the peers table already built (same records), after the shared rows,
so they never disturb those. The app runs are whole processes of the install being timed;
sync and merge are timed inside this process (they are library calls with no process start).
"""

from __future__ import annotations

import json
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench.common import timed
from bench.core import PASSWORD
from bench.peers import Install, Sample
from bench.tui import LOADED

Row = tuple[str, int, str, Sample]


def app_rows(n: int, home: Path, install: Install, repeats: int, cwd: Path) -> list[Row]:
    """First list paint after the KDF, and a search keystroke to updated rows, in the real app."""
    runs = []
    for _ in range(max(3, repeats // 2)):
        done = subprocess.run(
            [install.python, "-c", LOADED, str(home), PASSWORD],
            capture_output=True,
            text=True,
            cwd=cwd,
        )  # not the repo's folder: the install under test must be imported
        if done.returncode != 0:
            raise RuntimeError(f"the app run failed: {done.stderr[-1500:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    peak = max(r["peak_rss_mb"] for r in runs)
    paint = Sample([r["first_paint_s"] for r in runs], peak)
    keys = Sample([statistics.median(r["keystrokes_ms"]) / 1000 for r in runs], peak)
    return [
        ("list first paint (app)", n, "strongroom", paint),
        ("search keystroke (app)", n, "strongroom", keys),
    ]


def sync_rows(n: int, home: Path, base: Path, repeats: int) -> list[Row]:
    """data.mssb written after one local change; a merge of a copy differing in 1% (and 1% local)."""
    from sync.folder import FolderSync, bootstrap_from_folder
    from vault.vault import Vault

    folder = base / "Dropbox"
    folder.mkdir(exist_ok=True)
    a = Vault.open(home)
    a.unlock(PASSWORD)
    sa = FolderSync(a, folder)
    sa.sync_now()  # the first full write: setup
    ids = [s.id for s in a.summaries()]
    writes = []
    for k in range(repeats):
        a.update(replace(a.record(ids[k]), notes=f"changed here {k}"))
        writes += timed(sa.sync_now, 1)
    b = bootstrap_from_folder(
        base / "second-device", folder, "bench@example.com", PASSWORD, a.slot.kit
    )
    sb = FolderSync(b, folder)
    step = max(1, n // 100)
    merges = []
    for k in range(min(repeats, 3)):
        theirs = ids[(2 * k) * step : (2 * k + 1) * step]
        mine = ids[(2 * k + 1) * step : (2 * k + 2) * step]
        for rid in theirs:
            b.update(replace(b.record(rid), notes=f"changed there {k}"))
        sb.sync_now()
        for rid in mine:
            a.update(replace(a.record(rid), notes=f"changed here too {k}"))
        merges += timed(sa.sync_now, 1)
    a.close()
    b.close()
    return [
        ("data.mssb write", n, "strongroom", Sample(writes)),
        ("merge, 1% differs", n, "strongroom", Sample(merges)),
    ]


def import_rows(
    n: int,
    export_file: Path,
    base: Path,
    install: Install,
    repeats: int,
    run_once: Callable[[list[str], str, dict[str, str]], tuple[float, float]],
    env: dict[str, str],
) -> list[Row]:
    """`strongroom import strongroom-json FILE` of every record into an empty vault, whole process."""
    from vault import kdf
    from vault.vault import Vault

    seconds, peak = [], 0.0
    for k in range(min(repeats, 3)):
        home = base / f"import-{k}"
        Vault.create(home, "bench@example.com", PASSWORD, params=kdf.PRODUCTION).close()
        secs, mb = run_once(
            [*install.strongroom, "import", "strongroom-json", str(export_file)],
            "",
            env | {"STRONGROOM_HOME": str(home)},
        )
        seconds.append(secs)
        peak = max(peak, mb)
    return [("import (strongroom-json)", n, "strongroom", Sample(seconds, peak))]
