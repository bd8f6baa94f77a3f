"""An edit carries the version it started from and never overwrites a change it did not see
(issue 17, reproduction 1): real stores, two connections on one home (the app's form and a CLI
edit on the same device) and two homes through a real sync folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sync.folder import FolderSync, bootstrap_from_folder
from vault.errors import NotFoundError
from vault.rebase import rebase
from vault.records import Field, new_record
from vault.templates import FieldKind
from vault.vault import Detail, Vault

PW = "edit base password"


@pytest.fixture
def two_writers(home: Path) -> Iterator[tuple[Vault, Vault, str]]:
    """One home, two connections (as the app and a CLI process are), one shared record."""
    form = Vault.create(home, "ann@example.com", PW)
    rec = new_record("login", "Shared1", {"username": "ann", "password": "pw-0"}, notes="")
    form.add(rec)
    cli = form.another_connection()
    yield form, cli, rec.id
    cli.close()
    form.close()


def values(detail: Detail, name: str) -> set[str | None]:
    """Every value of one field the user can see: the shown version's and the conflicting ones'."""
    return {r.value(name) for r in (detail.record, *detail.others)}


def test_a_form_saved_unchanged_keeps_what_arrived_while_it_was_open(
    two_writers: tuple[Vault, Vault, str],
) -> None:
    form, cli, rid = two_writers
    base = form.detail(rid)  # the form opens
    cli.edit(rid, lambda r: replace(r, notes="note from A", fields=_set(r, "username", "a")))
    form.update(base.record, base)  # ctrl+s without touching anything
    after = form.detail(rid)
    assert after.record.value("username") == "a" and after.record.notes == "note from A"
    assert not after.conflict


def test_disjoint_changes_merge(two_writers: tuple[Vault, Vault, str]) -> None:
    form, cli, rid = two_writers
    base = form.detail(rid)
    cli.edit(rid, lambda r: replace(r, fields=_set(r, "username", "from-cli"), tags=("work",)))
    form.update(
        replace(base.record, title="Renamed", fields=_set(base.record, "url", "x.org")), base
    )
    rec = form.detail(rid)
    assert not rec.conflict
    assert (rec.record.title, rec.record.username, rec.record.url) == (
        "Renamed",
        "from-cli",
        "x.org",
    )
    assert rec.record.tags == ("work",) and rec.record.value("password") == "pw-0"


def test_the_same_field_changed_on_both_sides_is_a_visible_conflict(
    two_writers: tuple[Vault, Vault, str],
) -> None:
    form, cli, rid = two_writers
    base = form.detail(rid)
    cli.edit(rid, lambda r: replace(r, fields=_set(r, "password", "from-cli"), notes="cli"))
    form.update(replace(base.record, fields=_set(base.record, "password", "from-form")), base)
    for reader in (form, cli):
        seen = reader.detail(rid)
        assert seen.conflict
        assert values(seen, "password") == {"from-cli", "from-form"}
        assert seen.record.notes == "cli"  # the part only one side changed is merged in as well
    # The user resolves by editing what they now see: one version again, nothing else lost.
    now = form.detail(rid)
    form.update(replace(now.record, fields=_set(now.record, "password", "chosen")), now)
    done = form.detail(rid)
    assert not done.conflict and done.record.value("password") == "chosen"
    history = {f.value for h in done.record.history for f in h.fields}
    assert {"from-cli", "pw-0"} <= history


def test_an_edit_of_a_record_deleted_meanwhile_survives(
    two_writers: tuple[Vault, Vault, str],
) -> None:
    form, cli, rid = two_writers
    base = form.detail(rid)
    cli.delete(rid)
    with pytest.raises(NotFoundError):
        cli.detail(rid)
    form.update(replace(base.record, title="Kept"), base)
    assert cli.detail(rid).record.title == "Kept"


def test_without_a_base_an_update_is_an_edit_of_the_current_version(
    two_writers: tuple[Vault, Vault, str],
) -> None:
    form, cli, rid = two_writers
    cli.edit(rid, lambda r: replace(r, notes="newer"))
    form.update(replace(form.record(rid), title="T"))
    assert form.record(rid).notes == "newer" and not form.detail(rid).conflict


def test_two_homes_through_a_folder(tmp_path: Path) -> None:
    """The issue's setup: the form open on B while A's edit reaches B's store by folder sync."""
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    a = Vault.create(tmp_path / "a", "ann@example.com", PW)
    rid = a.add(new_record("login", "Shared1", {"username": "ann", "password": "p"})).id
    FolderSync(a, folder).sync_now()
    b = bootstrap_from_folder(tmp_path / "b", folder, "ann@example.com", PW, a.slot.kit)
    base = b.detail(rid)  # B opens the edit form
    a.edit(
        rid, lambda r: replace(r, notes="note from A", fields=_set(r, "username", "changed-on-A"))
    )
    FolderSync(a, folder).sync_now()
    FolderSync(b, folder).sync_now()  # A's edit is now in B's store
    b.update(replace(base.record, fields=_set(base.record, "password", "from-B")), base)
    FolderSync(b, folder).sync_now()
    FolderSync(a, folder).sync_now()
    for v in (a, b):
        rec = v.detail(rid)
        assert not rec.conflict
        assert (rec.record.username, rec.record.notes) == ("changed-on-A", "note from A")
        assert rec.record.value("password") == "from-B"
    # The same field on both: a conflict on both devices, both values there.
    base = b.detail(rid)
    a.edit(rid, lambda r: replace(r, fields=_set(r, "username", "A2")))
    FolderSync(a, folder).sync_now()
    FolderSync(b, folder).sync_now()
    b.update(replace(base.record, fields=_set(base.record, "username", "B2")), base)
    FolderSync(b, folder).sync_now()
    FolderSync(a, folder).sync_now()
    assert a.detail(rid).conflict and b.detail(rid).conflict
    assert values(a.detail(rid), "username") == values(b.detail(rid), "username") == {"A2", "B2"}
    a.close()
    b.close()


def _set(rec: object, name: str, value: str) -> tuple[Field, ...]:
    from vault.records import Record

    assert isinstance(rec, Record)
    kind = FieldKind.SECRET if name == "password" else FieldKind.TEXT
    kept = tuple(f for f in rec.fields if f.name != name)
    return kept + (Field(name, kind, value),) if value else kept


# -- the three-way merge itself ------------------------------------------------------------------
def test_rebase_merges_tags_as_sets_and_repeated_fields_by_occurrence() -> None:
    base = replace(
        new_record("custom", "R", tags=("a", "b")),
        fields=(Field("pin", FieldKind.SECRET, "1"), Field("pin", FieldKind.SECRET, "2")),
    )
    mine = replace(
        base, tags=("a", "c"), fields=(base.fields[0], Field("pin", FieldKind.SECRET, "22"))
    )
    theirs = replace(
        base, tags=("b", "a", "d"), fields=(Field("pin", FieldKind.SECRET, "11"), base.fields[1])
    )
    out = rebase(base, mine, theirs)
    assert out.conflicts == ()
    assert out.record.tags == ("a", "d", "c")
    assert [f.value for f in out.record.fields] == ["11", "22"]


def test_rebase_reports_each_part_both_sides_changed() -> None:
    base = new_record("login", "R", {"username": "u", "password": "p"}, notes="n")
    mine = replace(base, title="M", notes="mine", favorite=True)
    theirs = replace(base, title="T", notes="n", favorite=True, fields=base.fields[:1])
    out = rebase(base, mine, theirs)
    assert out.conflicts == ("title",)  # same favourite on both is no conflict; notes only mine
    assert (out.record.title, out.record.notes, out.record.favorite) == ("M", "mine", True)
    assert out.record.value("password") is None  # removed there, untouched here
