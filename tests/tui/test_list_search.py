"""Search order: the exact title first, then titles starting with the query, then records that
contain it anywhere, and fuzzy (typo) matches appended last, marked as similar."""

from __future__ import annotations

from pathlib import Path

import pytest
from listhelp import SIZE, make_home, record, text_of, titles, unlocked_list
from pilotkit import typed, until

from tui.app import StrongroomApp
from tui.screens.records import RecordDetailScreen
from tui.search import Filters, SearchIndex
from vault.index import Summary
from vault.records import Record
from vault.templates import FieldKind

EXTRA = [
    record("0000000000000011", "login", "Amazon Web Services", [], ("work",)),
    record("0000000000000012", "note", "Shop at amazon", []),
    record("0000000000000013", "login", "Amazn Prime", [], ("shopping",)),
    record("0000000000000014", "login", "Zebra", [("username", FieldKind.TEXT, "amazon-buyer")]),
]


def summary_of(r: Record) -> Summary:
    return Summary(
        r.id, r.display_title, r.type, r.username, r.url, r.tags, r.favorite, r.modified, False
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return make_home(tmp_path / "home", EXTRA)


async def test_exact_then_prefix_then_contains_then_fuzzy(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=SIZE) as pilot:
        lst = await unlocked_list(pilot, app)
        await pilot.press("slash")
        await typed(pilot, "amazon")
        expected = ["Amazon", "Amazon Web Services", "Shop at amazon", "Zebra", "Amazn Prime"]
        await until(pilot, lambda: titles(lst) == expected)
        assert lst.similar_from == 4  # "Amazn Prime" is only similar: drawn dim, marked ~
        assert "~ Amazn Prime" in str(lst.render_line(4).text)
        assert text_of(app, "#counts").strip() == "5 of 11 records (1 similar)"
        await pilot.press("enter", "enter")  # to the list, open the best match
        await until(pilot, lambda: isinstance(app.screen, RecordDetailScreen))
        assert "Amazon" in text_of(app, "#detail").splitlines()[0]
        await pilot.press("escape", "g")  # filters apply to every group, similar ones too
        await pilot.press(
            "end", "up", "enter"
        )  # "shopping" (All tags, finance, personal, shopping, work)
        await until(pilot, lambda: titles(lst) == ["Amazon", "Amazn Prime"])


def _index() -> SearchIndex:
    from listhelp import ROWS

    return SearchIndex([summary_of(record(*r)) for r in ROWS] + [summary_of(r) for r in EXTRA])


def test_a_typo_still_finds_the_record_after_the_plain_matches() -> None:
    index = _index()
    assert index.matches("amzon") == []
    assert "Amazon" in [s.title for s in index.search("amzon")]
    plain = index.matches("amaz")
    assert [s.title for s in index.search("amaz")][: len(plain)] == [s.title for s in plain]


def test_narrowing_as_you_type_gives_what_a_fresh_search_gives() -> None:
    typing, fresh = _index(), _index()
    for q in ("a", "am", "ama", "amaz", "am", "s", "sh", "shop at"):
        for f in (
            Filters(),
            Filters(sort="modified"),
            Filters(tag="work"),
            Filters(favorites=True, sort="type"),
        ):
            assert typing.matches(q, f) == SearchIndex(fresh.rows).matches(q, f), (q, f)
