"""A record's history as people read it: numbered versions, what each changed (secrets named,
never shown), and the password history (each value with the dates it was current).

Pure: it reads what the record carries (its previous versions and replaced secrets), so the app
and the CLI show the same numbers and the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import NotFoundError
from .records import Record, Version, bare

#: Defaults of the retention settings (`history_keep`, `history_days`, `trash_days`).
HISTORY_KEEP = 50
HISTORY_DAYS = 365
TRASH_DAYS = 30


@dataclass(frozen=True)
class Step:
    """One version in a record's history: number 1 is the oldest kept, the highest the current."""

    number: int
    vid: str
    modified: float
    device: str
    record: Record
    changes: tuple[str, ...]
    current: bool


@dataclass(frozen=True)
class PastSecret:
    """A replaced secret value and the dates it was current (`since` None: not known)."""

    field: str
    value: str
    since: float | None
    until: float


def steps(record: Record, device: str) -> list[Step]:
    """Every kept version of `record` (written last by `device`), oldest first, the current last."""
    chain: list[Version] = [*record.versions, Version(record.modified, device, bare(record))]
    out: list[Step] = []
    before: Record | None = None
    for n, v in enumerate(chain, start=1):
        if before is not None:
            what = changes(before, v.snapshot)
        elif v.snapshot.created == v.snapshot.modified or not record.versions:
            what = ("created",)
        else:
            what = ("the oldest version kept",)
        out.append(Step(n, v.vid, v.modified, v.device, v.snapshot, what, n == len(chain)))
        before = v.snapshot
    return out


def find_step(record: Record, device: str, version: str) -> Step:
    """The step named by its number or its id (`history` prints both)."""
    for step in steps(record, device):
        if version in (str(step.number), step.vid):
            return step
    raise NotFoundError(f"{record.display_title!r} has no version {version!r} (see its history)")


def changes(old: Record, new: Record) -> tuple[str, ...]:
    """What changed from `old` to `new`, one short phrase each; secret values are never shown."""
    out: list[str] = []
    if old.trashed is None and new.trashed is not None:
        out.append("moved to the trash")
    if old.trashed is not None and new.trashed is None:
        out.append("restored from the trash")
    if old.title != new.title:
        out.append(f"title {old.title!r} → {new.title!r}")
    if old.type != new.type:
        out.append(f"type {old.type} → {new.type}")
    olds = {f.name.lower(): f for f in old.fields}
    news = {f.name.lower(): f for f in new.fields}
    for key, f in news.items():
        was = olds.get(key)
        if was is None:
            out.append(f"{f.name} added")
        elif was.value != f.value:
            secret = f.kind.concealed or was.kind.concealed
            out.append(f"{f.name} changed" if secret else f"{f.name} {was.value!r} → {f.value!r}")
    out.extend(f"{f.name} removed" for key, f in olds.items() if key not in news)
    if old.notes != new.notes:
        out.append("notes changed")
    if set(old.tags) != set(new.tags):
        out.append("tags " + ", ".join(new.tags) if new.tags else "tags removed")
    if old.favorite != new.favorite:
        out.append("marked favourite" if new.favorite else "no longer favourite")
    old_files = {a.id: a for a in old.attachments}
    new_files = {a.id: a for a in new.attachments}
    out.extend(f"file {a.name!r} added" for i, a in new_files.items() if i not in old_files)
    out.extend(f"file {a.name!r} removed" for i, a in old_files.items() if i not in new_files)
    return tuple(out) or ("no visible change",)


def past_secrets(record: Record) -> list[PastSecret]:
    """Replaced secret values, newest first, each with the dates it was current: from the
    change that set it (the previous replacement of that field, else the record's creation when
    it is the first) until the change that replaced it."""
    out: list[PastSecret] = []
    last: dict[str, float] = {}
    for entry in sorted(record.history, key=lambda h: h.replaced or h.modified):
        until = entry.replaced if entry.replaced is not None else entry.modified
        for f in entry.fields:
            if not f.kind.concealed or not f.value:
                continue
            key = f.name.lower()
            since = last.get(key, record.created if key not in last else None)
            out.append(PastSecret(f.name, f.value, since, until))
            last[key] = until
    out.sort(key=lambda p: p.until, reverse=True)
    return out


__all__ = [
    "HISTORY_DAYS",
    "HISTORY_KEEP",
    "TRASH_DAYS",
    "PastSecret",
    "Step",
    "changes",
    "find_step",
    "past_secrets",
    "steps",
]
