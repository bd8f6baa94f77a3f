"""The record list, a record's view and its edit form, delete confirmation, Security Center, help."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static, TextArea
from textual.worker import Worker, WorkerState

from vault.index import Summary
from vault.records import Field, Record, iso, new_record
from vault.templates import TEMPLATES, FieldKind, template

from ..search import SearchIndex
from ..widgets.record_list import RecordList
from ..widgets.safe_text import printable

if TYPE_CHECKING:
    from ..app import StrongroomApp

MASK = "••••••••••"


def filter_rows(rows: list[Summary], query: str, *, favorites: bool = False) -> list[Summary]:
    """One-off search (Security Center, tests); the list screen keeps a SearchIndex instead."""
    return SearchIndex(rows).search(query, favorites=favorites)


class RecordListScreen(Screen[None]):
    BINDINGS = [
        Binding("slash", "search", "Search"),
        Binding("n", "new", "New"),
        Binding("f", "favorites", "Favourites"),
        Binding("s", "security", "Security Center"),
        Binding("i", "app.import_records", "Import"),
        Binding("ctrl+l", "app.lock", "Lock"),
        Binding("question_mark", "app.help", "Help"),
        Binding("escape", "clear_search", "Clear", show=False),
    ]

    def __init__(self, index: SearchIndex | None = None) -> None:
        """`index`: built off the UI thread by the unlock worker, so the first paint is immediate."""
        super().__init__()
        self.favorites_only = False
        self.all_rows: list[Summary] = list(index.rows) if index else []
        self.index = index or SearchIndex([])
        self._prebuilt = index is not None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Search (/)", id="search")
        yield Static("", id="counts")
        yield RecordList(id="records")
        yield Static("", id="empty")
        yield Footer()

    def on_mount(self) -> None:
        if self._prebuilt:
            self._prebuilt = False
            self._apply(self.index.rows)
        else:
            self.reload()
        self.query_one(RecordList).focus()

    def on_screen_resume(self) -> None:
        if not self._prebuilt:
            self.reload()

    def reload(self) -> None:
        app: StrongroomApp = self.app  # type: ignore[assignment]
        if app.vault is None or not app.vault.unlocked:
            return
        self.all_rows = app.vault.summaries()
        self.index = SearchIndex(self.all_rows)
        self._apply(self.index.search(self.query_one("#search", Input).value, favorites=self.favorites_only))

    def _apply(self, rows: list[Summary]) -> None:
        self.query_one(RecordList).set_rows(rows)
        total = len(self.all_rows)
        fav = " · favourites" if self.favorites_only else ""
        self.query_one("#counts", Static).update(f" {len(rows):,} of {total:,} records{fav}")
        empty = self.query_one("#empty", Static)
        if not total:
            empty.update("No records yet. Press n to add your first one.")
        elif not rows:
            empty.update("Nothing matches your search. Esc clears it.")
        else:
            empty.update("")

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        self._filter(event.value, self.favorites_only)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _filter(self, query: str, favorites: bool) -> list[Summary]:
        return self.index.search(query, favorites=favorites)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "search" and event.state is WorkerState.SUCCESS:
            rows: Any = event.worker.result
            self._apply(rows)

    @on(Input.Submitted, "#search")
    def _to_list(self) -> None:
        self.query_one(RecordList).focus()

    @on(RecordList.Opened)
    def _open(self, event: RecordList.Opened) -> None:
        self.app.push_screen(RecordDetailScreen(event.record_id))

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        self.query_one("#search", Input).value = ""
        self.query_one(RecordList).focus()

    def action_favorites(self) -> None:
        self.favorites_only = not self.favorites_only
        self._filter(self.query_one("#search", Input).value, self.favorites_only)

    def action_new(self) -> None:
        self.app.push_screen(EditRecordScreen(None))

    def action_security(self) -> None:
        self.app.push_screen(SecurityCenterScreen())


class RecordDetailScreen(Screen[None]):
    """One record; secrets masked until revealed (r); copy with c (password) / u (username)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "reveal", "Reveal"),
        Binding("c", "copy('password')", "Copy password"),
        Binding("u", "copy('username')", "Copy username"),
        Binding("o", "copy_totp", "Copy code"),
        Binding("e", "edit", "Edit"),
        Binding("asterisk", "favorite", "Favourite"),
        Binding("d", "delete", "Delete"),
        Binding("ctrl+l", "app.lock", "Lock"),
    ]

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.revealed = False
        self.failed = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("", id="detail")
            yield Static("", id="totp")
        yield Footer()

    @property
    def record(self) -> Record:
        app: StrongroomApp = self.app  # type: ignore[assignment]
        assert app.vault is not None
        return app.vault.record(self.record_id)

    def _shown(self) -> bool:
        """Render; a damaged record (listed as <decryption error>) is explained and the screen closes."""
        from vault.errors import NotFoundError, VaultError

        if self.failed:
            return False
        try:
            self.render_record()
        except NotFoundError:  # deleted meanwhile (here, or by a sync): keep what is shown
            return False
        except VaultError as exc:
            self.failed = True
            self.notify(f"This record cannot be shown: {exc}", severity="error", markup=False)
            self.app.pop_screen()
            return False
        return True

    def on_mount(self) -> None:
        if not self._shown():
            return
        if any(f.kind is FieldKind.TOTP and f.value for f in self.record.fields):
            self.set_interval(1.0, self.render_totp)
            self.render_totp()

    def on_screen_resume(self) -> None:
        self._shown()

    def render_record(self) -> None:
        """Built as Text, never as markup: record data may hold '[' (a password) or escapes."""
        app: StrongroomApp = self.app  # type: ignore[assignment]
        assert app.vault is not None
        detail = app.vault.detail(self.record_id)
        rec = detail.record
        tpl = template(rec.type)
        out = Text()
        out.append(printable(rec.display_title), style="bold")
        out.append(f"{'  ★' if rec.favorite else ''}   ")
        out.append(tpl.label, style="dim")
        out.append("\n\n")
        for f in rec.fields:
            if f.kind is FieldKind.TOTP:
                continue
            spec = tpl.spec(f.name)
            shown = f.value if (self.revealed or not f.kind.concealed) else MASK
            out.append(f"{printable(spec.label if spec else f.name):>18}: {printable(shown)}\n")
        if rec.tags:
            out.append(f"{'Tags':>18}: {printable(', '.join(rec.tags))}\n")
        if rec.notes:
            out.append(f"\n{printable(rec.notes, multiline=True)}\n")
        out.append(f"\nCreated {iso(rec.created)} · modified {iso(rec.modified)}", style="dim")
        if detail.conflict:
            out.append(f"\nIn conflict: {len(detail.others)} other version(s) — edit to resolve; "
                       "their values are kept in history.", style="yellow")
        if rec.history:
            out.append("\n\n")
            out.append("History of changed secrets", style="bold")
            for h in rec.history[-5:]:
                vals = ", ".join(f"{f.name}={f.value if self.revealed else MASK}" for f in h.fields)
                out.append(f"\n  {iso(h.modified)}  {printable(vals)}")
        self.query_one("#detail", Static).update(out)

    def render_totp(self) -> None:
        from vault.totp import parse_totp, seconds_left, totp_code

        field = next((f for f in self.record.fields if f.kind is FieldKind.TOTP and f.value), None)
        if field is None:
            return
        spec = parse_totp(field.value)
        now = time.time()
        self.query_one("#totp", Static).update(
            f"\n{'One-time code':>18}: [b]{totp_code(spec, now)}[/b]  ({seconds_left(spec, now)} s)")

    def action_reveal(self) -> None:
        self.revealed = not self.revealed
        self.render_record()

    def action_copy(self, name: str) -> None:
        value = self.record.value(name) if name != "username" else self.record.username
        if not value:
            self.notify(f"This record has no {name}.", severity="warning")
            return
        app: StrongroomApp = self.app  # type: ignore[assignment]
        app.copy_secret(value, name)

    def action_copy_totp(self) -> None:
        from vault.totp import parse_totp, totp_code

        field = next((f for f in self.record.fields if f.kind is FieldKind.TOTP and f.value), None)
        if field is None:
            self.notify("This record has no one-time password.", severity="warning")
            return
        app: StrongroomApp = self.app  # type: ignore[assignment]
        app.copy_secret(totp_code(parse_totp(field.value), time.time()), "one-time code")

    def action_edit(self) -> None:
        self.app.push_screen(EditRecordScreen(self.record_id))

    def action_favorite(self) -> None:
        app: StrongroomApp = self.app  # type: ignore[assignment]
        assert app.vault is not None
        rec = self.record
        app.vault.update(replace(rec, favorite=not rec.favorite))
        self.render_record()

    def action_delete(self) -> None:
        def done(confirmed: bool | None) -> None:
            if confirmed:
                app: StrongroomApp = self.app  # type: ignore[assignment]
                assert app.vault is not None
                app.vault.delete(self.record_id)
                self.notify("Record deleted.")
                self.app.pop_screen()

        self.app.push_screen(ConfirmScreen(f"Delete “{printable(self.record.display_title)}”? (y/n)"), done)


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, markup=False)  # it quotes record titles

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def extra_fields(rec: Record) -> list[Field]:
    """The record's fields that its template's form has no row for (custom or repeated ones)."""
    names = {spec.name.lower() for spec in template(rec.type).fields}
    seen: set[str] = set()
    extras = []
    for f in rec.fields:
        low = f.name.lower()  # Record.value() matches names case-insensitively
        if low in names and low not in seen:
            seen.add(low)
        else:
            extras.append(f)
    return extras


class EditRecordScreen(Screen[None]):
    """Template-aware form. ctrl+s saves, ctrl+g puts a new generated password in the password field."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Cancel"), Binding("ctrl+s", "save", "Save"),
                Binding("ctrl+g", "generate", "Generate password")]

    def __init__(self, record_id: str | None, type_key: str = "login") -> None:
        super().__init__()
        self.record_id = record_id
        self.type_key = type_key

    def _record(self) -> Record | None:
        app: StrongroomApp = self.app  # type: ignore[assignment]
        return app.vault.record(self.record_id) if self.record_id and app.vault else None

    def compose(self) -> ComposeResult:
        rec = self._record()
        tkey = rec.type if rec else self.type_key
        tpl = template(tkey)
        yield Header()
        with VerticalScroll(id="form"):
            if rec is None:
                yield Label("Type (" + ", ".join(TEMPLATES) + ")")
                yield Input(value=tkey, id="type")
            yield Label("Title")
            yield Input(value=rec.title if rec else "", id="title")
            for spec in tpl.fields:
                yield Label(spec.label)
                yield Input(value=(rec.value(spec.name) or "") if rec else "", id=f"f-{spec.name}",
                            password=spec.kind.concealed)
            for i, extra in enumerate(extra_fields(rec) if rec else []):
                yield Label(printable(extra.name), markup=False)
                yield Input(value=extra.value, id=f"x-{i}", password=extra.kind.concealed)
            yield Label("Tags (comma separated)")
            yield Input(value=", ".join(rec.tags) if rec else "", id="tags")
            yield Label("Notes")
            yield TextArea(rec.notes if rec else "", id="notes")
            yield Static("", id="message")
            with Horizontal():
                yield Button("Save (ctrl+s)", id="save", variant="primary")
        yield Footer()

    @on(Input.Submitted, "#type")
    def _retype(self, event: Input.Submitted) -> None:
        try:
            key = template(event.value).key
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.query_one("#message", Static).update(Text(str(exc), style="red"))
            return
        self.app.switch_screen(EditRecordScreen(None, key))

    def action_generate(self) -> None:
        from vault.generator import generate_password

        try:
            field = self.query_one("#f-password", Input)
        except Exception:  # noqa: BLE001 - a template without a password field
            self.notify("This template has no password field.", severity="warning")
            return
        field.value = generate_password()
        self.notify("New password generated (press ctrl+s to save).")

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        app: StrongroomApp = self.app  # type: ignore[assignment]
        assert app.vault is not None
        rec = self._record()
        tpl = template(rec.type if rec else self.type_key)
        title = self.query_one("#title", Input).value.strip()
        if not title:
            self.query_one("#message", Static).update("[red]Give the record a title.[/red]")
            return
        values = {s.name: self.query_one(f"#f-{s.name}", Input).value for s in tpl.fields}
        totp = values.get("totp")
        if totp:
            from vault.totp import parse_totp

            try:
                parse_totp(totp)
            except Exception as exc:  # noqa: BLE001 - shown to the user
                self.query_one("#message", Static).update(Text(str(exc), style="red"))
                return
        tags = tuple(t.strip() for t in self.query_one("#tags", Input).value.split(",") if t.strip())
        notes = self.query_one("#notes", TextArea).text
        fields = tuple(Field(s.name, s.kind, values[s.name]) for s in tpl.fields if values[s.name])
        if rec is not None:  # fields beyond the template (imports, older versions) are kept
            extras = (replace(f, value=self.query_one(f"#x-{i}", Input).value) for i, f in enumerate(extra_fields(rec)))
            fields += tuple(f for f in extras if f.value)
        if rec is None:
            new = new_record(tpl.key, title, notes=notes, tags=tags)
            app.vault.add(replace(new, fields=fields))
            self.notify(f"Added “{printable(title)}”.", markup=False)
        else:
            app.vault.update(replace(rec, title=title, fields=fields, tags=tags, notes=notes))
            self.notify(f"Saved “{printable(title)}”.", markup=False)
        self.app.pop_screen()


class SecurityCenterScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("ctrl+l", "app.lock", "Lock")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Checking passwords…", id="summary")
        yield RecordList(id="findings")
        yield Footer()

    def on_mount(self) -> None:
        self._audit()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _audit(self) -> Any:
        from vault.audit import audit

        app: StrongroomApp = self.app  # type: ignore[assignment]
        assert app.vault is not None
        records = [app.vault.record(s.id) for s in app.vault.summaries() if not s.error]
        return audit(records, time.time())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.SUCCESS:
            return
        report: Any = event.worker.result
        self.query_one("#summary", Static).update(
            f"[b]Security score {report.score}/100[/b] — {len(report.weak)} weak, "
            f"{sum(len(g) for g in report.reused)} reused, {len(report.old)} old. Enter opens a record.")
        rows = []
        for kind, findings in (("weak", report.weak), ("reused", [f for g in report.reused for f in g]),
                               ("old", report.old)):
            for f in findings:
                rows.append(Summary(f.record_id, f.title, kind, f.detail, None, (), False, 0.0, False))
        lst = self.query_one("#findings", RecordList)
        lst.set_rows(rows)
        lst.focus()

    @on(RecordList.Opened)
    def _open(self, event: RecordList.Opened) -> None:
        self.app.push_screen(RecordDetailScreen(event.record_id))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(HELP)


HELP = """[b]Strongroom keys[/b]

[b]Everywhere[/b]   ctrl+p command palette · ctrl+l lock · ? help · ctrl+q quit
[b]List[/b]         / search · ↑↓ PgUp PgDn Home End move · Enter open · n new · f favourites · s Security Center
[b]Record[/b]       r reveal · c copy password · u copy username · o copy one-time code · e edit · * favourite · d delete · Esc back
[b]Edit[/b]         ctrl+s save · ctrl+g generate a password · Esc cancel
[b]Kit[/b]          y confirm it is stored safely

Copies clear themselves from the clipboard after the configured seconds.
The app locks itself after the configured idle minutes."""
