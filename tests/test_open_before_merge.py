"""Open before merge (issue 16): no incoming version supersedes anything until it opens under the
account's key; bounds are checked where envelope bytes are parsed; refusals are kept aside.

Real stores, a real sync folder and real Wi-Fi peers on loopback; forgeries are made the way an
outsider could make them (a dominating vector, bytes that are no ciphertext of ours).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import struct
from pathlib import Path

import pytest

from sync import folderlog, mssb
from sync.folder import FolderSync, bootstrap_from_folder, read_folder
from sync.foldernames import CHANGES, change_file_name
from sync.method import status
from sync.wifi import WifiPeer
from vault import intake
from vault.container import seal_container
from vault.envelope import (
    MAX_COUNTER,
    MAX_HLC,
    MAX_VV_ENTRIES,
    Envelope,
    pack_envelopes,
    unpack_envelopes,
    vv_key,
)
from vault.errors import BoundsError, FormatError
from vault.intake import NOT_OURS
from vault.merge import next_version
from vault.records import new_record
from vault.store import SCHEMA_VERSION, Store
from vault.vault import DB_NAME, Vault

PW = "open before merge password"
GOLDEN = Path(__file__).parent / "data" / "golden"


def forged(current: Envelope, deleted: bool = False, **header: object) -> Envelope:
    """A "newer" version as an outsider makes it: a dominating vector, random bytes inside."""
    fields = {
        "record_id": current.record_id,
        "vv_text": vv_key({**current.vv, "0ff0ff0f": 7}),
        "hlc": current.hlc + 1,
        "device": "0ff0ff0f",
        "deleted": deleted,
        "ciphertext": os.urandom(len(current.ciphertext)),
    } | header
    return Envelope(**fields)  # type: ignore[arg-type]


def raw_envelope(header: dict[str, object], body: bytes = b"\x00" * 40) -> bytes:
    """Envelope bytes with any header at all (canonical JSON, as a writer would make it)."""
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return b"SRE\x01" + struct.pack(">H", len(h)) + h + body


def secrets_of(vault: Vault) -> dict[str, str]:
    return {s.title: vault.record(s.id).value("password") for s in vault.summaries()}


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    v = Vault.create(tmp_path / "a", "ann@example.com", PW)
    v.add(new_record("login", "Bank", {"username": "ann", "password": "bank-pw"}))
    v.add(new_record("login", "Mail", {"username": "ann", "password": "mail-pw"}))
    return v


def test_a_forged_edit_and_tombstone_supersede_nothing(vault: Vault) -> None:
    bank, mail = (vault.find(t) for t in ("Bank", "Mail"))
    (b,), (m,) = vault.store.versions(bank), vault.store.versions(mail)
    took = vault.take_in([forged(b), forged(m, deleted=True)], "cloud")
    assert took.changed == [] and len(took.refused) == 2
    assert secrets_of(vault) == {"Bank": "bank-pw", "Mail": "mail-pw"}
    assert vault.store.versions(bank) == [b] and vault.store.versions(mail) == [m]
    assert vault.store.refused_summary()[0][:3] == ("cloud", NOT_OURS, 2)
    assert vault.store.refused_ids("cloud") == sorted([bank, mail])
    # the same bytes again (a sync file read twice) count on their row, not as new versions
    vault.apply([forged(b)], "folder")
    assert sum(n for *_, n, _ in vault.store.refused_summary()) == 3
    # a genuine newer version still goes in
    vv, hlc = next_version([b], "other")
    rec = vault.record(bank)
    vault.apply([vault.cipher.seal(rec, bank, vv, hlc, "other")], "cloud")
    assert len(vault.store.versions(bank)) == 1 and vault.store.versions(bank)[0].vv == vv


def test_hlc_bounds_are_checked_where_bytes_are_parsed(vault: Vault) -> None:
    (b,) = vault.store.versions(vault.find("Bank"))
    at_limit = forged(b, hlc=MAX_HLC)
    assert Envelope.from_bytes(at_limit.to_bytes()) == at_limit
    over = forged(b, hlc=MAX_HLC + 1).to_bytes()
    with pytest.raises(BoundsError, match=r"hlc 9223372036854775808\) is outside 0 … 2\^63 − 1"):
        Envelope.from_bytes(over)
    # one bad envelope among good ones: refused with its reason, the rest parsed
    good, refused = intake.parse([b.to_bytes(), over, b"garbage"], "cloud")
    assert good == [b]
    assert [r.reason.split(":")[0] for r in refused] == ["out of bounds", "malformed"]
    took = vault.take_in(good, "cloud", refused)
    assert took.changed == [] and len(took.refused) == 2
    # a list with one such envelope is refused as a whole where no one can be left out
    with pytest.raises(BoundsError):
        unpack_envelopes(pack_envelopes([b]) + struct.pack(">I", len(over)) + over)
    # the store's own guard: a version built in memory never reaches SQLite's integer limit
    with pytest.raises(BoundsError):
        vault.store.apply([forged(b, hlc=MAX_HLC + 1)])
    # a local write after a version at the limit stays at it (the vector orders them)
    assert next_version([at_limit], "x")[1] == MAX_HLC


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ({"vv": {"d": MAX_COUNTER + 1}}, "version counter"),
        ({"vv": {"d": -1}}, "version counter"),
        ({"hlc": -1}, "hlc -1"),
        ({"vv": {f"w{i}": 1 for i in range(MAX_VV_ENTRIES + 1)}}, "entries"),
        ({"id": "r" * 65}, "id is longer"),
        ({"dev": "d" * 65}, "device is longer"),
        ({"vv": {"": 1}}, "writer"),
    ],
)
def test_every_bound_has_a_typed_error(header: dict[str, object], words: str) -> None:
    base: dict[str, object] = {"del": 0, "dev": "d", "hlc": 1, "id": "r1", "vv": {"d": 1}}
    with pytest.raises(BoundsError, match=words):
        Envelope.from_bytes(raw_envelope(base | header))


def test_sealing_out_of_bounds_is_refused_before_anything_is_written(vault: Vault) -> None:
    rec = vault.record(vault.find("Bank"))
    with pytest.raises(BoundsError):
        vault.cipher.seal(rec, rec.id, {"d": MAX_COUNTER + 1}, 1, "d")


def test_a_schema_2_store_becomes_schema_3_with_every_row(tmp_path: Path) -> None:
    """tests/data/golden/store-v2.sql: a store as Strongroom wrote it before the quarantine."""
    path = tmp_path / DB_NAME
    db = sqlite3.connect(path)
    db.executescript((GOLDEN / "store-v2.sql").read_text())
    db.close()
    store = Store(path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert store.max_seq() == 2 and store.get_meta("device") == b"0a0b0c0d"
    rows = store.all_versions()
    assert [(e.record_id, e.vv_text, e.hlc, e.device, e.deleted) for e in rows] == [
        ("r1", '{"0a0b0c0d":1}', 1700000000000, "0a0b0c0d", False),
        ("r2", '{"0a0b0c0d":2}', 1700000000001, "0a0b0c0d", True),
    ]
    assert rows[0].ciphertext == bytes(range(40)) and store.get_cache("index") == b"cached"
    store.refuse([intake.Refusal("folder", "r1", NOT_OURS, b"x")])
    store.close()
    again = Store(path)  # opening again: nothing to migrate, nothing lost
    assert again.refused_summary()[0][:3] == ("folder", NOT_OURS, 1)
    assert len(again.all_versions()) == 2
    again.close()


def test_a_newer_store_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(FormatError, match="newer Strongroom"):
        Store(path)


def _write_forged_file(other: Vault, folder: Path, bad: list[Envelope]) -> None:
    """The folder's file as a holder of the folder key could write it: sealed correctly, with
    forged record versions among the good ones."""
    path = mssb.file_path(folder, other.slot.account_id)
    header = mssb.header_for(other.slot, other.device, 99)
    path.write_bytes(mssb.encode(header, other.keys, other.store.all_versions() + bad))


def test_a_forged_version_in_the_folder_file_is_refused(vault: Vault, tmp_path: Path) -> None:
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    FolderSync(vault, folder).sync_now()
    other = bootstrap_from_folder(tmp_path / "b", folder, "ann@example.com", PW, vault.slot.kit)
    (b,) = vault.store.versions(vault.find("Bank"))
    (m,) = vault.store.versions(vault.find("Mail"))
    _write_forged_file(other, folder, [forged(b), forged(m, deleted=True)])
    report = FolderSync(vault, folder).sync_now()
    assert report.refused == 2 and "refused 2 versions" in report.detail
    assert secrets_of(vault) == {"Bank": "bank-pw", "Mail": "mail-pw"}
    st = status(vault)
    assert st["refused_versions"] == 2 and st["refused"][0]["source"] == "folder"
    FolderSync(other, folder).sync_now()
    assert secrets_of(other) == {"Bank": "bank-pw", "Mail": "mail-pw"}
    # a device signing in from a file with a forgery in it: the forgery is refused, kept aside
    _write_forged_file(other, folder, [forged(b)])
    new = bootstrap_from_folder(tmp_path / "c", folder, "ann@example.com", PW, vault.slot.kit)
    assert secrets_of(new) == {"Bank": "bank-pw", "Mail": "mail-pw"}
    assert new.store.refused_summary()[0][:3] == ("folder", NOT_OURS, 1)
    for v in (other, new):
        v.close()


def _sealed(
    other: Vault,
    magic: bytes,
    version: int,
    header: dict[str, object],
    subkey: str,
    raws: list[bytes],
) -> bytes:
    """A folder file sealed with the account's key by a holder of it, its body any envelope bytes."""
    body = b"".join(struct.pack(">I", len(r)) + r for r in raws)
    return seal_container(magic, version, header, body, other.keys.subkey(subkey))


def test_one_bad_envelope_in_a_folder_file_is_refused_and_the_rest_merge(
    vault: Vault, tmp_path: Path
) -> None:
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    FolderSync(vault, folder).sync_now()
    other = bootstrap_from_folder(tmp_path / "b", folder, "ann@example.com", PW, vault.slot.kit)
    (b,) = vault.store.versions(vault.find("Bank"))
    other.add(new_record("login", "Shop", {"username": "ann", "password": "shop-pw"}))
    (shop,) = other.store.versions(other.find("Shop"))
    over = forged(b, hlc=MAX_HLC + 1).to_bytes()  # out of bounds: does not parse
    junk = raw_envelope({"del": 0, "dev": "d", "hlc": 1, "id": "r1"})  # malformed (no vector)
    # A change file written by a holder of the account's key: one good version among a forged
    # one (does not open) and two that do not even parse.
    header = folderlog.ChangeHeader(
        other.slot.account_id, other.keys.generation, mssb.key_id(other.keys), other.device, 1
    )
    raws = [over, shop.to_bytes(), junk, forged(b).to_bytes()]
    changes = mssb.account_dir(folder, other.slot.account_id) / CHANGES
    changes.mkdir(exist_ok=True)
    name = change_file_name(other.device, 1, "0badf11e")
    (changes / name).write_bytes(
        _sealed(other, folderlog.MAGIC, folderlog.VERSION, header.to_obj(), folderlog.SUBKEY, raws)
    )
    report = FolderSync(vault, folder).sync_now()
    assert report.received == 1 and report.refused == 3 and report.problems == []
    assert secrets_of(vault) == {"Bank": "bank-pw", "Mail": "mail-pw", "Shop": "shop-pw"}
    reasons = {reason.split(":")[0]: n for source, reason, n, _ in vault.store.refused_summary()}
    assert reasons == {"out of bounds": 1, "malformed": 1, NOT_OURS: 1}
    assert status(vault)["refused_versions"] == 3
    # nothing was set aside; the folder was rewritten without the bad ones (compacted)
    assert report.compacted and not any(p.name.endswith(".damaged") for p in changes.iterdir())
    held = read_folder(folder, vault.keys)
    assert shop in held and forged(b) not in held and len(held) == 3
    # the same bad envelopes in the snapshot: refused at sign-in, the rest of the snapshot kept
    snap = mssb.header_for(other.slot, other.device, 99, kid=mssb.key_id(other.keys))
    good = [e.to_bytes() for e in other.store.all_versions()]
    mssb.file_path(folder, other.slot.account_id).write_bytes(
        _sealed(other, mssb.MAGIC, mssb.VERSION, snap.to_obj(), mssb.SUBKEY, [junk, *good, over])
    )
    new = bootstrap_from_folder(tmp_path / "c", folder, "ann@example.com", PW, vault.slot.kit)
    assert secrets_of(new) == {"Bank": "bank-pw", "Mail": "mail-pw", "Shop": "shop-pw"}
    assert sum(n for *_, n, _ in new.store.refused_summary()) == 2
    for v in (other, new):
        v.close()


def test_a_forged_version_from_a_wifi_peer_is_refused(vault: Vault, tmp_path: Path) -> None:
    other = Vault.adopt(tmp_path / "b", vault.slot, vault.keys, vault.store.all_versions())
    (b,) = vault.store.versions(vault.find("Bank"))
    (m,) = vault.store.versions(vault.find("Mail"))
    # the peer's store holds forgeries (written there by a build that merged without opening)
    other.store.apply([forged(b), forged(m, deleted=True)])
    other.store.apply([forged(b, hlc=MAX_HLC)])  # within bounds, still not ours

    async def go() -> tuple[int, int]:
        async with WifiPeer(other, ["127.0.0.1"]) as served, WifiPeer(vault, ["127.0.0.1"]) as me:
            result = await me.sync_with("127.0.0.1", served.port)
            assert result.ok, result.error
            return result.received, result.refused

    received, refused = asyncio.run(go())
    assert (received, refused) == (0, 3)
    assert secrets_of(vault) == {"Bank": "bank-pw", "Mail": "mail-pw"}
    assert vault.store.refused_summary()[0][:3] == ("wifi", NOT_OURS, 3)
    other.close()


def test_a_record_too_large_for_other_devices_is_not_saved(vault: Vault) -> None:
    """An envelope over 16 MiB would be refused by every other device (and the server): it is
    refused here first, with the reason, and nothing is written."""
    huge = new_record("note", "Huge", notes="x" * (17 * 1024 * 1024))
    with pytest.raises(BoundsError, match="larger than 16 MiB"):
        vault.add(huge)
    assert sorted(s.title for s in vault.summaries()) == ["Bank", "Mail"]
