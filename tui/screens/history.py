"""A record's history (h in the record view).

The kept versions, newest first — when, which device, what changed — and under the list the
chosen version as it was (secrets masked until r); s saves it as a new edit, after a y/n. Read
through `vault.history`, as the CLI does. (The trash is a filter of the record list: d there.)
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from runtime.safe_text import printable
from vault.history import Step
from vault.index import Summary
from vault.templates import template
from vault.words import plural

from ..actions import bindings
from ..app_access import strongroom_app
from ..humantime import ago
from ..widgets.key_footer import KeyFooter
from ..widgets.record_list import Column, ListHeader, RecordList

MASK = "••••••••"
MUTED = Style(dim=True)


class VersionList(RecordList):
    """One row per version: number, when, device, what changed."""

    columns = (
        Column("#", 4, 0, lambda s, now: (s.id.partition(":")[0], Style(bold=True))),
        Column("When", 14, 0, lambda s, now: (ago(s.modified, now), MUTED)),
        Column("Device", 13, 44, lambda s, now: (s.type, Style())),
        Column("Changes", 0, 0, lambda s, now: (s.title, Style())),
    )


@dataclass
class _Chosen:
    step: Step | None = None


def version_text(step: Step, revealed: bool, here: str, restore_key: str, reveal_key: str) -> Text:
    """The chosen version as it was: fields (secrets masked unless `revealed`), tags, notes."""
    rec = step.record
    out = Text()
    who = "this device" if step.device == here else (step.device or "unknown device")
    out.append(f"Version {step.number}", style="bold")
    out.append(f" — {'current, ' if step.current else ''}{who}\n", style="dim")
    out.append(printable(rec.display_title), style="bold")
    out.append("\n")
    tpl = template(rec.type)
    for f in rec.fields:
        shown = f.value if (revealed or not tpl.conceals(f.name, f.kind) or not f.value) else MASK
        out.append(f"  {printable(f.name)}: ", style="dim")
        out.append(printable(shown) + "\n")
    if rec.tags:
        out.append(f"  tags: {printable(', '.join(rec.tags))}\n", style="dim")
    if rec.attachments:  # restoring this version brings these back (their bytes are kept)
        names = ", ".join(printable(a.name) for a in rec.attachments)
        out.append(f"  files: {names}\n", style="dim")
    if rec.notes:
        out.append(printable(rec.notes, multiline=True) + "\n")
    hint = f"{reveal_key} reveals secrets" + ("" if step.current else f" · {restore_key} restores")
    out.append(hint, style="dim")
    return out


class HistoryScreen(Screen[None]):
    """A record's kept versions; the chosen one below; restore one as a new edit."""

    BINDINGS = bindings("history.back", "history.reveal", "history.restore")
    DEFAULT_CSS = """
    HistoryScreen #versions { height: 1fr; min-height: 3; }
    HistoryScreen #version-pane { height: 1fr; padding: 0 1; background: $boost; }
    """

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.steps: list[Step] = []
        self.chosen = _Chosen()
        self.revealed = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="history-title")
        versions = VersionList(id="versions")
        yield ListHeader(versions)
        yield versions
        with VerticalScroll(id="version-pane"):
            yield Static("", id="version")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one(VersionList).focus()

    def load(self) -> None:
        vault = strongroom_app(self).vault
        assert vault is not None
        self.steps = list(reversed(vault.history(self.record_id)))
        current = self.steps[0].record
        self.query_one("#history-title", Static).update(
            Text.assemble(
                (printable(current.display_title), "bold"),
                (f" — {plural('version', len(self.steps))}, newest first", "dim"),
            )
        )
        rows = [
            Summary(
                f"{s.number}:{s.vid}",
                "; ".join(s.changes),
                "this device" if s.device == vault.device else s.device,
                None,
                None,
                (),
                False,
                s.modified,
                False,
            )
            for s in self.steps
        ]
        self.query_one(VersionList).set_rows(rows)
        self.show(self.steps[0] if self.steps else None)

    def show(self, step: Step | None) -> None:
        self.chosen.step = step
        if step is None:
            self.query_one("#version", Static).update("")
            return
        app = strongroom_app(self)
        assert app.vault is not None
        self.query_one("#version", Static).update(
            version_text(
                step,
                self.revealed,
                app.vault.device,
                app.key_of("history.restore"),
                app.key_of("history.reveal"),
            )
        )

    @on(RecordList.Moved)
    def _moved(self, event: RecordList.Moved) -> None:
        vid = event.summary.id.partition(":")[2] if event.summary else None
        self.show(next((s for s in self.steps if s.vid == vid), None))

    @on(RecordList.Opened)
    def _opened(self, event: RecordList.Opened) -> None:
        self.action_restore()

    def action_reveal(self) -> None:
        """Hide at once; show after the Account Password again when it was typed long ago."""
        if self.revealed:
            self.revealed = False
            self.show(self.chosen.step)
            return

        def show() -> None:
            self.revealed = True
            self.show(self.chosen.step)

        strongroom_app(self).after_password("show the secrets", show)

    def action_restore(self) -> None:
        from .records import ConfirmScreen

        step = self.chosen.step
        if step is None:
            return
        if step.current:
            self.notify("This is the current version.", severity="warning")
            return

        def done(yes: bool | None) -> None:
            if not yes:
                return
            app = strongroom_app(self)
            assert app.vault is not None
            app.vault.restore_version(self.record_id, step.vid)
            self.notify(f"Version {step.number} restored as a new edit.")
            self.revealed = False
            self.load()

        self.app.push_screen(
            ConfirmScreen(f"Restore version {step.number} as a new edit? (y/n)"), done
        )
