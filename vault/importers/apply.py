"""Adding a parsed report to a vault: duplicates recognised, one transaction."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import FormatError, InvalidInputError, TamperError
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
        if report.files:
            wheres = dict(zip([r.id for r in report.records], report.sources, strict=True))
            result.added = [_with_files(vault, r, report, result, wheres) for r in result.added]
        if result.added:
            vault.add_many(result.added)
    return result


def _with_files(
    vault: Vault, rec: Record, report: ImportReport, result: ImportResult, wheres: dict[str, str]
) -> Record:
    """`rec` naming its source files, each encrypted into a blob first (as `attach add` does);
    a file over the attachment limit is left out and said."""
    from dataclasses import replace

    from ..attachments import check_name
    from ..attachstore import max_bytes, seal

    files = report.files.get(rec.id)
    if not files:
        return rec
    where = wheres.get(rec.id, rec.title)
    limit, attached = max_bytes(vault), []
    for name, data in files:
        if len(data) > limit:
            result.problems.append(
                Problem(
                    where,
                    f"attachment {name[:60]!r} is larger than the attachment limit "
                    f"({limit // (1024 * 1024)} MiB: attach settings --max-mb); not imported",
                    skipped=False,
                    lost="attachment",
                )
            )
            continue
        try:
            safe = check_name(name.replace("/", "_").replace("\0", "") or "attachment")
        except InvalidInputError:
            safe = "attachment"
        attached.append(seal(vault, io.BytesIO(data), len(data), safe))
    return replace(rec, attachments=(*rec.attachments, *attached)) if attached else rec
