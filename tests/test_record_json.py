"""Sealing's fast paths write the same bytes as the general ones: a plain record's JSON written
out directly (records._plain_json) against json's encoder over the record's tree, and a version
vector's canonical text (envelope.vv_key) against json.dumps, for any text, any float time and
any counters (the bytes are authenticated and compared across devices, so one byte apart would
be a different version). An import's records and fields, made without their dataclass's
__init__, are the objects it makes; its rows sealed in bulk are what `seal` makes."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.envelope import MAX_ID, Envelope, RecordCipher, vv_key
from vault.errors import BoundsError
from vault.records import (
    _ENCODE,
    Field,
    HistoryEntry,
    Record,
    _plain_json,
    _record_to_obj,
    make_field,
    record_of,
)
from vault.templates import FieldKind

# any code point, lone surrogates and controls included (what a JSON import can bring)
TEXT = st.text(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()), max_size=40
)
TIMES = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -0.0, 1e16])
FIELDS = st.lists(st.builds(Field, TEXT, st.sampled_from(list(FieldKind)), TEXT), max_size=6).map(
    tuple
)
PLAIN = st.builds(
    Record,
    id=TEXT,
    type=TEXT,
    title=TEXT,
    fields=FIELDS,
    notes=TEXT,
    tags=st.lists(TEXT, max_size=4).map(tuple),
    favorite=st.booleans(),
    created=TIMES,
    modified=TIMES,
)


def _general(record: Record) -> str:
    return _ENCODE(_record_to_obj(record))


@given(PLAIN)
def test_a_plain_record_is_written_as_the_general_encoder_writes_it(record: Record) -> None:
    assert _plain_json(record) == _general(record)
    assert _general(record) == json.dumps(
        _record_to_obj(record), separators=(",", ":"), ensure_ascii=False
    )


@given(PLAIN, st.sampled_from(["history", "trashed", "int time", "inf time"]))
def test_any_other_record_takes_the_general_path(record: Record, what: str) -> None:
    from dataclasses import replace

    other = {
        "history": lambda: replace(
            record, history=(HistoryEntry(1.5, (Field("p", FieldKind.SECRET, "x"),)),)
        ),
        "trashed": lambda: replace(record, trashed=2.5),
        "int time": lambda: replace(record, created=7),
        "inf time": lambda: replace(record, modified=math.inf),
    }[what]()
    assert _plain_json(other) is None
    try:
        expected = _general(other).encode()
    except UnicodeEncodeError:  # a lone surrogate: no record holds one (imports refuse it)
        return
    assert other.to_json() == expected


@given(st.dictionaries(TEXT.filter(bool), st.integers(0, 2**63 - 1), max_size=5))
def test_a_version_vector_is_written_as_json_dumps_writes_it(vv: dict[str, int]) -> None:
    assert vv_key(vv) == json.dumps(dict(sorted(vv.items())), separators=(",", ":"))


@given(FIELDS, TEXT, TEXT, st.lists(TEXT, max_size=3), st.booleans(), TIMES)
def test_an_import_makes_the_records_and_fields_the_dataclasses_make(
    fields: tuple[Field, ...], title: str, notes: str, tags: list[str], fav: bool, t: float
) -> None:
    made = tuple(make_field(f.name, f.kind, f.value) for f in fields)
    assert made == fields and [vars(f) for f in made] == [vars(f) for f in fields]
    assert [list(vars(f)) for f in made] == [["name", "kind", "value"]] * len(fields)
    history = (HistoryEntry(t, made[:1]),) if made else ()
    rec = record_of("login", title, made, notes=notes, tags=tags, favorite=fav, times=(t, t + 1))
    ref = Record(rec.id, "login", title, fields, notes, rec.tags, fav, t, t + 1)
    assert rec == ref and vars(rec) == vars(ref) and list(vars(rec)) == list(vars(ref))
    assert hash(rec) == hash(ref)
    rec = record_of("note", title, (), history=history)
    assert rec == Record(
        rec.id, "note", title, (), "", (), False, rec.created, rec.created, history
    )


@given(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=64),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=64),
    st.integers(0, 2**63 - 1),
)
def test_rows_sealed_in_bulk_are_the_envelopes_seal_makes(rid: str, device: str, hlc: int) -> None:
    cipher = RecordCipher("X3BWSY7TEA", bytes(range(32)))
    rec = Record(rid, "note", "t", notes="n", created=1.5, modified=2.5)
    vv = {device or "d": 1}
    row = cipher.row_sealer(vv, hlc, device)(rec)
    env = cipher.seal(rec, rid, vv, hlc, device)
    assert row[:5] == (env.record_id, env.vv_text, env.hlc, env.device, 0)
    stored = Envelope(*row[:4], False, row[5])
    assert stored.header() == env.header()
    assert cipher.open(stored) == rec  # authenticated under the header `seal` writes


def test_a_bulk_sealed_id_too_long_is_refused() -> None:
    seal = RecordCipher("X3BWSY7TEA", bytes(range(32))).row_sealer({"d": 1}, 5, "d")
    with pytest.raises(BoundsError):
        seal(Record("x" * (MAX_ID + 1), "note", "t"))


@given(
    st.datetimes(timezones=st.timezones()),
    st.integers(0, 999) | st.integers(0, 999_999),
    st.sampled_from(["Z", "", "z"]),
)
def test_an_import_reads_a_time_to_the_rounded_millisecond(
    when: datetime, micro: int, zone: str
) -> None:
    """iso_time skips round() for whole milliseconds: the same double as rounding gives."""
    from vault.importers.common import _iso_time

    when = when.replace(microsecond=micro * 1000 if micro < 1000 else micro)
    if zone:
        when = when.astimezone(UTC)
        text = when.replace(tzinfo=None).isoformat() + zone
    else:
        text = when.isoformat()
    try:
        expected: float | None = round(when.timestamp(), 3)
    except (OverflowError, OSError, ValueError):
        expected = None
    assert _iso_time(text) == expected
