"""What workers tell the UI thread (harlequin's messages.py): a worker never touches a widget;
it posts one of these, and a handler on the UI thread makes the change.

`WorkerFailed` is the one error path: every worker started with `tui.workers.work` that raises
posts it to the app, which writes a log line and, unless the screen shows the error itself,
a notification (see StrongroomApp.report_failure).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from runtime.backups import BackupEntry
    from vault.audit import AuditReport
    from vault.index import Summary
    from vault.keys import KeySlot, UnlockedKeys

    from .search import SearchIndex


class WorkerFailed(Message):
    """A worker raised: `doing` says what it was doing ("Loading the records"), `where` the screen."""

    def __init__(self, doing: str, where: str, error: BaseException, *, shown: bool) -> None:
        super().__init__()
        self.doing = doing
        self.where = where
        self.error = error
        self.shown = shown  # the screen shows this error itself (a form's message line)


class RowsLoaded(Message):
    """Every row of the vault, indexed for search (the record list's loader): the records, and
    the trash's own index (the list's trash filter searches it)."""

    def __init__(self, index: SearchIndex, trash: SearchIndex) -> None:
        super().__init__()
        self.index = index
        self.trash = trash


class SearchResults(Message):
    """Rows for one (index, query, filters); `similar_from`: where fuzzy matches start."""

    def __init__(self, key: tuple[Any, ...], rows: list[Summary], similar_from: int | None) -> None:
        super().__init__()
        self.key = key
        self.rows = rows
        self.similar_from = similar_from
        self.drawn = threading.Event()  # set once these rows are on screen (or dropped)


class AuditReady(Message):
    """The Security Center's findings."""

    def __init__(self, report: AuditReport) -> None:
        super().__init__()
        self.report = report


class BackupsListed(Message):
    """The backups found in `folder`, newest first."""

    def __init__(self, folder: Path, entries: list[BackupEntry]) -> None:
        super().__init__()
        self.folder = folder
        self.entries = entries


@dataclass(frozen=True)
class NewKeys:
    """What a password change or key rotation made: the UI's vault takes the slot and keys."""

    slot: KeySlot
    keys: UnlockedKeys
    kit_paths: list[Path]


class KeysChanged(Message):
    def __init__(self, made: NewKeys) -> None:
        super().__init__()
        self.made = made
