"""Issue 22's proof, as a test: a 50 MB attachment goes from device A to device B by each sync
method (a real folder, the real account server on 127.0.0.1 with SQLite, Wi-Fi on loopback),
every device step in its own process, and comes out byte-exact with each process's peak memory
under 200 MB; the real app adding and saving it through its files screen stays under 200 MB
too. The steps are bench/attach.py's (`python3 -m bench attach` prints their times)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import attach

MB = 1_000_000
SIZE = 50 * MB


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src") / "big.bin"
    with open(src, "wb") as f:
        for _ in range(SIZE // MB):
            f.write(os.urandom(MB))
    return src


@pytest.mark.parametrize("method", ["folder", "cloud", "wifi"])
def test_50_mb_round_trip_byte_exact_under_200_mb(
    method: str, big_file: Path, tmp_path: Path
) -> None:
    rows = attach._one_method(tmp_path / method, method, big_file)
    assert attach._same(big_file, tmp_path / method / "out.bin")
    peaks = {what: rss for what, _, rss in rows if rss}
    assert len(peaks) >= 2 and all(rss < 200 for rss in peaks.values()), peaks


def test_50_mb_in_the_app_under_200_mb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    attach._in_the_app(tmp_path, SIZE)
    said = capsys.readouterr().out
    assert "byte-exact: True" in said and "[target < 200 MB] OK" in said, said
