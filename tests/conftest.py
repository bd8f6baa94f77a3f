"""Shared fixtures. The cheap KDF profile is enabled only here, through the explicit switch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

os.environ["STRONGROOM_INSECURE_TEST_KDF"] = "1"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty device home folder."""
    return tmp_path / "home"


class _SpyLib:
    """Stands in for the Argon2 C library inside vault.kdf: records each argon2_hash call
    (t, m_kib, p first) and answers with an all-zero key instead of running it."""

    def __init__(self, real: Any, calls: list[tuple[object, ...]]) -> None:
        self._real, self.calls = real, calls

    def argon2_hash(self, *args: Any) -> int:
        self.calls.append(args)
        out, length = args[7], args[8]
        for i in range(length):
            out[i] = 0
        return int(self._real.ARGON2_OK)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Every Argon2id run the code under test starts (none is really run): proves a refusal
    happens before the KDF, which is what keeps a forged cost from costing us minutes."""
    from vault import kdf

    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(kdf, "lib", _SpyLib(kdf.lib, calls))
    return calls
