"""Import another manager's export (file → format → preview → confirm) and export to plaintext.

Both screens only gather choices and show results: reading, duplicate checking, the one-
transaction import and writing the export run in thread workers that never touch widgets
(progress arrives as messages), so a 10,000-record file never freezes the screen. The engine
is `vault.importers` / `vault.export`, the same code the CLI runs.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Header, Input, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from runtime.safe_text import printable
from vault.export import ExportOutcome
from vault.importers import FORMATS, LABELS, ImportReport, ImportResult
from vault.importers.common import counting, left_out_text
from vault.importers.pass_store import read_store
from vault.importers.registry import FOLDER_FORMATS
from vault.importers.secret import MAX_KEY_FILE_BYTES, FileSecret
from vault.templates import template
from vault.words import plural

from ..actions import bindings, scope
from ..app_access import strongroom_app
from ..typeahead import TypedEvent
from ..widgets.key_footer import KeyFooter
from ..widgets.path_input import PathInput
from ..workers import work

if TYPE_CHECKING:
    pass

#: Every format the screen offers: files, then folders (a pass store).
ALL_FORMATS = (*FORMATS, *FOLDER_FORMATS)
SHOWN_RECORDS = 10
SHOWN_PROBLEMS = 20
PROGRESS_EVERY_S = 0.05


def _options(formats: list[str], likely: tuple[str, ...] = ()) -> list[Option]:
    """The format list's rows; `likely` (the file's candidates) first, marked."""
    order = [f for f in likely if f in ALL_FORMATS] + [f for f in formats if f not in likely]
    mark = {f: "? " for f in likely}
    return [Option(f"{mark.get(f, '')}{LABELS.get(f, f):<42} {f}", id=f) for f in order]


class ImportCancelled(Exception):
    """The screen was closed while its file was being read."""


class _CountingFile(io.FileIO):
    """A file that reports how many bytes the reader has taken (for the progress bar)."""

    def __init__(self, path: Path, on_read: Callable[[int], None]) -> None:
        super().__init__(path, "rb")
        self.done = 0
        self._on_read = on_read

    def readinto(self, buffer: Any) -> int | None:
        n = super().readinto(buffer)
        if n:
            self.done += n
            self._on_read(self.done)
        return n


def read_with_progress(
    fmt: str, path: Path, on_read: Callable[[int], None], secret: FileSecret | None = None
) -> ImportReport:
    """`vault.importers.read_stream` over a file whose reads are counted; same errors as read_file."""
    from vault.errors import InvalidInputError
    from vault.importers import read_stream
    from vault.importers.registry import FOLDER_FORMATS

    if fmt in FOLDER_FORMATS:  # a pass store: gpg may not ask, the app owns the terminal
        if not path.is_dir():
            raise InvalidInputError(f"{path} is a file; a {fmt} import reads the store's folder")
        given = secret.password if secret else os.environ.get("STRONGROOM_IMPORT_PASSWORD")
        return read_store(path, given, pinentry=False)
    if path.is_dir():
        raise InvalidInputError(f"{path} is a folder, not an export file")
    with io.BufferedReader(_CountingFile(path, on_read), 256 * 1024) as stream:
        return read_stream(fmt, stream, secret, path)


@dataclass
class Preview:
    """A parsed file and what importing it now would do."""

    path: Path
    report: ImportReport
    plan: ImportResult


def type_counts(records: Any) -> str:
    counts: dict[str, int] = {}
    for r in records:
        counts[r.type] = counts.get(r.type, 0) + 1
    return ", ".join(f"{template(k).label} {n:,}" for k, n in sorted(counts.items()))


def preview_text(preview: Preview) -> Text:
    """The preview as Text (never markup: titles come from the file). Titles and usernames only."""
    report, plan = preview.report, preview.plan
    out = Text()
    out.append(f"{printable(preview.path.name)}", style="bold")
    out.append(f"  ({LABELS.get(report.format, report.format)})\n\n")
    out.append(f"Read {plural('entry', len(report.records))}")
    out.append(f": {type_counts(report.records)}\n" if report.records else "\n")
    out.append(
        f"New, will be imported: {len(plan.added):,}", style="bold green" if plan.added else "bold"
    )
    out.append(f" ({type_counts(plan.added)})\n" if plan.added else "\n")
    if plan.duplicates:
        out.append(
            f"Already in the vault or repeated in the file, skipped: {len(plan.duplicates):,}\n",
            style="yellow",
        )
    skipped = [p for p in plan.problems if p.skipped]
    noted = [p for p in plan.problems if not p.skipped]
    if skipped:
        out.append(f"Cannot be imported, skipped: {len(skipped):,}\n", style="red")
    if noted:
        out.append(f"Imported with a caveat: {len(noted):,}\n", style="yellow")
    lost = left_out_text(plan.problems)
    if lost:
        out.append(f"Not imported: {lost} (listed below)\n", style="bold red")
    shown = plan.added or report.records
    if shown:
        out.append(
            "\nFirst records" + ("" if plan.added else " (all already in the vault)") + ":\n",
            style="bold",
        )
        for rec in shown[:SHOWN_RECORDS]:
            out.append(
                f"  {printable(rec.display_title)[:40]:<40}", style="bold" if plan.added else "dim"
            )
            out.append(
                f"  {printable(rec.username or '')[:30]:<30}  {template(rec.type).label}\n",
                style="dim",
            )
        if len(shown) > SHOWN_RECORDS:
            out.append(f"  … and {len(shown) - SHOWN_RECORDS:,} more\n", style="dim")
    for title, items, style in (
        ("Duplicates (not added again)", plan.duplicates, "yellow"),
        ("Skipped", skipped, "red"),
        ("Imported with a caveat", noted, "yellow"),
    ):
        if not items:
            continue
        out.append(f"\n{title}:\n", style=f"bold {style}")
        for p in items[:SHOWN_PROBLEMS]:
            out.append(f"  {printable(p.where)}: {printable(p.reason)}\n")
        if len(items) > SHOWN_PROBLEMS:
            out.append(
                f"  … and {len(items) - SHOWN_PROBLEMS:,} more (`strongroom import --dry-run --json` "
                "lists them all)\n",
                style="dim",
            )
    return out


def failure_text(path: Path, exc: BaseException) -> str:
    """A refused file, said plainly: what is wrong and that nothing changed."""
    from vault.errors import VaultError

    if isinstance(exc, VaultError):
        reason = str(exc)
    elif isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
    else:
        reason = f"unexpected error ({type(exc).__name__})"
    return f"Cannot import {path.name}: {reason}. Nothing was imported."


class ImportScreen(Screen[None]):
    """File (with completion) and format, then a preview; ctrl+s imports, Esc leaves with nothing changed."""

    DEFAULT_CSS = """
    ImportScreen #import-form { padding: 0 2; height: auto; }
    ImportScreen #import-form Label { margin-top: 1; }
    ImportScreen #format { height: auto; max-height: 12; }
    ImportScreen #guess { color: $text-muted; height: auto; }
    ImportScreen #import-secret { padding: 0 2; height: auto; }
    ImportScreen #import-secret Label { margin-top: 1; }
    ImportScreen #import-status { padding: 0 2; height: auto; margin-top: 1; }
    ImportScreen #import-progress { padding: 0 2; }
    ImportScreen #import-preview { padding: 0 2; height: 1fr; }
    ImportScreen #import-actions { height: auto; padding: 0 2; }
    """
    BINDINGS = scope("import")

    class Progress(Message):
        """From the reading worker: a phase, and bytes done of total (None: no measure)."""

        def __init__(self, phase: str, done: int | None, total: int | None) -> None:
            super().__init__()
            self.phase, self.done, self.total = phase, done, total

    def __init__(self) -> None:
        super().__init__()
        self.preview: Preview | None = None
        self.busy = False  # importing: the vault is being written, Esc waits
        self.reading = False  # the file is being read for the preview
        self._last_read: Worker[Preview] | None = None
        #: The format of a file that asked for its own password (read again once it is typed).
        self.locked_format: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="import-form"):
            yield Static(
                "Import records from another password manager's export. Nothing changes until you "
                "confirm the preview.",
                markup=False,
            )
            yield Label("File (tab completes; Enter when done)")
            yield PathInput(placeholder="~/Downloads/bitwarden_export.json", id="file")
            yield Static("", id="guess", markup=False)
            yield Label("Format (Enter reads the file)")
            yield OptionList(*_options(list(ALL_FORMATS)), id="format")
        with Vertical(id="import-secret"):
            yield Label("", id="secret-label")
            yield Input(password=True, id="file-password")
            yield Label("KeePass key file (optional; tab completes)", id="key-file-label")
            yield PathInput(id="key-file")
        yield Static("", id="import-status", markup=False)
        yield ProgressBar(id="import-progress", show_eta=False)
        with VerticalScroll(id="import-preview"):
            yield Static("", id="preview-text")
        with Vertical(id="import-actions"):
            key = strongroom_app(self).key_of("import.confirm")
            yield Button(f"Import ({key})", id="do-import", variant="primary")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Import"
        for wid in ("#import-progress", "#import-preview", "#import-actions", "#import-secret"):
            self.query_one(wid).display = False
        self.query_one("#file", PathInput).focus()

    def key_waits(self, event: TypedEvent) -> bool:
        """Keys typed ahead wait for the preview (ctrl+s then imports what it shows) and for
        the import; Esc cancels a read at once."""
        if self.reading:
            return not strongroom_app(self).is_key_of(event, "import.cancel")
        return self.busy

    # -- choosing ---------------------------------------------------------------------------
    def _path(self) -> Path:
        return Path(self.query_one("#file", PathInput).value.strip()).expanduser()

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#import-status", Static).update(Text(text, style=style))

    @on(PathInput.Submitted, "#file")
    def _file_chosen(self) -> None:
        from vault.importers.sniff import path_candidates

        if not self.query_one("#file", PathInput).value.strip():
            self._status("Type the path of the export file (tab completes).", "red")
            return
        path = self._path()
        found = path_candidates(path)
        if not path.is_file() and found != ["pass"]:
            if path.is_dir():
                self._status(
                    f"There is a folder at {path} (not a pass store: it has no .gpg-id): "
                    "give the export file.",
                    "red",
                )
            else:
                self._status(f"There is no file at {path}: give the export file.", "red")
            return
        self._status("")
        options = self.query_one("#format", OptionList)
        options.clear_options()
        options.add_options(_options(list(ALL_FORMATS), tuple(found) if len(found) > 1 else ()))
        guess = self.query_one("#guess", Static)
        if len(found) == 1:
            options.highlighted = list(ALL_FORMATS).index(found[0])
            guess.update(
                f"This looks like a {LABELS.get(found[0], found[0])} export: Enter reads it as that."
            )
        elif found:
            options.highlighted = 0
            names = " or ".join(LABELS.get(f, f) for f in found)
            guess.update(
                f"This could be {names}: the likely ones are first (marked ?); pick one "
                "with ↑↓ and Enter."
            )
        else:
            guess.update("Pick the manager that made this file.")
        options.focus()

    @on(OptionList.OptionSelected, "#format")
    def _format_chosen(self, event: OptionList.OptionSelected) -> None:
        path = self._path()
        fmt = event.option.id or ""
        if not (path.is_dir() if fmt in FOLDER_FORMATS else path.is_file()):
            what = "the store's folder" if fmt in FOLDER_FORMATS else "the export file"
            self._status(f"Give {what} first (a path above).", "red")
            self.query_one("#file", PathInput).focus()
            return
        self.locked_format = None
        self.query_one("#import-secret").display = False
        self._start_read(fmt, path, None)

    def _start_read(self, fmt: str, path: Path, secret: FileSecret | None) -> None:
        self.preview = None
        self.query_one("#import-preview").display = False
        self.query_one("#import-actions").display = False
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=None if path.is_dir() else max(path.stat().st_size, 1), progress=0)
        bar.display = True
        self._status(f"Reading {path.name} as {LABELS.get(fmt, fmt)}…")
        self.reading = True
        self._last_read = self._read(fmt, path, secret)

    # -- a file locked with its own password ------------------------------------------------
    def _ask_secret(self, fmt: str, exc: BaseException) -> None:
        """Show the masked password field (and the key file field for KeePass)."""
        from vault.errors import FileSecretNeededError

        self.locked_format = fmt
        name = self._path().name
        wrong = not isinstance(exc, FileSecretNeededError)
        key_file = fmt == "keepass-kdbx"
        self.query_one("#secret-label", Label).update(
            f"Password of {printable(name)} (its own, not your Account Password; Enter reads)"
        )
        self.query_one("#key-file-label").display = key_file
        self.query_one("#key-file").display = key_file
        self.query_one("#import-secret").display = True
        field = self.query_one("#file-password", Input)
        field.value = ""
        field.focus()
        message = f"{exc}." if wrong else f"{printable(name)}: {exc}. Type its password."
        self._status(message[:1].upper() + message[1:], "red" if wrong else "")

    @on(Input.Submitted, "#file-password")
    @on(PathInput.Submitted, "#key-file")
    def _secret_given(self) -> None:
        fmt, path = self.locked_format, self._path()
        if fmt is None or not (path.is_dir() if fmt in FOLDER_FORMATS else path.is_file()):
            return
        key: bytes | None = None
        key_path = self.query_one("#key-file", PathInput).value.strip()
        if key_path and self.query_one("#key-file").display:
            try:
                with open(Path(key_path).expanduser(), "rb") as f:
                    key = f.read(MAX_KEY_FILE_BYTES + 1)
            except OSError as exc:
                self._status(f"Cannot read the key file: {exc.strerror or exc}.", "red")
                return
            if len(key) > MAX_KEY_FILE_BYTES:
                self._status("That key file is larger than 16 MiB: not a key file.", "red")
                return
        field = self.query_one("#file-password", Input)
        password = field.value
        if not password and key is None:
            self._status("Type the file's password (or give its key file).", "red")
            return
        self._start_read(fmt, path, FileSecret(password, key))

    # -- reading (worker) -------------------------------------------------------------------
    @work(doing="Reading the file", group="import-read", exclusive=True, shows_errors=True)
    def _read(self, fmt: str, path: Path, secret: FileSecret | None = None) -> Preview:
        from vault.importers.apply import plan

        worker = get_current_worker()
        total = 0 if path.is_dir() else path.stat().st_size
        last = [0.0]
        read = [0]
        entries = [0]

        def report_progress(force: bool = False) -> None:
            """At most every PROGRESS_EVERY_S: bytes read while the file streams; once it is all
            read (JSON is parsed whole, then built) the bar pulses and the count of entries goes on."""
            if worker.is_cancelled:
                raise ImportCancelled
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY_S and not force:
                return
            last[0] = now
            text = f"Reading {path.name}…" + (
                f" {plural('entry', entries[0])} so far" if entries[0] else ""
            )
            if read[0] < total:
                self.post_message(self.Progress(text, read[0], total))
            else:
                self.post_message(self.Progress(text, None, None))

        def on_read(done: int) -> None:
            crossed = (
                read[0] < total <= done
            )  # all read: the bar starts pulsing now, not at the next tick
            read[0] = done
            report_progress(crossed)

        def on_record(count: int) -> None:
            entries[0] = count
            report_progress()

        with counting(on_record):
            report = read_with_progress(fmt, path, on_read, secret)
        if worker.is_cancelled:
            raise ImportCancelled
        self.post_message(
            self.Progress(
                f"Checking {plural('entry', len(report.records))} for duplicates…", None, None
            )
        )
        app = strongroom_app(self)
        assert app.vault is not None
        with app.vault.own_connection() as vault:
            return Preview(path, report, plan(vault, report))

    def on_import_screen_progress(self, event: ImportScreen.Progress) -> None:
        if self.preview is not None:
            return
        bar = self.query_one("#import-progress", ProgressBar)
        if event.total is None or event.done is None:
            bar.update(total=None)
        else:
            bar.update(total=event.total, progress=event.done)
        self._status(event.phase)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "import-read":
            self._read_finished(event.worker, event.state)
            if event.worker.is_finished and event.worker is self._last_read:
                self.reading = False
        elif event.worker.group == "import-apply":
            self._apply_finished(event.worker, event.state)
        if event.worker.is_finished:
            strongroom_app(self).type_ahead.resume()  # after the focus the outcome set

    def _read_finished(self, worker: Worker[Any], state: WorkerState) -> None:
        if state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self.query_one("#import-progress").display = False
        if state is WorkerState.ERROR:
            if isinstance(worker.error, ImportCancelled):
                return
            from vault.errors import FileSecretNeededError, WrongFileSecretError

            if isinstance(worker.error, FileSecretNeededError | WrongFileSecretError):
                fmt = self.locked_format or self._chosen_format()
                self._ask_secret(fmt, worker.error)
                return
            message = failure_text(self._path(), worker.error or Exception())
            self._status(message, "red")
            self.notify(message, severity="error", markup=False)
            self.query_one("#format", OptionList).focus()
            return
        preview = cast("Preview", worker.result)  # what _read returned
        self.preview = preview
        self.query_one("#file-password", Input).value = ""  # the file's password: not kept
        self.query_one("#import-secret").display = False
        self.query_one("#import-form").display = False
        self.query_one("#preview-text", Static).update(preview_text(preview))
        self.query_one("#import-preview").display = True
        added = len(preview.plan.added)
        button = self.query_one("#do-import", Button)
        key = strongroom_app(self).key_of  # as the user's keymap has it
        button.label = (
            f"Import {added:,} record{'' if added == 1 else 's'} ({key('import.confirm')})"
            if added
            else "Close (nothing new)"
        )
        self.query_one("#import-actions").display = True
        self._status(
            f"Nothing changes until you press {key('import.confirm')} (or Enter on the "
            f"button); {key('import.cancel')} cancels."
        )
        button.focus()

    def _chosen_format(self) -> str:
        options = self.query_one("#format", OptionList)
        index = options.highlighted  # the rows may be reordered (a file's candidates first)
        return (options.get_option_at_index(index).id or "") if index is not None else ""

    # -- importing (worker) -----------------------------------------------------------------
    @on(Button.Pressed, "#do-import")
    def action_confirm(self) -> None:
        if self.preview is None or self.busy:
            return
        if not self.preview.plan.added:
            self.notify("Nothing imported: every entry is already in the vault or was skipped.")
            self.dismiss()
            return
        self.busy = True
        self.query_one("#do-import", Button).disabled = True
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=None)
        bar.display = True
        self._status(f"Importing {plural('record', len(self.preview.plan.added))} in one step…")
        self._apply(self.preview.report)

    @work(doing="Importing", group="import-apply", exclusive=True, shows_errors=True)
    def _apply(self, report: ImportReport) -> ImportResult:
        """Planned again inside the import: a sync may have added records since the preview."""
        from vault.importers import import_report

        app = strongroom_app(self)
        assert app.vault is not None
        with app.vault.own_connection() as vault:
            result = import_report(vault, report)
        app.vault.summaries()  # decrypt the new rows into the list's index here, not when the list repaints
        return result

    def _apply_finished(self, worker: Worker[Any], state: WorkerState) -> None:
        if state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self.busy = False
        self.query_one("#import-progress").display = False
        if state is WorkerState.ERROR:
            message = failure_text(self._path(), worker.error or Exception())
            self._status(message, "red")
            self.notify(message, severity="error", markup=False)
            return
        result = cast("ImportResult", worker.result)  # what _apply returned
        skipped = len([p for p in result.problems if p.skipped])
        parts = [f"Imported {len(result.added):,} record{'' if len(result.added) == 1 else 's'}"]
        if result.duplicates:
            parts.append(f"{len(result.duplicates):,} already there")
        if skipped:
            parts.append(f"{skipped:,} skipped")
        self.notify(", ".join(parts) + ".", markup=False)
        self.dismiss()

    def action_cancel(self) -> None:
        if self.busy:
            self.notify(
                "Importing: one moment, it finishes or changes nothing.", severity="warning"
            )
            return
        for worker in self.workers:
            worker.cancel()
        self.notify("Import cancelled: nothing changed.")
        self.dismiss()


# -- export ---------------------------------------------------------------------------------
EXPORT_FORMATS = {
    "json": "strongroom-json: every field, tag and TOTP secret; re-importable exactly",
    "csv": "CSV: for spreadsheets and other managers",
}


def default_export_path(folder: Path, fmt: str) -> Path:
    return folder / f"strongroom-export-{date.today().isoformat()}.{fmt}"


class PlaintextConfirmScreen(ModalScreen[bool]):
    """The one question before passwords leave the vault unencrypted: y writes, n/Esc does not."""

    DEFAULT_CSS = """
    PlaintextConfirmScreen { align: center middle; }
    PlaintextConfirmScreen #dialog { width: 76; height: auto; border: thick $error; background: $surface;
                                     padding: 1 2; }
    """
    BINDINGS = bindings("dialog.yes", "dialog.no")

    def __init__(self, path: Path, replaces: bool) -> None:
        super().__init__()
        self.path = path
        self.replaces = replaces

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("This export is NOT encrypted.\n\n", style="bold red")
        text.append(
            "Every password, one-time password secret and note will be written in plain text to\n\n"
        )
        text.append(f"  {printable(str(self.path))}\n\n", style="bold")
        if self.replaces:
            text.append("It replaces the file already there.\n\n", style="yellow")
        text.append(
            "The file is readable only by you (mode 0600), but anyone who gets a copy can read "
            "everything in it. Delete it when you no longer need it.\n\nWrite it? (y/n)"
        )
        with Vertical(id="dialog"):
            yield Static(text)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ExportScreen(Screen[None]):
    """Format and file; a modal says plainly that it is plaintext before anything is written."""

    DEFAULT_CSS = """
    ExportScreen #export-form { padding: 0 2; height: auto; }
    ExportScreen #export-form Label { margin-top: 1; }
    ExportScreen #export-format { height: auto; }
    ExportScreen #export-status { padding: 0 2; height: auto; margin-top: 1; }
    """
    BINDINGS = scope("export")

    def __init__(self, folder: Path | None = None) -> None:
        super().__init__()
        self.folder = folder or Path.cwd()
        self.format = "json"

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="export-form"):
            yield Static(
                "Export every record to a file, unencrypted: for moving to another manager or "
                "keeping a copy you can read without Strongroom.",
                markup=False,
            )
            yield Label("Format (Enter picks)")
            yield OptionList(
                *(Option(f"{k:<5} {v}", id=k) for k, v in EXPORT_FORMATS.items()),
                id="export-format",
            )
            yield Label("File (tab completes; Enter writes after a confirmation)")
            yield PathInput(str(default_export_path(self.folder, self.format)), id="export-path")
        yield Static("", id="export-status", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Export"
        self.query_one("#export-format", OptionList).focus()

    @on(OptionList.OptionSelected, "#export-format")
    def _format_chosen(self, event: OptionList.OptionSelected) -> None:
        new = event.option.id or "json"
        field = self.query_one("#export-path", PathInput)
        old_suffix = f".{self.format}"
        if field.value.endswith(old_suffix):  # keep the extension in step with the format
            field.value = field.value[: -len(old_suffix)] + f".{new}"
        self.format = new
        field.focus()
        field.cursor_position = len(field.value)

    @on(PathInput.Submitted, "#export-path")
    def _path_chosen(self) -> None:
        from vault.errors import InvalidInputError
        from vault.export import check_target

        raw = self.query_one("#export-path", PathInput).value.strip()
        if not raw:
            self._status("Give a file name to write.", "red")
            return
        try:
            target = check_target(Path(raw))
        except InvalidInputError as exc:
            self._status(f"Cannot export there: {exc}.", "red")
            return

        def write() -> None:
            self._status(f"Writing {target}…")
            self._export(self.format, target)

        def answered(yes: bool | None) -> None:
            if yes:
                self._status("Not exported until the Account Password is typed (Esc: never).")
                strongroom_app(self).after_password("export every record", write)
            else:
                self._status("Not exported: nothing was written.")

        self.app.push_screen(PlaintextConfirmScreen(target, target.exists()), answered)

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#export-status", Static).update(Text(text, style=style))

    @work(doing="Exporting", group="export", exclusive=True, shows_errors=True)
    def _export(self, fmt: str, target: Path) -> ExportOutcome:
        from vault.export import export_vault

        app = strongroom_app(self)
        assert app.vault is not None
        with app.vault.own_connection() as vault:
            return export_vault(vault, fmt, target)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "export":
            return
        if event.state is WorkerState.ERROR:
            exc = event.worker.error
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self._status(f"Not exported: {reason}.", "red")
            self.notify(f"Not exported: {reason}.", severity="error", markup=False)
        elif event.state is WorkerState.SUCCESS:
            outcome = cast("ExportOutcome", event.worker.result)  # what _export returned
            self.notify(outcome.message(), markup=False, timeout=10)
            self.dismiss()
