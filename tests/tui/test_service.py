"""The service the screens use: account state, records, and the search index behind the list."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tui.service import Filter, SearchIndex, VaultService
from vault.errors import LockedError, WrongPasswordError
from vault.index import Summary
from vault.records import new_record

PW = "service test password"


def _row(i: int, title: str, *, type_: str = "login", user: str | None = None, url: str | None = None,
         tags: tuple[str, ...] = (), fav: bool = False, modified: float = 0.0) -> Summary:
    return Summary(f"id{i:06d}", title, type_, user, url, tags, fav, modified, False)


ROWS = [
    _row(1, "GitHub", user="ann", url="https://github.com", tags=("work",), fav=True, modified=3),
    _row(2, "Gmail", user="ann@gmail.com", url="https://mail.google.com", modified=2),
    _row(3, "Door codes", type_="note", tags=("home",), modified=5),
    _row(4, "bank", user="ann", tags=("money", "home"), modified=1),
]


def titles(rows: list[Summary]) -> list[str]:
    return [s.title for s in rows]


def test_empty_query_lists_everything_sorted_by_title_case_insensitively() -> None:
    idx = SearchIndex(ROWS)
    assert titles(idx.filter(Filter())) == ["bank", "Door codes", "GitHub", "Gmail"]
    assert titles(idx.filter(Filter(sort="modified"))) == ["Door codes", "GitHub", "Gmail", "bank"]
    assert titles(idx.filter(Filter(sort="type"))) == ["bank", "GitHub", "Gmail", "Door codes"]


def test_query_matches_title_username_url_and_tags() -> None:
    idx = SearchIndex(ROWS)
    assert titles(idx.filter(Filter("GMAIL"))) == ["Gmail"]
    assert titles(idx.filter(Filter("github.com"))) == ["GitHub"]
    assert titles(idx.filter(Filter("ann"))) == ["bank", "GitHub", "Gmail"]
    assert titles(idx.filter(Filter("money"))) == ["bank"]


def test_typos_find_titles_fuzzily_after_exact_hits() -> None:
    idx = SearchIndex(ROWS)
    assert titles(idx.filter(Filter("githib"))) == ["GitHub"]
    assert idx.filter(Filter("zzqqxx")) == []


def test_filters_by_favourite_type_and_tag() -> None:
    idx = SearchIndex(ROWS)
    assert titles(idx.filter(Filter(favorites=True))) == ["GitHub"]
    assert titles(idx.filter(Filter(type="note"))) == ["Door codes"]
    assert titles(idx.filter(Filter(tag="home"))) == ["bank", "Door codes"]
    assert titles(idx.filter(Filter("door", tag="money"))) == []
    assert idx.types == ["login", "note"] and idx.tags == ["home", "money", "work"] and idx.favorites == 1


def test_a_keystroke_at_100000_records_filters_in_well_under_50_ms() -> None:
    rows = [_row(i, f"Record {i:06d}", user=f"user{i}", url=f"https://site{i}.example", tags=("bench",))
            for i in range(100_000)]
    idx = SearchIndex(rows)
    worst = 0.0
    for q in ["r", "re", "rec", "record 05", "record 055", "site999", "nothing here", "recrd 0555"]:
        t0 = time.perf_counter()
        idx.filter(Filter(q))
        worst = max(worst, time.perf_counter() - t0)
    assert len(idx.filter(Filter("site9999."))) == 1
    assert worst < 0.2  # ~30 ms here; generous for slow CI machines


def test_service_unlocks_indexes_writes_and_forgets_on_lock(home: Path) -> None:
    svc = VaultService(home)
    assert not svc.exists()
    svc.create("ann@example.com", PW)
    svc.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret"}))
    assert titles(svc.index().filter(Filter())) == ["GitHub"]
    svc.add(new_record("login", "Gmail", {"username": "ann@gmail.com"}))
    assert titles(svc.index().filter(Filter())) == ["GitHub", "Gmail"]  # rebuilt after a change
    rid = svc.find("GitHub")
    assert svc.record(rid).value("password") == "gh-secret"
    svc.lock()
    assert svc.vault is None and not svc.unlocked
    with pytest.raises(LockedError):
        svc.index()
    with pytest.raises(LockedError):
        svc.record(rid)
    assert "gh-secret" not in repr(svc)

    again = VaultService(home)
    assert again.exists() and again.opened().slot.email == "ann@example.com"
    with pytest.raises(WrongPasswordError):
        again.unlock("not the password")
    assert again.unlock(PW).total == 2
    again.delete(rid)
    assert titles(again.index().filter(Filter())) == ["Gmail"]
