"""The layout-2 folder readers on hostile bytes (hypothesis): random bytes, truncations and bit
flips of real files give a typed SyncError (or, for the local state, a fresh state), never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import folderlog, mssb
from sync.errors import SyncError
from sync.folderstate import KEY, FolderState
from vault.envelope import Envelope
from vault.vault import Vault

LIVE = Envelope("0123456789abcdef", '{"d1":2}', 1700000000123, "d1", False, bytes(range(40)))
SLOW = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    return Vault.create(tmp_path_factory.mktemp("fuzz") / "v", "f@example.com", "fuzz password")


def _files(vault: Vault) -> tuple[bytes, bytes]:
    change = folderlog.encode(vault.keys, "d1", 1, [LIVE, LIVE])
    header = mssb.header_for(vault.slot, "d1", 1, kid=mssb.key_id(vault.keys))
    return change, mssb.encode(header, vault.keys, [LIVE])


def _read_both(vault: Vault, data: bytes) -> None:
    for reader in (
        lambda: folderlog.decode(data, vault.keys, "fuzzed"),
        lambda: mssb.open_snapshot(data, vault.keys, "fuzzed"),
    ):
        try:
            reader()
        except SyncError:
            pass


@SLOW
@given(st.binary(max_size=600))
def test_random_bytes(vault: Vault, data: bytes) -> None:
    _read_both(vault, data)
    _read_both(vault, folderlog.MAGIC + b"\x01" + data)
    _read_both(vault, mssb.MAGIC + b"\x01" + data)


@SLOW
@given(st.data())
def test_truncations_and_flips_of_real_files(vault: Vault, data: st.DataObject) -> None:
    change, snap = _files(vault)
    for good in (change, snap):
        cut = data.draw(st.integers(0, len(good) - 1))
        _read_both(vault, good[:cut])
        pos = data.draw(st.integers(0, len(good) - 1))
        bit = data.draw(st.integers(0, 7))
        bad = bytearray(good)
        bad[pos] ^= 1 << bit
        with pytest.raises(SyncError):  # every flip is caught: header and body are authenticated
            if good is change:
                folderlog.decode(bytes(bad), vault.keys, "fuzzed")
            else:
                mssb.open_snapshot(bytes(bad), vault.keys, "fuzzed")


@SLOW
@given(st.binary(max_size=300))
def test_local_state_of_any_bytes_is_a_state(vault: Vault, data: bytes) -> None:
    vault.store.set_meta(KEY, data)
    state = FolderState.load(vault.store)
    assert isinstance(state, FolderState)


@SLOW
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=12,
    )
)
def test_local_state_of_any_json_is_a_state(vault: Vault, obj: object) -> None:
    import json

    for wrapped in (obj, {"snap": obj, "read": obj, "published": obj, "problems": obj, "n": obj}):
        vault.store.set_meta(KEY, json.dumps(wrapped).encode())
        assert isinstance(FolderState.load(vault.store), FolderState)


def test_a_real_folder_full_of_junk_never_stops_sync(vault: Vault, tmp_path: Path) -> None:
    from sync.folder import FolderSync

    folder = tmp_path / "f"
    folder.mkdir()
    s = FolderSync(vault, folder)
    s.sync_now()
    changes = s.changes_dir
    changes.mkdir(exist_ok=True)
    change, _ = _files(vault)
    (changes / "empty.mslog").write_bytes(b"")
    (changes / "half.mslog").write_bytes(change[: len(change) // 2])
    (changes / "png.mslog").write_bytes(b"\x89PNG\r\n\x1a\n" * 10)
    (changes / "newer.mslog").write_bytes(b"MSLG\x09" + change[5:])
    (changes / "subdir").mkdir()
    report = s.sync_now()
    assert len(report.problems) == 4 and report.compacted
    assert sorted(p.name for p in changes.iterdir()) == [
        "empty.mslog.damaged",
        "half.mslog.damaged",
        "newer.mslog",  # a newer Strongroom's: left for it, said until this one is updated
        "png.mslog.damaged",
        "subdir",
    ]
    assert "newer Strongroom" in " ".join(report.problems)
    assert len(s.sync_now().problems) == 1
