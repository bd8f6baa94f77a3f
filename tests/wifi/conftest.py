"""Wi-Fi test helpers: devices of one account in separate homes, mDNS on loopback only.

zeroconf is bound to ["127.0.0.1"] (never all interfaces: that would multicast onto the real
network); its probe/announce timings are shortened here only, to keep the tests fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from wifihelp import PW

from vault.vault import Vault


@pytest.fixture(autouse=True)
def fast_mdns(monkeypatch: pytest.MonkeyPatch) -> None:
    import zeroconf._core as core

    monkeypatch.setattr(core, "_CHECK_TIME", 10)
    monkeypatch.setattr(core, "_REGISTER_TIME", 10)
    monkeypatch.setattr(core, "_UNREGISTER_TIME", 10)


@pytest.fixture
def account(tmp_path: Path) -> Iterator[Vault]:
    v = Vault.create(tmp_path / "a", "ann@example.com", PW)
    yield v
    v.close()
