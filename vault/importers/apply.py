"""Adding a parsed report to a vault: duplicates recognised, one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import FormatError, TamperError
from ..merge import state
from ..records import Record
from .common import ImportReport, Problem, bulk, fingerprint

if TYPE_CHECKING:
    from ..vault import Vault


@dataclass
class ImportResult:
    """What an import did: records added, duplicates left out, and the reader's problems."""

    added: list[Record] = field(default_factory=list)
    duplicates: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"ImportResult(added={len(self.added)}, duplicates={len(self.duplicates)}, "
            f"problems={len(self.problems)})"
        )


def existing(vault: Vault) -> tuple[set[str], set[str]]:
    """Ids and fingerprints of the live records in the vault (each decrypted once)."""
    ids: set[str] = set()
    prints: set[str] = set()
    for rid, versions in vault.store.grouped().items():
        winner = state(versions).winner
        if winner.deleted:
            continue
        ids.add(rid)
        try:
            rec = vault.cipher.open(winner)
        except (TamperError, FormatError):
            continue
        if rec is not None:
            prints.add(fingerprint(rec))
    return ids, prints


def plan(vault: Vault, report: ImportReport) -> ImportResult:
    """Which records of the report are new; nothing is written."""
    ids, prints = existing(vault)
    result = ImportResult(problems=list(report.problems))
    in_file: set[str] = set()
    for rec, where in zip(report.records, report.sources, strict=True):
        fp = fingerprint(rec)
        if fp in in_file:
            result.duplicates.append(
                Problem(where, "the same entry as an earlier one in this file")
            )
        elif rec.id in ids or fp in prints:
            result.duplicates.append(
                Problem(where, f"{rec.display_title!r} is already in this vault")
            )
        else:
            result.added.append(rec)
            ids.add(rec.id)
        in_file.add(fp)
    return result


def import_report(vault: Vault, report: ImportReport) -> ImportResult:
    """Add the new records of `report` to `vault` in one store transaction."""
    with bulk():
        result = plan(vault, report)
        if result.added:
            vault.add_many(result.added)
    return result
