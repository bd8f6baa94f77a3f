"""An edit made on an older version of a record, brought onto a version that arrived since.

A three-way merge against the version the editor started from (its base), part by part: a part
that only one side changed takes that side's value; a part both sides changed to different
values is a conflict, which the caller keeps visible (the edit is saved beside the other version
instead of superseding it, so both values stay). Parts: title, type, notes, favourite, tags (as a
set: both sides' additions and removals apply) and each field, by name (case-insensitive, as
`Record.value` finds them; a repeated name by its occurrence).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar

from .attachments import Attachment as A
from .records import Field, Record

T = TypeVar("T")


@dataclass(frozen=True)
class Rebased:
    """The merged record (on `theirs`: its id, times and history) and what both sides changed."""

    record: Record
    conflicts: tuple[str, ...]


def rebase(base: Record, mine: Record, theirs: Record) -> Rebased:
    """`mine` (an edit of `base`) merged with `theirs` (another change of `base`)."""
    pick = _Picker()
    merged = replace(
        theirs,
        title=pick("title", base.title, mine.title, theirs.title),
        type=pick("type", base.type, mine.type, theirs.type),
        notes=pick("notes", base.notes, mine.notes, theirs.notes),
        favorite=pick("favorite", base.favorite, mine.favorite, theirs.favorite),
        tags=_tags(base.tags, mine.tags, theirs.tags),
        fields=_fields(base, mine, theirs, pick),
        attachments=_by_id(base.attachments, mine.attachments, theirs.attachments),
    )
    return Rebased(merged, tuple(pick.conflicts))


class _Picker:
    """One part's merged value; remembers the parts both sides changed differently."""

    def __init__(self) -> None:
        self.conflicts: list[str] = []

    def __call__(self, part: str, base: T, mine: T, theirs: T) -> T:
        if mine == base:
            return theirs
        if theirs not in (base, mine):
            self.conflicts.append(part)
        return mine


def _tags(base: tuple[str, ...], mine: tuple[str, ...], theirs: tuple[str, ...]) -> tuple[str, ...]:
    removed = set(base) - set(mine)
    kept = [t for t in theirs if t not in removed]
    return tuple(kept + [t for t in mine if t not in base and t not in theirs])


def _by_id(base: tuple[A, ...], mine: tuple[A, ...], theirs: tuple[A, ...]) -> tuple[A, ...]:
    """Attachments as a set by id (a file never changes, only comes and goes): both sides'
    additions stay, a removal on either side holds."""
    removed = {a.id for a in base} - {a.id for a in mine}
    kept = [a for a in theirs if a.id not in removed]
    known = {a.id for a in base} | {a.id for a in theirs}
    return tuple(kept + [a for a in mine if a.id not in known])


def _keyed(rec: Record) -> dict[tuple[str, int], Field]:
    """Fields by (lower-case name, occurrence): a name repeated by an import stays two fields."""
    out: dict[tuple[str, int], Field] = {}
    seen: dict[str, int] = {}
    for f in rec.fields:
        low = f.name.lower()
        seen[low] = n = seen.get(low, -1) + 1
        out[(low, n)] = f
    return out


def _fields(base: Record, mine: Record, theirs: Record, pick: _Picker) -> tuple[Field, ...]:
    """In mine's order, then fields only theirs has; a field removed on one side and not changed
    on the other is gone."""
    b, m, t = _keyed(base), _keyed(mine), _keyed(theirs)
    out = []
    for key in list(m) + [k for k in t if k not in m]:
        f = pick(f"field {key[0]}", b.get(key), m.get(key), t.get(key))
        if f is not None:
            out.append(f)
    return tuple(out)
