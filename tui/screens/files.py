"""A record's files (f in the record view): the list, a to add one from a path, s to save the
chosen one to a path, o to open it with the system viewer (runtime/viewer.py), d to remove it
(after y/n). The work runs in a thread worker on its own
connection (a 50 MB file never freezes the screen); the same vault/attachstore.py as the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from runtime.safe_text import printable

from ..actions import bindings
from ..app_access import strongroom_app
from ..widgets.key_footer import KeyFooter
from ..widgets.path_input import PathInput
from ..workers import work


def _size(n: int) -> str:
    for unit, step in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= step:
            return f"{n / step:.1f} {unit}"
    return f"{n} B"


class PathPrompt(ModalScreen[str | None]):
    """One path, typed with completion; Enter answers, Esc cancels."""

    BINDINGS = bindings("files.cancel")

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question, self.value = question, value

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, markup=False)
            yield PathInput(self.value, id="path")

    def on_mount(self) -> None:
        field = self.query_one("#path", PathInput)
        field.focus()
        field.cursor_position = len(field.value)

    @on(PathInput.Submitted, "#path")
    def _answered(self) -> None:
        self.dismiss(self.query_one("#path", PathInput).value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class FilesScreen(Screen[None]):
    BINDINGS = bindings("files.back", "files.add", "files.save", "files.open", "files.remove")

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.files: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="files-title")
        yield OptionList(id="files")
        yield Static("", id="files-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Files"
        self.refresh_files()
        self.query_one("#files", OptionList).focus()

    def refresh_files(self) -> None:
        from vault import attachstore

        app = strongroom_app(self)
        assert app.vault is not None
        rec = app.vault.record(self.record_id)
        self.files = list(rec.attachments)
        self.query_one("#files-title", Static).update(
            Text(f"Files of {printable(rec.display_title)}", style="bold")
        )
        options = self.query_one("#files", OptionList)
        options.clear_options()
        for a in self.files:
            here = "" if attachstore.present(app.vault, a) else "  (not on this device yet)"
            options.add_option(Option(f"{printable(a.name)}   {_size(a.size)}{here}", id=a.id))
        if self.files:
            options.highlighted = 0
        else:
            self._status(f"No files yet: {app.key_of('files.add')} adds one.")

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#files-status", Static).update(Text(text, style=style))

    def _chosen(self) -> Any | None:
        idx = self.query_one("#files", OptionList).highlighted
        if idx is None or idx >= len(self.files):
            self.notify("Choose a file first.", severity="warning")
            return None
        return self.files[idx]

    # -- add -------------------------------------------------------------------------------
    def action_add(self) -> None:
        def answered(raw: str | None) -> None:
            if raw:
                self._status(f"Adding {raw}…")
                self._add(Path(raw).expanduser())

        self.app.push_screen(PathPrompt("File to add (tab completes):", "~/"), answered)

    @work(doing="Adding the file", group="files", exclusive=True, shows_errors=True)
    def _add(self, path: Path) -> str:
        from sync.blobsync import add_file

        app = strongroom_app(self)
        assert app.vault is not None
        with app.vault.own_connection() as vault:
            return f"Added {add_file(vault, self.record_id, path).name}."

    # -- save ------------------------------------------------------------------------------
    def action_save(self) -> None:
        att = self._chosen()
        if att is None:
            return
        folder = Path.home() / "Downloads"
        default = (folder if folder.is_dir() else Path.cwd()) / att.name

        def answered(raw: str | None) -> None:
            if not raw:
                return
            target = Path(raw).expanduser()
            if target.is_dir():
                target = target / att.name
            if target.exists():
                self._status(f"{target} exists: choose another name.", "red")
                return
            self._status(f"Saving to {target}…")
            self._save(att, target)

        self.app.push_screen(PathPrompt(f"Save {att.name} to:", str(default)), answered)

    @work(doing="Saving the file", group="files", exclusive=True, shows_errors=True)
    def _save(self, att: Any, target: Path) -> str:
        from sync.blobsync import fetch_if_missing
        from vault import attachstore

        app = strongroom_app(self)
        assert app.vault is not None
        with app.vault.own_connection() as vault:
            fetch_if_missing(vault, att)
            attachstore.save_to(vault, att, target)
        return f"Saved {att.name} to {target}."

    # -- open ------------------------------------------------------------------------------
    def action_open(self) -> None:
        from runtime.viewer import NoViewerError, opener

        att = self._chosen()
        if att is None:
            return
        try:
            opener()
        except NoViewerError as exc:
            save = strongroom_app(self).key_of("files.save")
            self._status(
                f"Cannot open {att.name}: {exc}. {save} saves it to a path instead.", "red"
            )
            return
        self._status(f"Opening {att.name}…")
        self._open(att)

    @work(doing="Opening the file", group="files", exclusive=True, shows_errors=True)
    def _open(self, att: Any) -> str:
        from runtime.viewer import NoViewerError, show
        from sync.blobsync import fetch_if_missing

        app = strongroom_app(self)
        assert app.vault is not None
        with app.vault.own_connection() as vault:
            fetch_if_missing(vault, att)
            copy = app.opened_copies.write(vault, att)
        try:
            show(copy)
        except NoViewerError:
            copy.unlink(missing_ok=True)  # no viewer took it: no plaintext left waiting
            raise
        return (
            f"Opened {att.name} with the system viewer; its temporary copy is deleted when the "
            "app locks or quits."
        )

    # -- remove ----------------------------------------------------------------------------
    def action_remove(self) -> None:
        from .records import ConfirmScreen

        att = self._chosen()
        if att is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._status(f"Removing {att.name}…")
                self._remove(att)

        self.app.push_screen(
            ConfirmScreen(f"Remove “{printable(att.name)}” from this record? (y/n)"), confirmed
        )

    @work(doing="Removing the file", group="files", exclusive=True, shows_errors=True)
    def _remove(self, att: Any) -> str:
        """Off the screen's thread, as adding and saving are: the edit, then the collection of
        bytes nothing names any more (vault/attachstore.py), which reads the whole store."""
        from vault import attachstore

        app = strongroom_app(self)
        assert app.vault is not None
        with app.vault.own_connection() as vault:
            attachstore.remove(vault, self.record_id, att.id)
        return f"Removed {att.name}."

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "files":
            return
        if event.state is WorkerState.ERROR:
            self._status(f"Failed: {event.worker.error}", "red")
        elif event.state is WorkerState.SUCCESS:
            self.refresh_files()
            self._status(str(event.worker.result))
