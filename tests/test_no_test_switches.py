"""Shipped code and the benchmarks flip no test switch on import: importing every module leaves the
cheap test KDF off (it was switched on by importing sync.server.bench and bench.sync, which stopped
`python3 -m bench` at the first suite that needs the production KDF)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vault import kdf

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["vault", "sync", "runtime", "agent", "cli", "tui", "bench"]


def test_importing_every_module_leaves_the_test_kdf_off() -> None:
    env = {k: v for k, v in os.environ.items() if k != kdf.TEST_SWITCH}
    code = (
        "import importlib, os, pkgutil, sys\n"
        f"for name in {PACKAGES!r}:\n"
        "    pkg = importlib.import_module(name)\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, name + '.'):\n"
        "        if not m.name.endswith('__main__'):\n"
        "            importlib.import_module(m.name)\n"
        "print(len(sys.modules), os.environ.get(sys.argv[1]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, kdf.TEST_SWITCH],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert int(out[0]) > 200 and out[1] == "None"


def test_a_benchmark_has_the_cheap_kdf_only_inside_its_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """bench.common.insecure_test_kdf: on for the block and the processes it starts, then off
    again, also when the run fails, so the production-KDF suites after it can run."""
    from bench.common import insecure_test_kdf

    monkeypatch.delenv(kdf.TEST_SWITCH, raising=False)
    child = [sys.executable, "-c", "from vault import kdf; print(kdf.insecure_test_kdf_enabled())"]
    with pytest.raises(RuntimeError), insecure_test_kdf():
        assert kdf.insecure_test_kdf_enabled()
        seen = subprocess.run(child, cwd=ROOT, capture_output=True, text=True, check=True).stdout
        assert seen.strip() == "True"
        raise RuntimeError("a benchmark failing half-way")
    assert not kdf.insecure_test_kdf_enabled() and kdf.TEST_SWITCH not in os.environ
