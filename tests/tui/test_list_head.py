"""The summary head: the list's first screenful, read right after unlock without loading every row.
It must always be an exact prefix of the full list in title order, whatever changed since it was
written (edits, deletes, other devices), or be refused so the list loads everything."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from vault.index import HEAD_KEY, HEAD_ROWS, REWRITE_AFTER, title_key
from vault.records import new_record
from vault.vault import Vault

PW = "head test password"


def _vault(home: Path, n: int) -> Vault:
    v = Vault.create(home, "ann@example.com", PW)
    v.add_many([new_record("login", f"Site {i:04d}", {"username": f"u{i}"}) for i in range(n)])
    v.summaries()  # writes the index and its head, as the first unlock does
    return v


def _reopened(home: Path) -> Vault:
    v = Vault.open(home)
    v.unlock(PW)
    return v


def _assert_prefix(v: Vault) -> list[str]:
    head = v.summary_head()
    assert head is not None
    full = sorted(v.summaries(), key=title_key)
    assert head.rows == full[: len(head.rows)]
    assert head.total in (None, len(full))
    return [s.title for s in head.rows]


def test_head_is_the_first_rows_in_title_order(home: Path) -> None:
    v = _vault(home, HEAD_ROWS + 50)
    v.close()
    v = _reopened(home)
    head = v.summary_head()
    assert head is not None and head.total == HEAD_ROWS + 50
    assert [s.title for s in head.rows] == [f"Site {i:04d}" for i in range(HEAD_ROWS)]


def test_head_follows_edits_deletes_and_additions_made_since_it_was_written(home: Path) -> None:
    v = _vault(home, HEAD_ROWS + 50)
    ids = {s.title: s.id for s in v.summaries()}
    v.update(
        replace(v.record(ids["Site 0240"]), title="AAA moved to the top")
    )  # from outside into the head
    v.delete(ids["Site 0000"])
    v.update(replace(v.record(ids["Site 0001"]), title="Site 9999"))  # leaves the head
    v.add(new_record("note", "Site 0002b"))
    v.close()
    v = _reopened(home)
    shown = _assert_prefix(v)
    assert shown[:3] == ["AAA moved to the top", "Site 0002", "Site 0002b"]
    assert "Site 0000" not in shown and "Site 0001" not in shown
    assert v.summary_head().total is None  # type: ignore[union-attr]  # a full head cannot count the rest


def test_small_vault_head_stays_complete_and_counted(home: Path) -> None:
    v = _vault(home, 5)
    ids = {s.title: s.id for s in v.summaries()}
    v.delete(ids["Site 0003"])
    v.add(new_record("login", "New"))
    v.close()
    v = _reopened(home)
    head = v.summary_head()
    assert head is not None and head.total == 5
    assert [s.title for s in head.rows] == [
        "New",
        "Site 0000",
        "Site 0001",
        "Site 0002",
        "Site 0004",
    ]


def test_too_many_changes_or_a_damaged_head_mean_load_everything(home: Path) -> None:
    v = _vault(home, 10)
    rid = v.summaries()[0].id
    for i in range(REWRITE_AFTER + 1):
        v.add(new_record("login", f"Extra {i}"))
    v.close()
    v = _reopened(home)
    assert v.summary_head() is None
    assert len(v.summaries()) == 10 + REWRITE_AFTER + 1  # rewrites the index and its head
    assert _assert_prefix(v)
    blob = bytearray(v.store.get_cache(HEAD_KEY) or b"")
    blob[-1] ^= 1
    v.store.set_cache(HEAD_KEY, bytes(blob))
    assert v.summary_head() is None
    assert v.record(rid).id == rid


def test_summaries_from_several_threads_while_records_change(home: Path) -> None:
    """The list's loader, the Security Center and sync reloads read the index from worker threads
    at the same time as the UI saves records."""
    import threading

    v = _vault(home, 300)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(15):
                assert len(v.summaries()) >= 300
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(40):
        v.add(new_record("login", f"Added {i}"))
    for t in threads:
        t.join()
    assert not errors
    assert len(v.summaries()) == 340
    _assert_prefix(v)
