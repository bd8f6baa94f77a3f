"""The benchmarks keep running (`--quick`, our side only): a smoke test, not a timing assertion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_peer_bench_runs_and_prints_the_table(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env["STRONGROOM_BENCH_TOOLS"] = "strongroom"
    md = tmp_path / "benchmarks.md"
    r = subprocess.run(
        [sys.executable, "-m", "bench", "peers", "--quick", "--markdown", str(md)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    table = md.read_text(encoding="utf-8")
    assert "| operation | records | tool |" in table and "Machine:" in table
    for op in (
        "unlock only",
        "show one entry",
        "search",
        "add one entry",
        "export",
        "show one entry (agent)",
        "list first paint (app)",
        "search keystroke (app)",
        "import (strongroom-json)",
        "data.mssb write",
        "merge, 1% differs",
    ):
        assert op in r.stdout
        assert f"| {op} | 1,000 | strongroom |" in table
