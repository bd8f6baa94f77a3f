"""Security Center: weak, reused and old passwords — shared by the CLI (`audit`) and the TUI.

Findings name records (id, title, field name), never values. Reuse is found by comparing
keyed hashes (a random key per audit) held in memory only while the audit runs, so not even a
hash of a password outlives it or appears in the report.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .breaches import BreachFile
from .errors import InvalidInputError
from .records import Record, iso
from .strength import Strength, estimate
from .templates import FieldKind, template
from .words import plural

OLD_DAYS = 365
WEAK_SCORE = 2  # zxcvbn score ≤ this ("very weak", "weak", "fair") is flagged
DAY = 86400.0


@dataclass(frozen=True)
class Finding:
    record_id: str
    title: str
    field: str
    detail: str
    #: Breached passwords: how often the breach file saw it.
    seen: int = 0


@dataclass
class AuditReport:
    checked: int = 0
    records: int = 0
    old_days: int = OLD_DAYS
    weak: list[Finding] = field(default_factory=list)
    reused: list[list[Finding]] = field(default_factory=list)
    old: list[Finding] = field(default_factory=list)
    breached: list[Finding] = field(default_factory=list)
    #: Whether passwords were checked against a breach file (`breached` means something).
    breach_checked: bool = False

    @property
    def reused_count(self) -> int:
        return sum(len(g) for g in self.reused)

    @property
    def flagged(self) -> int:
        """Passwords with at least one finding (a password both weak and reused counts once)."""
        keys = {(f.record_id, f.field) for f in self.weak + self.old + self.breached}
        keys |= {(f.record_id, f.field) for group in self.reused for f in group}
        return len(keys)

    @property
    def score(self) -> int:
        """0–100: the share of checked passwords with no finding (100 when there is nothing to check)."""
        if not self.checked:
            return 100
        return round(100 * (self.checked - self.flagged) / self.checked)

    def counts(self) -> dict[str, int]:
        return {
            "records": self.records,
            "checked": self.checked,
            "weak": len(self.weak),
            "reused": self.reused_count,
            "reused_groups": len(self.reused),
            "old": len(self.old),
            "flagged": self.flagged,
        } | ({"breached": len(self.breached)} if self.breach_checked else {})

    def to_json(self) -> dict[str, Any]:
        def one(f: Finding) -> dict[str, str]:
            return {"id": f.record_id, "title": f.title, "field": f.field, "detail": f.detail}

        return {
            "checked": self.checked,
            "score": self.score,
            "counts": self.counts(),
            "old_days": self.old_days,
            "weak": [one(f) for f in self.weak],
            "reused": [[one(f) for f in g] for g in self.reused],
            "old": [one(f) for f in self.old],
        } | (
            {"breached": [one(f) | {"seen": f.seen} for f in self.breached]}
            if self.breach_checked
            else {}
        )

    def to_text(self) -> str:
        lines = [
            f"Security score {self.score}/100 ({self.checked} passwords checked in {self.records} records)"
        ]
        lines.append(f"Weak passwords: {len(self.weak)}")
        lines += [f"  {f.title} ({f.record_id}) {f.field}: {f.detail}" for f in self.weak]
        lines.append(
            f"Reused passwords: {self.reused_count} in {plural('group', len(self.reused))}"
        )
        for i, g in enumerate(self.reused, 1):
            lines += [f"  group {i}: {f.title} ({f.record_id}) {f.field}" for f in g]
        lines.append(f"Old passwords (unchanged for over {self.old_days} days): {len(self.old)}")
        lines += [f"  {f.title} ({f.record_id}) {f.field}: {f.detail}" for f in self.old]
        if self.breach_checked:
            lines.append(f"Breached passwords (seen in known breaches): {len(self.breached)}")
            lines += [f"  {f.title} ({f.record_id}) {f.field}: {f.detail}" for f in self.breached]
        return "\n".join(lines)


def audited_fields(record: Record) -> list[tuple[str, str]]:
    """(name, value) of the record's non-empty passwords.

    Secret fields named "password", plus secret fields the user added beyond the template (a
    second password, a recovery phrase). A template's other secrets (a licence key) are not
    passwords a person chose, so judging their strength or reuse would only be noise; PINs and
    TOTP seeds are left out for the same reason.
    """
    try:
        tpl = template(record.type)
    except InvalidInputError:
        tpl = None
    out = []
    for f in record.fields:
        if f.kind is not FieldKind.SECRET or not f.value:
            continue
        if f.name.lower() == "password" or tpl is None or tpl.spec(f.name) is None:
            out.append((f.name, f.value))
    return out


def last_changed(record: Record, name: str) -> float:
    """When the secret `name` got its current value, as well as the record can tell.

    A history entry holds replaced values stamped with the time they were *last current*, so
    the value that replaced the last one kept for `name` was set at the next revision after it:
    the earliest later history entry's time, else the record's last change (an upper bound —
    never older than the truth, so it cannot raise a false alarm). With no history the value
    dates from the record's creation.
    """
    stamps = [
        entry.modified for entry in record.history if any(f.name == name for f in entry.fields)
    ]
    if not stamps:
        return record.created
    replaced = max(stamps)
    later = [entry.modified for entry in record.history if entry.modified > replaced]
    return min(later + [record.modified])


def audit(
    records: Iterable[Record | None],
    now: float,
    *,
    old_days: int = OLD_DAYS,
    breaches: BreachFile | None = None,
) -> AuditReport:
    """Check every live record's passwords; `None` (a deleted record's tombstone) is skipped.
    With `breaches`, also how often each was seen in known breaches (vault/breaches.py)."""
    if old_days < 0:
        raise InvalidInputError(
            f"the age limit for old passwords must be zero days or more, not {old_days}"
        )
    report = AuditReport(old_days=old_days, breach_checked=breaches is not None)
    seen: dict[bytes, int] = {}  # one lookup per distinct password
    key = secrets.token_bytes(32)
    groups: dict[bytes, list[Finding]] = defaultdict(list)
    strengths: dict[
        tuple[bytes, str, str], Strength
    ] = {}  # one zxcvbn run per distinct password and context
    for rec in records:
        if rec is None:
            continue
        report.records += 1
        title = rec.display_title
        for name, value in audited_fields(rec):
            report.checked += 1
            digest = hashlib.blake2b(value.encode(), key=key).digest()
            context = (title.lower(), (rec.username or "").lower())
            s = strengths.get((digest, *context))
            if s is None:  # the title and username count as known to an attacker ("github2024")
                s = strengths[(digest, *context)] = estimate(value, context)
            if s.score <= WEAK_SCORE:
                report.weak.append(
                    Finding(rec.id, title, name, f"{s.label}; cracked in {s.crack_time_display}")
                )
            groups[digest].append(Finding(rec.id, title, name, ""))
            if breaches is not None:
                if digest not in seen:
                    seen[digest] = breaches.count(value)
                if seen[digest]:
                    times = seen[digest]
                    report.breached.append(
                        Finding(rec.id, title, name, f"seen {times:,} times in breaches", times)
                    )
            changed = last_changed(rec, name)
            if changed and now - changed > old_days * DAY:
                report.old.append(
                    Finding(rec.id, title, name, f"unchanged since {iso(changed)[:10]}")
                )
    strengths.clear()
    seen.clear()
    for group in groups.values():
        if len({f.record_id for f in group}) < 2:
            continue  # the same value twice inside one record is not reuse across sites
        report.reused.append(
            [
                Finding(f.record_id, f.title, f.field, f"same as {plural('other', len(group) - 1)}")
                for f in group
            ]
        )
    groups.clear()
    report.weak.sort(key=lambda f: (f.title.lower(), f.record_id))
    report.old.sort(key=lambda f: (f.title.lower(), f.record_id))
    report.breached.sort(key=lambda f: (-f.seen, f.title.lower(), f.record_id))
    report.reused.sort(key=lambda g: (-len(g), g[0].title.lower()))
    return report
