"""Removing a device on a Wi-Fi-synced account (issue 16 Build 2, step 4): real peers on
loopback. The removed device, holding the old Vault Key, is refused by every peer on the new keys
and learns only that it was removed; a remaining device still on the old keys (offline during the
removal) gets the key change from a peer that moved on, follows with nothing typed and syncs."""

from __future__ import annotations

import pytest
from wifihelp import LOOPBACK, PW, device_like, titles

from sync.method import configure, remove_device
from sync.wifi import WifiPeer
from sync.wifi.channel import MODE_MEMBER, Claims, PeerAuthError, member_key
from sync.wifi.peer import _connect
from vault import devices
from vault.records import new_record
from vault.removal import DeviceRemovedError
from vault.vault import Vault


async def test_remove_a_device_over_wifi(account: Vault, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = account
    b, c = device_like(a, tmp_path / "b"), device_like(a, tmp_path / "c")
    for v in (a, b, c):
        configure(v, "wifi", interfaces=LOOPBACK)
        devices.touch(v, "wifi")
    a.add(new_record("note", "Before"))
    async with WifiPeer(a, LOOPBACK):
        for v in (b, c):
            async with WifiPeer(v, LOOPBACK) as pv:
                report = await pv.sync_with_all(timeout=5.0, expect=1)
                assert [r.ok for r in report.results] == [True], report.errors
    async with WifiPeer(b, LOOPBACK), WifiPeer(c, LOOPBACK) as pc:
        await pc.sync_with_all(timeout=5.0, expect=1)
    assert {e.id for e in devices.entries(a)} == {a.device, b.device, c.device}
    old_member = member_key(b.keys.subkey("lan"))
    old_claims = Claims(b.keys.account_id, b.keys.generation, b.keys.epoch, b.device)

    # c is offline; a removes b
    outcome = remove_device(a, b.device, PW)
    assert outcome.rekeyed > 0 and a.keys.epoch == 2
    a.add(new_record("note", "After"))

    async with WifiPeer(a, LOOPBACK) as pa:
        # the removed device: a stale peer is refused in member mode, and learns it was removed
        with pytest.raises(PeerAuthError):
            await _connect("127.0.0.1", pa.port, MODE_MEMBER, old_member, old_claims)
        async with WifiPeer(b, LOOPBACK) as pb:
            report = await pb.sync_with_all(timeout=5.0, expect=1)
        assert any(isinstance(e, DeviceRemovedError) for e in report.errors), report.errors
        assert "removed from the account by" in str(report.errors[0])
        assert "After" not in titles(b)
        # c, still on the old keys, follows from a with nothing typed, then syncs
        async with WifiPeer(c, LOOPBACK) as pc:
            report = await pc.sync_with_all(timeout=5.0, expect=1)
            assert [r.ok for r in report.results] == [True], report.errors
        assert c.keys.epoch == 2 and c.keys.vk == a.keys.vk
        assert titles(c) == ["After", "Before"]
        assert b.device not in {e.id for e in devices.entries(c)}
    b.close()
    c.close()
