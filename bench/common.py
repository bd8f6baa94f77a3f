"""Helpers shared by benchmarks: timing and printing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of `repeat` calls."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def report(label: str, seconds: list[float], budget_ms: float | None = None) -> None:
    med = statistics.median(seconds) * 1000
    worst = max(seconds) * 1000
    verdict = (
        ""
        if budget_ms is None
        else ("  OK" if med <= budget_ms else f"  OVER budget {budget_ms:.0f} ms")
    )
    print(
        f"{label:<58} median {med:8.1f} ms   max {worst:8.1f} ms   n={len(seconds)}{verdict}",
        flush=True,
    )


def ensure_bytecode() -> None:
    """Compile our packages once, as a non-editable install does, so whole-process timings do not
    include recompiling every module (PYTHONDONTWRITEBYTECODE would otherwise force it each run)."""
    import compileall
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for pkg in ("vault", "sync", "tui"):
        compileall.compile_dir(str(root / pkg), quiet=1)
