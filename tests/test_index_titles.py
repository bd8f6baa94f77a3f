"""Finding a record by name reads only the title index, and it never answers out of date."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from vault.errors import AmbiguousError, NotFoundError
from vault.index import TITLES_KEY
from vault.records import new_record
from vault.vault import Vault

PW = "title index password"


def _reopened(home: Path) -> Vault:
    """A new process's view: nothing loaded in memory yet."""
    v = Vault.open(home)
    v.unlock(PW)
    return v


def test_find_sees_adds_edits_and_deletes_made_after_the_index_was_written(home: Path) -> None:
    v = Vault.create(home, "ann@example.com", PW)
    ids = [
        v.add(new_record("login", f"Site {i:03d}", {"password": f"pw{i}"})).id for i in range(100)
    ]
    v.summaries()  # writes the index and the title blob
    v.update(replace(v.record(ids[7]), title="Renamed place"))
    v.delete(ids[8])
    added = v.add(new_record("note", "Fresh note")).id
    v.close()

    v = _reopened(home)
    assert v.find("renamed place") == ids[7]
    assert v.find("fresh note") == added
    with pytest.raises(NotFoundError):
        v.find("Site 007")
    with pytest.raises(NotFoundError):
        v.find("Site 008")
    with pytest.raises(AmbiguousError):
        v.find("Site 00")
    assert v.find(ids[9]) == ids[9]
    v.close()


def test_a_damaged_title_blob_falls_back_to_the_full_index(home: Path) -> None:
    v = Vault.create(home, "ann@example.com", PW)
    rid = v.add(new_record("login", "GitHub", {"password": "pw"})).id
    v.summaries()
    blob = bytearray(v.store.get_cache(TITLES_KEY))
    blob[-1] ^= 1
    v.store.set_cache(TITLES_KEY, bytes(blob))
    v.close()
    v = _reopened(home)
    assert v.find("github") == rid
    v.close()


def test_search_by_title_returns_the_same_rows_as_filtering_every_row(home: Path) -> None:
    v = Vault.create(home, "ann@example.com", PW)
    for i in range(30):
        v.add(
            new_record(
                "login",
                f"Site {i:03d}",
                {"username": f"u{i}", "password": f"pw{i}"},
                tags=("work",),
            )
        )
    v.summaries()
    v.add(new_record("note", "Site notes"))
    v.close()
    v = _reopened(home)
    queries = ("site 01", "SITE", "notes", "nothing like it")
    found = {
        q: v.search_titles(q) for q in queries
    }  # before any full row is loaded: the title blob
    assert v.search_titles("site", limit=5) is None  # too many: the caller filters all rows
    everything = v.summaries()
    for query in queries:
        expected = sorted(
            (s for s in everything if query.lower() in s.title.lower()), key=lambda s: s.id
        )
        got = found[query]
        assert got is not None and sorted(got, key=lambda s: s.id) == expected
    v.close()


def test_one_open_vault_finds_records_changed_after_its_rows_were_loaded(home: Path) -> None:
    """The agent's case: one long-lived vault with every row in memory, asked again and again."""
    v = Vault.create(home, "ann@example.com", PW)
    rid = v.add(new_record("login", "GitHub", {"password": "pw"})).id
    v.summaries()
    assert v.find("github") == rid
    v.update(replace(v.record(rid), title="GitLab"))
    added = v.add(new_record("note", "Fresh note")).id
    assert v.find("gitlab") == rid and v.find("fresh") == added
    with pytest.raises(NotFoundError):
        v.find("github")
    v.close()


def test_one_open_vault_reading_the_title_blob_sees_later_changes(home: Path) -> None:
    v = Vault.create(home, "ann@example.com", PW)
    rid = v.add(new_record("login", "GitHub", {"password": "pw"})).id
    v.summaries()
    v.close()
    v = _reopened(home)  # rows never loaded: answers come from the stored title blob
    assert v.find("github") == rid
    v.update(replace(v.record(rid), title="GitLab"))
    assert v.find("gitlab") == rid
    with pytest.raises(NotFoundError):
        v.find("github")
    v.close()
