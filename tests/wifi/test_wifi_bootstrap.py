"""A new device from a peer (password + Kit), and two separate processes syncing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from wifihelp import LOOPBACK, PW, add_notes, device_like, titles

from sync.errors import SourceUnavailableError
from sync.wifi import PeerAuthError, WifiPeer, bootstrap
from vault.errors import AccountExistsError, WrongPasswordError
from vault.vault import Vault


async def test_bootstrap_new_home_from_a_peer(account: Vault, tmp_path: Path) -> None:
    a = account
    add_notes(a, "Shared", 4)
    kit = a.slot.kit
    async with WifiPeer(a, LOOPBACK):
        c = await bootstrap(tmp_path / "c", "Ann@Example.com", PW, kit, LOOPBACK, timeout=5.0)
    assert titles(c) == titles(a) == [f"Shared {i:04d}" for i in range(4)]
    assert c.slot.email == "ann@example.com" and c.settings()["sync"]["method"] == "wifi"
    assert c.device != a.device
    c.close()
    # the new home opens with the password alone, like any device
    again = Vault.open(tmp_path / "c")
    again.unlock(PW)
    assert len(again.summaries()) == 4
    # and it syncs as a member from now on
    add_notes(again, "From C", 1)
    async with WifiPeer(a, LOOPBACK) as pa, WifiPeer(again, LOOPBACK):
        assert (await pa.sync_with_all(timeout=5.0, expect=1)).received == 1
    assert "From C 0000" in titles(a)
    again.close()


async def test_bootstrap_refusals(account: Vault, tmp_path: Path) -> None:
    a = account
    old_kit = a.slot.kit
    # an account already here, or a wrong password: refused before any network use
    with pytest.raises(AccountExistsError):
        await bootstrap(a.home, "ann@example.com", PW, old_kit, LOOPBACK, timeout=0.5)
    with pytest.raises(WrongPasswordError):
        await bootstrap(tmp_path / "w", "ann@example.com", "not it", old_kit, LOOPBACK, timeout=0.5)
    # nobody there
    with pytest.raises(SourceUnavailableError, match="no unlocked device"):
        await bootstrap(tmp_path / "n", "ann@example.com", PW, old_kit, LOOPBACK, timeout=0.5)
    # the password was changed since this Kit was made: the peer is found but refuses
    a.change_password("newer password")
    async with WifiPeer(a, LOOPBACK):
        with pytest.raises(PeerAuthError, match="none accepted this Kit and password"):
            await bootstrap(tmp_path / "o", "ann@example.com", PW, old_kit, LOOPBACK, timeout=2.0)
        assert not (tmp_path / "o" / "vault.db").exists()
        c = await bootstrap(
            tmp_path / "c", "ann@example.com", "newer password", a.slot.kit, LOOPBACK, timeout=5.0
        )
        assert c.slot.epoch == 2
        c.close()


SERVE = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from sync.wifi import WifiPeer
    from vault.vault import Vault

    async def main() -> None:
        v = Vault.open(Path(sys.argv[1]))
        v.unlock(sys.argv[2])
        async with WifiPeer(v, ["127.0.0.1"]) as peer:
            print(peer.port, flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        v.close()

    asyncio.run(main())
""")


async def test_two_processes_discover_and_sync(account: Vault, tmp_path: Path) -> None:
    a = account
    b = device_like(a, tmp_path / "b")
    add_notes(a, "Proc A", 3)
    add_notes(b, "Proc B", 2)
    a.close()
    env = dict(os.environ, STRONGROOM_INSECURE_TEST_KDF="1")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVE,
        str(tmp_path / "a"),
        PW,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert int(line)
        async with WifiPeer(b, LOOPBACK) as pb:
            report = await pb.sync_with_all(timeout=10.0, expect=1)
        assert report.errors == [] and report.received == 3 and report.sent == 2
        proc.stdin.close()
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    a2 = Vault.open(tmp_path / "a")
    a2.unlock(PW)
    assert (
        titles(a2)
        == titles(b)
        == ["Proc A 0000", "Proc A 0001", "Proc A 0002", "Proc B 0000", "Proc B 0001"]
    )
    a2.close()
    b.close()
