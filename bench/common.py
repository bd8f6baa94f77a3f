"""Helpers shared by benchmarks: timing, printing, and the cheap test KDF for the runs that need it."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: vault.kdf's test switch (the name is repeated here so importing bench/ loads nothing of vault/).
KDF_SWITCH = "STRONGROOM_INSECURE_TEST_KDF"


@contextmanager
def insecure_test_kdf() -> Iterator[None]:
    """The cheap test KDF inside this block, for this process and the children it starts, then
    the environment as it was. For figures that measure sync or screens, not sign-in cost; every
    other benchmark refuses to run with the switch on, so it must never outlive its block."""
    before = os.environ.get(KDF_SWITCH)
    os.environ[KDF_SWITCH] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ[KDF_SWITCH]
        else:
            os.environ[KDF_SWITCH] = before


def refuse_insecure_test_kdf() -> None:
    """Benchmarks of unlock and sign-in cost run with the production KDF only."""
    if os.environ.get(KDF_SWITCH):
        raise SystemExit(f"unset {KDF_SWITCH}: benchmarks use the production KDF")


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


def write_marked_section(path: Path, start: str, end: str, body: list[str]) -> None:
    """Put `body` between the markers `start` and `end` in `path` (appended the first time), so
    each suite rewrites only its own part of a shared page such as docs/benchmarks.md."""
    section = "\n".join([start, *body, end])
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def own_peak_mb() -> float:
    """This process's own peak RSS in MB: VmHWM, which exec resets. ru_maxrss is not: a process
    forked from a big one (a pytest worker, a benchmark) and then exec'd keeps that one's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
