"""Import core: one transaction, duplicates, strongroom-json round trip, export files."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.errors import FormatError, InvalidInputError, VaultError
from vault.export import export_records, render, vault_records
from vault.importers import FORMATS, import_report, read_file, read_stream
from vault.records import Field, HistoryEntry, Record, new_record, normalize_tags
from vault.templates import TEMPLATES, FieldKind
from vault.vault import ADD_BATCH, BULK_INDEX_MIN, Vault

DATA = Path(__file__).parent / "data" / "import"
PASSWORD = "import test password"


@pytest.fixture
def vault(home: Path) -> Vault:
    return Vault.create(home, "ann@example.com", PASSWORD)


def _all(vault: Vault) -> dict[str, object]:
    recs, damaged = vault_records(vault)
    assert damaged == 0
    return {r.id: r for r in recs}


def test_every_cli_format_has_a_reader() -> None:
    assert set(FORMATS) == {
        "keeper-json",
        "dashlane-csv",
        "dashlane-json",
        "protonpass-json",
        "enpass-json",
        "1password-1pif",
        "lastpass-csv",
        "apple-csv",
        "nordpass-csv",
        "roboform-csv",
        "keeper-csv",
        "strongroom-json",
        "msecure-csv",
        "1password-csv",
        "1password-1pux",
        "bitwarden-json",
        "bitwarden-csv",
        "keepass-csv",
        "keepass-xml",
        "keepass-kdbx",
        "chrome-csv",
        "firefox-csv",
    }


def test_import_then_reimport_adds_nothing(vault: Vault) -> None:
    report = read_file("bitwarden-json", DATA / "bitwarden.json")
    first = import_report(vault, report)
    assert len(first.added) == len(report.records) > 0
    before = vault.store.all_versions()
    again = import_report(vault, read_file("bitwarden-json", DATA / "bitwarden.json"))
    assert again.added == []
    assert len(again.duplicates) == len(report.records)
    assert vault.store.all_versions() == before


def test_duplicates_inside_one_file_are_imported_once(vault: Vault) -> None:
    report = read_file("chrome-csv", DATA / "chrome.csv")
    result = import_report(vault, report)
    titles = sorted(r.title for r in result.added)
    assert titles.count("Example dup") == 1
    assert [p.where for p in result.duplicates] == ["line 9"]
    assert "earlier" in result.duplicates[0].reason


def test_one_transaction_nothing_on_failure(vault: Vault) -> None:
    """A record that cannot be added (an id already live) rolls back the whole batch."""
    existing = vault.add(new_record("login", "Kept", {"username": "a"}))
    batch = [new_record("note", f"n{i}") for i in range(5)] + [replace(existing, title="clash")]
    before = vault.store.all_versions()
    with pytest.raises(VaultError):
        vault.add_many(batch)
    assert vault.store.all_versions() == before


def test_add_many_brings_back_a_tombstone(vault: Vault) -> None:
    rec = vault.add(new_record("login", "Gone", {"username": "a"}))
    vault.delete(rec.id)
    vault.add_many([rec])
    assert vault.record(rec.id).title == "Gone"


def _indexes(vault: Vault) -> list[str]:
    with sqlite3.connect(vault.store.path) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type='index' ORDER BY name")
        return [r[0] for r in rows]


def test_add_many_over_several_batches_with_a_tombstone_among_them(vault: Vault) -> None:
    """New ids are inserted batch by batch without a merge (the record index built once at the
    end: as many records as the store holds), a tombstoned id is merged over its tombstone, all
    in one transaction: every record opens, each new one is its first version, the local
    counter counts every stored version, the index is there again and is used; a clash after
    the first batches leaves the store and its indexes as they were, bulk or not."""
    gone = vault.add(new_record("login", "Gone", {"username": "a"}))
    vault.delete(gone.id)
    indexes = _indexes(vault)
    assert "versions_record" in indexes
    recs = [new_record("note", f"n{i}", notes=f"body {i}") for i in range(BULK_INDEX_MIN + 500)]
    recs.insert(ADD_BATCH + 7, gone)
    before = vault.store.max_seq()
    vault.add_many(recs)
    assert vault.record(gone.id).title == "Gone"
    assert vault.store.max_seq() == before + len(recs)
    for rec in recs[::97]:
        assert vault.record(rec.id) == rec
    fresh = vault.store.versions(recs[-1].id)
    assert [e.vv for e in fresh] == [{vault.actor: 1}]
    assert len(vault.store.versions(gone.id)) == 1  # the tombstone superseded, not kept beside
    assert _indexes(vault) == indexes
    with sqlite3.connect(vault.store.path) as db:
        query = "EXPLAIN QUERY PLAN SELECT * FROM versions WHERE record_id=?"
        assert "versions_record" in str(db.execute(query, (gone.id,)).fetchall())

    stored = vault.store.all_versions()
    for size in (ADD_BATCH + 10, 2 * len(recs)):  # into a larger store; a bulk into a smaller one
        clash = [new_record("note", f"m{i}") for i in range(size)] + [recs[3]]
        with pytest.raises(VaultError):
            vault.add_many(clash)
        assert vault.store.all_versions() == stored
        assert _indexes(vault) == indexes


def _rich_records() -> list:  # type: ignore[type-arg]
    a = new_record(
        "login",
        "Émile 🔐 مرحبا",
        {
            "username": "émile",
            "password": 'p,"w"\nx',
            "url": "https://e.x",
            "totp": "otpauth://totp/X:e?secret=JBSWY3DPEHPK3PXP&issuer=X",
        },
        notes="multi\nline, notes " + "ü" * 5000,
        tags=("Work", "家"),
        favorite=True,
        extra=(Field("PIN code", FieldKind.PIN, "0042"), Field("memo", FieldKind.TEXT, "")),
    )
    a = replace(
        a,
        created=1600000000.123,
        modified=1700000000.456,
        history=(HistoryEntry(1650000000.5, (Field("password", FieldKind.SECRET, "old"),)),),
    )
    b = new_record(
        "credit-card", "", {"number": "4111 1111 1111 1111", "cvv": "123", "expiry": "04/2029"}
    )
    c = new_record("custom", "Anything", extra=(Field("k", FieldKind.TOTP, "JBSWY3DPEHPK3PXP"),))
    return [a, b, c]


def test_strongroom_json_round_trip_is_exact(vault: Vault, tmp_path: Path) -> None:
    recs = _rich_records()
    vault.add_many(recs)
    out = export_records(vault_records(vault)[0], "json", tmp_path / "out.json")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    other = Vault.create(tmp_path / "other", "ann@example.com", PASSWORD)
    result = import_report(other, read_file("strongroom-json", out))
    assert len(result.added) == 3 and not result.problems
    assert _all(other) == _all(vault) == {r.id: r for r in recs}
    # and re-importing into the source vault adds nothing
    assert import_report(vault, read_file("strongroom-json", out)).added == []


def test_export_replaces_a_world_readable_file_with_a_private_one(
    vault: Vault, tmp_path: Path
) -> None:
    target = tmp_path / "export.csv"
    target.write_text("old")
    target.chmod(0o644)
    vault.add_many(_rich_records())
    export_records(vault_records(vault)[0], "csv", target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    text = target.read_text(encoding="utf-8")
    assert text.startswith("id,type,title,username,password,url,totp")
    assert "PIN code: 0042" in text
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_render_refuses_unknown_format() -> None:
    with pytest.raises(InvalidInputError):
        render([], "xml")


def test_unknown_import_format_and_folder() -> None:
    with pytest.raises(InvalidInputError, match="chrome-csv"):
        read_stream("lastpass", io.BytesIO(b""))
    with pytest.raises(InvalidInputError, match="folder"):
        read_file("chrome-csv", DATA)


def test_strongroom_json_bad_records_are_skipped_with_reasons() -> None:
    good = {
        "id": "a1",
        "type": "note",
        "title": "ok",
        "fields": [],
        "notes": "",
        "tags": [],
        "favorite": False,
        "created": 1.0,
        "modified": 2.0,
        "history": [],
    }
    doc = {
        "format": "strongroom-json",
        "version": 1,
        "records": [
            good,
            dict(good, type="spaceship"),
            dict(good, id="b", created="yesterday"),
            good,
            7,
            dict(good, id="c", fields=[{"name": "x", "kind": "weird", "value": "1"}]),
        ],
    }
    report = read_stream("strongroom-json", io.BytesIO(json.dumps(doc).encode()))
    assert [r.id for r in report.records] == ["a1"]
    reasons = [str(p) for p in report.problems]
    assert "record 2" in reasons[0] and "spaceship" in reasons[0]
    assert "record 3" in reasons[1] and "created" in reasons[1]
    assert "second record with id a1" in reasons[2]
    assert "record 5" in reasons[3]
    assert "kind" in reasons[4]
    with pytest.raises(FormatError, match="version"):
        read_stream("strongroom-json", io.BytesIO(json.dumps(dict(doc, version=9)).encode()))


def test_csv_export_reads_back_cell_for_cell(vault: Vault) -> None:
    import csv

    recs = _rich_records()
    vault.add_many(recs)
    rows = list(csv.DictReader(io.StringIO(render(vault_records(vault)[0], "csv"), newline="")))
    by_id = {r["id"]: r for r in rows}
    a = by_id[recs[0].id]
    assert (
        a["password"] == 'p,"w"\nx' and a["title"] == "Émile 🔐 مرحبا" and a["tags"] == "Work, 家"
    )
    assert (
        a["favorite"] == "1"
        and a["created"] == "2020-09-13T12:26:40Z"
        and a["notes"] == recs[0].notes
    )
    assert a["totp"].startswith("otpauth://") and a["fields"] == "PIN code: 0042\nmemo: "
    assert by_id[recs[1].id]["fields"] == "number: 4111 1111 1111 1111\nexpiry: 04/2029\ncvv: 123"


def test_import_report_counts_and_sources_line_up() -> None:
    report = read_file("msecure-csv", DATA / "msecure.csv")
    assert len(report.sources) == len(report.records)
    assert report.counts()["login"] == 3
    assert "records=" in repr(report) and "bitpassword" not in repr(report)


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_FIELDS = st.lists(
    st.builds(Field, _TEXT, st.sampled_from(list(FieldKind)), _TEXT), max_size=5
).map(tuple)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.builds(
            Record,
            id=st.text("0123456789abcdef", min_size=1, max_size=16),
            type=st.sampled_from(sorted(TEMPLATES)),
            title=_TEXT,
            fields=_FIELDS,
            notes=_TEXT,
            tags=st.lists(_TEXT, max_size=3).map(normalize_tags),
            favorite=st.booleans(),
            created=st.floats(0, 4e9),
            modified=st.floats(0, 4e9),
            history=st.lists(st.builds(HistoryEntry, st.floats(0, 4e9), _FIELDS), max_size=2).map(
                tuple
            ),
        ),
        max_size=6,
        unique_by=lambda r: r.id,
    )
)
def test_strongroom_json_round_trips_any_records(records: list[Record]) -> None:
    report = read_stream("strongroom-json", io.BytesIO(render(records, "json").encode()))
    assert not report.problems
    assert sorted(report.records, key=lambda r: r.id) == sorted(records, key=lambda r: r.id)


def test_counting_reports_each_record_built_and_can_stop_the_read() -> None:
    from vault.importers.common import counting

    data = Path(__file__).resolve().parent / "data" / "import"
    seen: list[int] = []
    with counting(seen.append):
        report = read_file("bitwarden-json", data / "bitwarden.json")
    assert seen == list(range(1, len(report.records) + 1))
    read_file("bitwarden-csv", data / "bitwarden.csv")
    assert len(seen) == len(report.records)  # outside the block nobody is called

    class Stop(Exception):
        pass

    def stop(n: int) -> None:
        raise Stop

    with counting(stop), pytest.raises(Stop):
        read_file("keepass-csv", data / "keepass.csv")


def test_bulk_pauses_the_collector_and_leaks_no_cycle() -> None:
    """Inside an import's bulk block the cyclic collector is off; afterwards it is on again,
    what the block made sits in the oldest generation (no young collection rescans it), and
    a cycle made inside it and dropped is still collected."""
    import gc
    import weakref

    from vault.importers.common import bulk

    class Node:
        pass

    assert gc.isenabled()
    with bulk():
        assert not gc.isenabled()
        kept = [[i] for i in range(10_000)]
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        gone = weakref.ref(node)
        del node
    assert gc.isenabled()
    assert gc.get_count()[0] < len(kept)  # nothing made in the block is young any more
    assert gone() is not None  # a cycle waits for a collection ...
    gc.collect()
    assert gone() is None  # ... and is freed by it
    assert all(gc.is_tracked(k) for k in kept[:10])
