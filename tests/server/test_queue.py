"""The client queue survives offline use and restarts; pulls are incremental and paged with progress."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.cloud import CloudClient, CloudServerUnavailableError, CloudSync, load_session
from sync.server.runner import ServerThread
from sync.server.service import ServerConfig
from vault.vault import Vault

from .helpers import add_login, sign_in, sign_up, titles


def test_offline_changes_are_sent_after_restart(config: ServerConfig, tmp_path: Path) -> None:
    with ServerThread(config) as server:
        a, _ = sign_up(server.url, tmp_path / "a")
        url = server.url
    # server down: edits queue up locally, sync fails with a clear error, nothing is lost
    add_login(a, "Made offline 1")
    add_login(a, "Made offline 2")
    with pytest.raises(CloudServerUnavailableError):
        CloudSync(a, CloudClient(url, timeout=2)).sync_now()
    a.close()
    # the app restarts, the server comes back (same database, new port)
    with ServerThread(config) as server:
        a = Vault.open(tmp_path / "a")
        a.unlock("correct horse battery staple")
        rep = CloudSync(a, CloudClient(server.url), load_session(a)).sync_now()
        assert rep.sent == 2
        b, _ = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
        assert titles(b) == {"Made offline 1", "Made offline 2"}
        # nothing pending: the next sync sends nothing, and pulling what b got is not echoed back
        assert CloudSync(a, CloudClient(server.url)).sync_now().sent == 0
        assert CloudSync(b, CloudClient(server.url)).sync_now().sent == 0


def test_incremental_and_paged_pull(server: ServerThread, tmp_path: Path) -> None:
    a, sa = sign_up(server.url, tmp_path / "a")
    for i in range(25):
        add_login(a, f"R{i}")
    client = CloudClient(server.url)
    CloudSync(a, client, sa).sync_now()
    pages = list(client.pull(sa, 0, limit=10))
    assert [len(envs) for envs, _, _ in pages] == [10, 10, 5]
    assert pages[-1][1] == pages[-1][2]  # the cursor ends at the server revision
    # only changes since a cursor come back
    add_login(a, "Late")
    CloudSync(a, client, sa).sync_now()
    later = [e for envs, _, _ in client.pull(sa, pages[-1][1]) for e in envs]
    assert len(later) == 1
    seen: list[tuple[int, int]] = []
    b, _ = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    assert len(titles(b)) == 26
    c_home = tmp_path / "c"
    slot, keys, sc = client.signin_with_kit(
        "alice@example.com", "correct horse battery staple", a.slot.kit, "devc", "c"
    )
    c = Vault.adopt(c_home, slot, keys, [])
    CloudSync(c, client, sc).sync_now(progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]
