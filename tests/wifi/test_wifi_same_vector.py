"""Wi-Fi never takes a version for one the peer holds when only the vector matches (issue 17,
Build 2): summaries name versions by vector and content, so a version with another's vector and
other content (what a reused causal identity writes) reaches the peer and shows as a conflict."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from wifihelp import LOOPBACK, device_like

from sync.wifi import WifiPeer
from sync.wifi import protocol as p
from vault.records import new_record
from vault.vault import Vault


def _titles(vault: Vault, rid: str) -> set[str]:
    d = vault.detail(rid)
    return {r.title for r in (d.record, *d.others)}


async def test_a_version_under_a_held_vector_is_still_sent(account: Vault, tmp_path: Path) -> None:
    a = account
    b = device_like(a, tmp_path / "b")
    rid = a.add(new_record("login", "one")).id
    async with WifiPeer(a, LOOPBACK) as pa, WifiPeer(b, LOOPBACK):
        await pa.sync_with_all(timeout=5.0, expect=1)
        env = b.store.versions(rid)[0]
        twin = replace(b.record(rid), title="two")
        b.apply([b.cipher.seal(twin, rid, env.vv, env.hlc, env.device)])
        report = await pa.sync_with_all(timeout=5.0, expect=1)
        assert [r.ok for r in report.results] == [True], report.errors
    assert _titles(a, rid) == _titles(b, rid) == {"one", "two"}
    assert a.detail(rid).conflict
    b.close()


def test_a_peer_that_reads_summary_1_is_told_and_understood_as_before(account: Vault) -> None:
    """A device from before summary version 2 announces no `sv`: it is sent vector texts, and its
    vector-text summary is read as such (a newer version it lacks is still found)."""
    a = account
    rid = a.add(new_record("login", "one")).id
    old = a.store.versions(rid)
    a.update(replace(a.record(rid), title="newer"))
    mine = a.store.all_versions()
    assert p.summary_of(old, 1) == {rid: {old[0].vv_text}}
    assert p.lacking(mine, p.summary_of(old, 1), 1) == mine
    assert p.lacking(mine, p.summary_of(mine, 1), 1) == []
    assert p.lacking(old, p.summary_of(mine, 2), 2) == []  # superseded there: nothing to send
