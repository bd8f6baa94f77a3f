"""Security Center: weak, reused and old passwords — shared by the CLI (`audit`) and the TUI.

Findings name records (id, title), never values. Reuse is found by comparing keyed hashes held
in memory only for the length of the audit.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .records import Record, iso
from .strength import estimate
from .templates import FieldKind

OLD_DAYS = 365
WEAK_SCORE = 2  # zxcvbn score ≤ this is weak


@dataclass(frozen=True)
class Finding:
    record_id: str
    title: str
    field: str
    detail: str


@dataclass
class AuditReport:
    checked: int = 0
    weak: list[Finding] = field(default_factory=list)
    reused: list[list[Finding]] = field(default_factory=list)
    old: list[Finding] = field(default_factory=list)

    @property
    def score(self) -> int:
        """0–100: the share of checked passwords with no finding."""
        if not self.checked:
            return 100
        flagged = {(f.record_id, f.field) for f in self.weak + self.old}
        flagged |= {(f.record_id, f.field) for group in self.reused for f in group}
        return round(100 * (self.checked - len(flagged)) / self.checked)

    def to_json(self) -> dict[str, Any]:
        def one(f: Finding) -> dict[str, str]:
            return {"id": f.record_id, "title": f.title, "field": f.field, "detail": f.detail}

        return {"checked": self.checked, "score": self.score, "weak": [one(f) for f in self.weak],
                "reused": [[one(f) for f in g] for g in self.reused], "old": [one(f) for f in self.old]}

    def to_text(self) -> str:
        lines = [f"Security score {self.score}/100 ({self.checked} passwords checked)"]
        lines.append(f"Weak passwords: {len(self.weak)}")
        lines += [f"  {f.title} ({f.record_id}) {f.field}: {f.detail}" for f in self.weak]
        lines.append(f"Reused passwords: {sum(len(g) for g in self.reused)} in {len(self.reused)} group(s)")
        for i, g in enumerate(self.reused, 1):
            lines += [f"  group {i}: {f.title} ({f.record_id}) {f.field}" for f in g]
        lines.append(f"Old passwords (unchanged for over {OLD_DAYS} days): {len(self.old)}")
        lines += [f"  {f.title} ({f.record_id}) {f.field}: {f.detail}" for f in self.old]
        return "\n".join(lines)


def _secret_fields(record: Record) -> list[tuple[str, str]]:
    return [(f.name, f.value) for f in record.fields if f.kind is FieldKind.SECRET and f.value]


def _last_changed(record: Record, name: str) -> float:
    """When this secret got its current value, at the latest (never older than the truth).

    Never replaced: the record's creation. Replaced: some time between the history entry (when the
    old value was last current) and the record's last change; the later bound avoids false alarms.
    """
    if any(f.name == name for entry in record.history for f in entry.fields):
        return record.modified
    return record.created


def audit(records: Iterable[Record], now: float, *, old_days: int = OLD_DAYS) -> AuditReport:
    report = AuditReport()
    pepper = secrets.token_bytes(16)
    groups: dict[bytes, list[Finding]] = defaultdict(list)
    for rec in records:
        for name, value in _secret_fields(rec):
            report.checked += 1
            title = rec.display_title
            s = estimate(value, (title,))
            if s.score <= WEAK_SCORE:
                report.weak.append(Finding(rec.id, title, name, f"{s.label}; cracked in {s.crack_time}"))
            groups[hashlib.blake2b(value.encode(), key=pepper).digest()].append(Finding(rec.id, title, name, ""))
            changed = _last_changed(rec, name)
            days = (now - changed) / 86400
            if changed and days > old_days:
                report.old.append(Finding(rec.id, title, name, f"unchanged since {iso(changed)[:10]}"))
    report.reused = [g for g in groups.values() if len(g) > 1]
    for g in report.reused:
        for i, f in enumerate(g):
            g[i] = Finding(f.record_id, f.title, f.field, f"same as {len(g) - 1} other(s)")
    return report
