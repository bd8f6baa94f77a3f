"""Sealing's fast paths write the same bytes as the general ones: a plain record's JSON written
out directly (records._plain_json) against json's encoder over the record's tree, and a version
vector's canonical text (envelope.vv_key) against json.dumps, for any text, any float time and
any counters (the bytes are authenticated and compared across devices, so one byte apart would
be a different version)."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from vault.envelope import vv_key
from vault.records import (
    _ENCODE,
    Field,
    HistoryEntry,
    Record,
    _plain_json,
    _record_to_obj,
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
