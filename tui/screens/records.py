"""The record list, a record's view and its edit form, delete confirmation, Security Center."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from rich.cells import set_cell_size
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Header, Input, Label, Static, TextArea
from textual.worker import Worker, WorkerState, get_current_worker

from runtime.safe_text import printable
from vault.errors import InvalidInputError
from vault.fieldcheck import checked_value
from vault.history import past_secrets
from vault.index import Head, Summary
from vault.records import Field, Record, new_record
from vault.templates import TEMPLATES, FieldKind, Template, template
from vault.words import plural

from ..actions import bindings
from ..app_access import strongroom_app
from ..keymap import default_key
from ..messages import AuditReady, RowsLoaded, SearchResults
from ..search import Filters, SearchIndex, next_sort, type_label
from ..typeahead import TypedEvent
from ..widgets.key_footer import KeyFooter
from ..widgets.record_list import (
    RECORD_COLUMNS,
    TRASH_COLUMNS,
    Column,
    ListHeader,
    RecordList,
)
from ..widgets.secret_input import SecretInput
from ..workers import work
from .customfields import CustomFields, field_input
from .filters import ListCommands, PickScreen, RecordCommands
from .sshkeyform import KeyInput

if TYPE_CHECKING:
    from vault.breaches import BreachFile
    from vault.sshkeys import SshKey
    from vault.vault import Detail, Vault


MASK = "••••••••••"


def empty_message(
    query: str, filters: Filters, total: int, key: Callable[[str], str] = default_key
) -> str:
    """What an empty list says, naming what hides the records and the key that shows them again
    (`key`: an action id's key as the user's keymap has it)."""
    if filters.trash:
        return empty_trash_message(query, filters, total, key)
    if not total:
        return f"No records yet. Press {key('records.new')} to add your first one."
    q = query.strip()
    if not q and filters == Filters(favorites=True, sort=filters.sort):
        return (
            f"No favourites yet: press {key('record.favorite')} on a record to make it one. "
            f"{key('records.favorites')} shows every record."
        )
    what = f"{type_label(filters.type)} records" if filters.type else "records"
    if filters.tag is not None:
        what += f" tagged “{printable(filters.tag)}”"
    if filters.favorites:
        what += " among your favourites"
    hints = ([f"{key('records.clear_search')} clears the search"] if q else []) + (
        [f"{key('records.clear_filters')} clears the filters"] if filters.narrowing else []
    )
    text = f"No {what} match “{printable(q)}”." if q else f"No {what}."
    return f"{text} {' · '.join(hints)}."


def empty_trash_message(
    query: str, filters: Filters, total: int, key: Callable[[str], str] = default_key
) -> str:
    """What the list's trash filter says when it shows nothing."""
    back = f"{key('trash.leave')} shows the records"
    if not total:
        return f"The trash is empty. {back}."
    q = query.strip()
    what = f"{type_label(filters.type)} records" if filters.type else "records"
    if filters.tag is not None:
        what += f" tagged “{printable(filters.tag)}”"
    if filters.favorites:
        what += " among your favourites"
    text = f"No {what} in the trash match “{printable(q)}”." if q else f"No {what} in the trash."
    hints = [f"{key('records.clear_search')} clears the search"] if q else []
    return f"{text} {' · '.join([*hints, back])}."


def trash_note(total: int, days: float, key: Callable[[str], str] = default_key) -> str:
    """Under the list's trash filter: the keys that act on it and how long records stay."""
    keep = (
        f"purged {days:g} day{'' if days == 1 else 's'} after deletion, on every device"
        if days
        else "kept until the trash is emptied"
    )
    if not total:
        return f"Deleted records are {keep}."
    return (
        f"{key('list.open')} or {key('trash.restore')} restores the chosen record with its "
        f"history and files, {key('trash.empty')} purges them all now; records here are {keep}."
    )


class ListReader:
    """The record list's own SQLite connection for its loading workers, kept while the list
    lives: the summary index on it stays warm, so a reload after an edit decrypts only what
    changed (a new connection per load re-reads the whole index, ≈ 150 ms at 10k records).
    A connection belongs to one thread at a time: the lock sees to it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mine: Vault | None = None
        self._of: Vault | None = None  # the app's vault it was made from

    def rows(self, vault: Vault) -> tuple[list[Summary], list[Summary]]:
        """Every row of `vault`, read on the reader's connection (from a worker thread): the
        records, and the records in the trash."""
        with self._lock:
            if self._mine is None or self._of is not vault:
                self._close()
                self._mine, self._of = vault.another_connection(), vault
            self._mine.follow_key_change()  # a device removal moved this device's keys
            return self._mine.summaries(), self._mine.trashed()

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._mine is not None:
            self._mine.close()
        self._mine = self._of = None


#: From this width the record list and the chosen record stand side by side.
SIDE_BY_SIDE = 120


class RecordListScreen(Screen[None]):
    """The virtual record list: search, filters (type, tag, favourites), sort, counts; and the
    trash, as a filter of the same list (d): the records deleted, when, restored with Enter.

    It paints the first screenful from the vault's small summary head, then loads every row and
    builds the search indexes (the records', the trash's) in a worker; searches run in a worker
    too, so typing never waits.
    """

    COMMANDS = {ListCommands, RecordCommands}
    #: From 120 columns the chosen record shows beside the list, in bordered panels.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (SIDE_BY_SIDE, "-wide")]
    DEFAULT_CSS = """
    RecordListScreen #panes { height: 1fr; }
    RecordListScreen #list-pane { height: 1fr; }
    RecordListScreen #record-pane { display: none; }
    RecordListScreen.-wide #list-pane, RecordListScreen.-wide #record-pane {
        border: round $panel-lighten-2; border-title-color: $text-muted; height: 1fr;
    }
    RecordListScreen.-wide #list-pane { width: 3fr; }
    RecordListScreen.-wide #record-pane { display: block; width: 2fr; padding: 0 1; }
    RecordListScreen.-wide #list-pane:focus-within, RecordListScreen.-wide #record-pane:focus {
        border: round $accent; border-title-color: $accent; border-title-style: bold;
    }
    RecordListScreen #trash-note { display: none; height: auto; padding: 0 1; color: $text-muted; }
    RecordListScreen.-trash #trash-note { display: block; }
    """
    BINDINGS = bindings(
        # the trash filter's keys, first in its footer (each answers only there)
        "trash.restore",
        "trash.empty",
        "trash.leave",
        "records.search",
        "records.new",
        "records.favorites",
        "records.type",
        "records.tag",
        "records.sort",
        "records.clear_filters",
        "records.security",
        "records.trash",
        "records.import",
        "records.sync_now",
        "records.sync",
        "records.settings",
        "records.clear_search",
    )

    def __init__(self, head: Head | None = None) -> None:
        """`head`: the first rows, read by the unlock worker, so the first paint needs no full load."""
        super().__init__()
        self.head = head
        self.index: SearchIndex | None = None
        self.trash_index: SearchIndex | None = None  # the records in the trash
        self.filters = Filters()
        self.before_trash = Filters()  # the filters d in the trash goes back to
        self.query_text = ""
        self.results_for: tuple[str, Filters] | None = None  # what the list shows now
        self._shown_once = False
        self.empty_text = ""
        self.reader = ListReader()
        self.rows_failed = False  # the last load or search failed: keys no longer wait for it

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Search (/)", id="search")
        yield Static("", id="counts")
        with Horizontal(id="panes"):
            with Vertical(id="list-pane") as pane:
                pane.border_title = "Records"
                records = RecordList(id="records")
                yield ListHeader(records, id="records-header")
                yield records
                yield Static("", id="empty")
                yield Static("", id="trash-note")
            with VerticalScroll(id="record-pane") as side:
                side.border_title = "Record"
                yield Static("", id="preview")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.head is not None:
            self.query_one(RecordList).set_rows(self.head.rows)
            self.results_for = ("", Filters())
        self._show_loading()
        self.query_one(RecordList).focus()
        self.call_after_refresh(
            self.reload
        )  # the first screenful is on screen before the full load starts

    def on_unmount(self) -> None:
        self.reader.close()  # locked or gone: its keys go too

    def key_waits(self, event: TypedEvent) -> bool:
        """Keys that act on the rows wait for the rows of what was typed (the search, a
        filter): Enter typed right after a search opens its first match, not the row shown
        before the search ran. Text typed into the search does not wait."""
        if self.results_for == (self.query_text, self.filters) or self.rows_failed:
            return False
        typing = isinstance(event, events.Paste) or event.is_printable or event.key == "backspace"
        return not (typing and self.focused is self.query_one("#search", Input))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group in ("load", "search") and event.state is WorkerState.ERROR:
            self.rows_failed = True
            strongroom_app(self).type_ahead.resume()
        if event.worker.group == "empty-trash" and event.state is WorkerState.SUCCESS:
            gone = int(event.worker.result or 0)
            self.notify(f"Purged {plural('record', gone)} from the trash, on every device.")
            self.reload()

    @work(doing="Emptying the trash", group="empty-trash", exclusive=True, shows_errors=True)
    def _empty_trash(self) -> int:
        """The purge off the screen's thread: a thousand records and their files' collection
        take seconds, and a vault busy in another process is said, not a crash."""
        app = strongroom_app(self)
        assert app.vault is not None
        with app.vault.own_connection() as vault:
            return len(vault.empty_trash())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The trash filter's keys (restore, empty, back to the records) answer only there;
        d shows the trash from the records and the records from the trash."""
        if action in ("restore", "empty", "leave_trash"):
            return self.filters.trash
        if action == "trash":
            return not self.filters.trash
        return True

    def footer_leaves_out(self) -> tuple[str, ...]:
        """In the trash the footer does not offer New (n says why) nor Favourites."""
        return ("new", "favorites") if self.filters.trash else ()

    def on_screen_resume(self) -> None:
        if self._shown_once:  # back from a record or a dialog: show what changed
            self.reload()
        self._shown_once = True

    def type_name(self, key: str) -> str:
        return type_label(key)

    # -- loading ----------------------------------------------------------------------------
    def reload(self) -> None:
        """Read every row again (after an edit or a sync), off the UI thread; the trash filter
        first purges what has been there past the retention, as the trash always did."""
        app = strongroom_app(self)
        if app.vault is not None and app.vault.unlocked:
            if self.filters.trash:
                app.vault.purge_expired()
            self._load(app.vault)

    @work(doing="Loading the records", group="load", exclusive=True)
    def _load(self, vault: Vault) -> None:
        live, trashed = self.reader.rows(vault)
        self.post_message(RowsLoaded(SearchIndex(live), SearchIndex(trashed)))

    @on(RowsLoaded)
    def _loaded(self, event: RowsLoaded) -> None:
        self.index = event.index
        self.trash_index = event.trash
        self._refresh()

    def index_of(self, filters: Filters) -> SearchIndex | None:
        """The index these filters search: the trash's or the records'."""
        return self.trash_index if filters.trash else self.index

    def _show_loading(self) -> None:
        total = self.head.total if self.head else None
        self.query_one("#counts", Static).update(
            f" {plural('record', total)} · loading…" if total is not None else " Loading records…"
        )

    # -- searching and filtering --------------------------------------------------------------
    def _refresh(self) -> None:
        index = self.index_of(self.filters)
        if index is not None:
            self.rows_failed = False
            self._search(index, self.query_text, self.filters)

    @work(doing="Searching", group="search", exclusive=True)
    def _search(self, index: SearchIndex, query: str, filters: Filters) -> None:
        worker = get_current_worker()
        key = (index, query, filters)
        first = index.matches(query, filters)
        if worker.is_cancelled:
            return
        results = SearchResults(key, first, None)
        self.post_message(results)
        results.drawn.wait(
            0.5
        )  # the fuzzy step competes for the GIL: let the plain matches show first
        similar = index.fuzzy(query, filters, first, stop=lambda: worker.is_cancelled)
        if similar and not worker.is_cancelled:
            self.post_message(SearchResults(key, first + similar, len(first)))

    @on(SearchResults)
    def _results(self, event: SearchResults) -> None:
        if event.key != (self.index_of(self.filters), self.query_text, self.filters):
            event.drawn.set()
            return  # the query or the filters changed meanwhile
        self.call_after_refresh(event.drawn.set)
        lst = self.query_one(RecordList)
        lst.show_columns(TRASH_COLUMNS if self.filters.trash else RECORD_COLUMNS)
        current = lst.current
        same = self.results_for == (self.query_text, self.filters)
        lst.set_rows(event.rows, similar_from=event.similar_from)
        if not same:
            lst.cursor = 0
        elif current is not None and (lst.current is None or lst.current.id != current.id):
            lst.cursor = next(
                (i for i, r in enumerate(event.rows) if r.id == current.id), lst.cursor
            )
        self.results_for = (self.query_text, self.filters)
        self._show_counts(event.rows, event.similar_from)
        strongroom_app(self).type_ahead.resume()  # keys typed ahead act on these rows

    def _show_counts(self, rows: list[Summary], similar_from: int | None) -> None:
        index = self.index_of(self.filters)
        assert index is not None
        total = len(index)
        similar = f" ({len(rows) - similar_from:,} similar)" if similar_from is not None else ""
        shown = f"{len(rows):,} of {plural('record', total)}{similar}"
        if self.filters.trash:  # "Trash — 3 records", "Trash — 1 of 3 records · Login"
            whole = not self.query_text.strip() and not self.filters.narrowing
            shown = f"Trash — {plural('record', total) if whole else shown}"
        what = " · ".join(self.filters.parts())
        self.query_one("#counts", Static).update(  # one line, always: no layout pass per keystroke
            Text(f" {shown}" + (f" · {what}" if what else "")),
            layout=False,
        )
        app = strongroom_app(self)
        key = app.key_of
        message = empty_message(self.query_text, self.filters, total, key) if not rows else ""
        if message != self.empty_text:
            self.empty_text = message
            self.query_one("#empty", Static).update(Text(message))
        if self.filters.trash and app.vault is not None:
            note = trash_note(total, app.vault.retention()[2], key)
            self.query_one("#trash-note", Static).update(Text(note))

    @on(Input.Changed, "#search")
    def _typed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._refresh()

    def _set_filters(self, filters: Filters) -> None:
        trash = filters.trash != self.filters.trash
        self.filters = filters
        if trash:
            self._show_where()
        self._refresh()

    def _show_where(self) -> None:
        """The records or the trash: the pane's title, the search's placeholder, the note under
        the list, the footer's keys (the rows and their columns follow with the results)."""
        trash = self.filters.trash
        self.set_class(trash, "-trash")
        self.query_one("#list-pane").border_title = "Trash" if trash else "Records"
        search = self.query_one("#search", Input)
        search.placeholder = "Search the trash (/)" if trash else "Search (/)"
        if trash and self.trash_index is None:  # still loading: the header says so
            self.query_one("#counts", Static).update(" Trash — loading…")
        self.refresh_bindings()

    def set_type(self, key: str | None) -> None:
        self._set_filters(replace(self.filters, type=key))

    def set_tag(self, tag: str | None) -> None:
        self._set_filters(replace(self.filters, tag=tag))

    def sort_by(self, sort: str) -> None:
        self._set_filters(replace(self.filters, sort=sort))

    @on(Input.Submitted, "#search")
    def _to_list(self) -> None:
        self.query_one(RecordList).focus()

    @on(RecordList.Opened)
    def _open(self, event: RecordList.Opened) -> None:
        if self.filters.trash:  # a record in the trash is restored, not opened
            self.action_restore()
            return
        self.app.push_screen(RecordDetailScreen(event.record_id))

    @on(RecordList.Moved)
    def _moved(self, event: RecordList.Moved) -> None:
        self._preview(event.summary)

    def _preview(self, summary: Summary | None) -> None:
        """The side panel (wide windows only): the record under the cursor, secrets masked."""
        if not self.has_class("-wide"):
            return
        from vault.errors import VaultError

        app = strongroom_app(self)
        pane = self.query_one("#preview", Static)
        if summary is None or app.vault is None:
            pane.update("")
            return
        try:
            detail = app.vault.detail(summary.id)
        except VaultError as exc:
            pane.update(Text(f"This record cannot be shown: {exc}", style="red"))
            return
        text = record_text(detail, dates_key=app.key_of("record.dates"))
        if self.filters.trash:
            hint = f"{app.key_of('list.open')} restores it with its history and files."
        else:
            hint = f"{app.key_of('list.open')} opens it: copy, reveal, edit."
        text.append(f"\n\n{hint}", style="dim")
        pane.update(text)

    def on_resize(self) -> None:
        self.call_after_refresh(lambda: self._preview(self.query_one(RecordList).current))

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        """Clear the search; in the trash with nothing searched, back to the records."""
        search = self.query_one("#search", Input)
        if self.filters.trash and not search.value:
            self.action_leave_trash()
        search.value = ""
        self.query_one(RecordList).focus()

    def action_favorites(self) -> None:
        self._set_filters(replace(self.filters, favorites=not self.filters.favorites))

    def action_cycle_sort(self) -> None:
        # the header names the order
        self.sort_by(next_sort(self.filters.sort, self.filters.trash))

    def action_clear_filters(self) -> None:
        self._set_filters(Filters())  # from the trash too: back to every record

    def action_pick_type(self) -> None:
        index = self.index_of(self.filters)
        if index is None:
            self.notify("Still loading the records…")
            return
        choices = [(key, type_label(key), n) for key, n in index.type_counts()]
        where = "in the trash " if self.filters.trash else ""
        self.app.push_screen(
            PickScreen(f"Show records {where}of type", "All types", choices, self.filters.type),
            lambda key: self.set_type(key or None) if key is not None else None,
        )

    def action_pick_tag(self) -> None:
        index = self.index_of(self.filters)
        if index is None:
            self.notify("Still loading the records…")
            return
        choices = [(tag, tag, n) for tag, n in index.tag_counts()]
        where = "in the trash " if self.filters.trash else ""
        if not choices:
            self.notify(f"No record {where}has a tag yet (edit a record to add some).")
            return
        self.app.push_screen(
            PickScreen(f"Show records {where}tagged", "All tags", choices, self.filters.tag),
            lambda tag: self.set_tag(tag or None) if tag is not None else None,
        )

    def action_new(self) -> None:
        if self.filters.trash:
            key = strongroom_app(self).key_of
            self.notify(
                f"The trash holds deleted records: {key('trash.leave')} shows the records, "
                f"where {key('records.new')} adds one.",
                markup=False,
            )
            return
        self.app.push_screen(EditRecordScreen(None))

    # -- the trash filter ---------------------------------------------------------------------
    def action_trash(self) -> None:
        """The trash, in this list: what was deleted and when, the last deleted first."""
        if self.filters.trash:
            self.action_leave_trash()
            return
        app = strongroom_app(self)
        if app.vault is not None and app.vault.purge_expired():  # past the retention: gone
            self.reload()
        self.before_trash = self.filters
        self._set_filters(Filters.of_trash())

    def action_leave_trash(self) -> None:
        """Back to the records, filtered as they were before the trash."""
        if self.filters.trash:
            self._set_filters(self.before_trash)

    def action_restore(self) -> None:
        """Bring the chosen record back from the trash with its history and files, after y/n."""
        row = self.query_one(RecordList).current
        if not self.filters.trash or row is None:
            return
        title = printable(row.title)

        def done(yes: bool | None) -> None:
            from vault.errors import VaultError

            app = strongroom_app(self)
            if not yes or app.vault is None:
                return
            try:
                app.vault.untrash(row.id)
            except VaultError as exc:
                self.notify(f"“{title}” cannot be restored: {exc}", severity="error", markup=False)
            else:
                self.notify(f"“{title}” is back in the list.", markup=False)
            self.reload()

        self.app.push_screen(ConfirmScreen(f"Restore “{title}” from the trash? (y/n)"), done)

    def action_empty(self) -> None:
        """Purge everything in the trash now, after y/n: tombstones that sync to every device."""
        count = len(self.trash_index) if self.trash_index is not None else 0
        if not self.filters.trash or not count:
            self.notify("The trash is empty.")
            return

        def done(yes: bool | None) -> None:
            if yes and strongroom_app(self).vault is not None:
                self._empty_trash()

        self.app.push_screen(
            ConfirmScreen(
                (
                    "Purge the record in the trash on every device? It cannot be brought back."
                    if count == 1
                    else f"Purge the {count:,} records in the trash on every device? They cannot "
                    "be brought back."
                )
                + " (y/n)"
            ),
            done,
        )

    def action_security(self) -> None:
        self.app.push_screen(SecurityCenterScreen())


def field_label(tpl: Template, f: Field) -> str:
    """The template's label for a field it knows, else the field's own name (custom fields)."""
    spec = tpl.spec(f.name)
    return spec.label if spec else f.name


BAR_CELLS = 20


def countdown_bar(left: int, period: int, cells: int = BAR_CELLS) -> Text:
    """The seconds a one-time code has left as a bar that empties (red in its last 5 s)."""
    filled = round(cells * max(0, min(left, period)) / max(period, 1))
    style = "red" if left <= 5 else "green"
    bar = Text("━" * filled, style=style)
    bar.append("━" * (cells - filled), style="dim")
    return bar


#: The position `copyable_fields` gives a record's notes (a secure note's body): not a field.
NOTES = -1


def notes_label(rec: Record) -> str:
    """A secure note's text is its body ("Note"); any other record's is its notes."""
    return "Note" if rec.type == "note" else "Notes"


def copyable_fields(rec: Record) -> list[tuple[int, str]]:
    """What a record view lists and c copies: (position in the record, label); the notes last
    (position NOTES), so a secure note's body is copied like any field."""
    tpl = template(rec.type)
    out = [
        (pos, field_label(tpl, f))
        for pos, f in enumerate(rec.fields)
        if f.kind is not FieldKind.TOTP and f.value
    ]
    return out + ([(NOTES, notes_label(rec))] if rec.notes else [])


def copy_value(rec: Record, pos: int) -> str:
    """The text at a position of `copyable_fields` ("" when the record no longer has it)."""
    if pos == NOTES:
        return rec.notes
    return rec.fields[pos].value if 0 <= pos < len(rec.fields) else ""


def label_width(rec: Record) -> int:
    """The label column's width: the longest label shown, at most 18 cells."""
    labels = [printable(label) for _, label in copyable_fields(rec)]
    labels += ["Tags", "Modified", "Created"]
    if any(f.kind is FieldKind.TOTP and f.value for f in rec.fields):
        labels.append("One-time code")
    return min(max(len(x) for x in labels), 18)


def record_text(
    detail: Detail,
    *,
    revealed: bool = False,
    chosen: int | None = None,
    full_dates: bool = False,
    dates_key: str = "t",
    history_key: str = "h",
    files_key: str = "f",
    now: float | None = None,
) -> Text:
    """A record as the view and the side panel show it: title and type, then labels in one
    column and values in the next (secrets masked unless `revealed`; the `chosen` field marked),
    tags, dates as people say them ("3 days ago") or whole (`full_dates`), conflict, history."""
    from ..humantime import ago, full
    from ..widgets.record_list import OTHER_TYPE, TYPE_STYLES

    rec = detail.record
    tpl = template(rec.type)
    width = label_width(rec)
    when = full if full_dates else (lambda ts: ago(ts, now))
    out = Text()
    out.append(printable(rec.display_title), style="bold")
    out.append("  ✦" if rec.favorite else "")
    out.append("   ")
    out.append(tpl.label, style=TYPE_STYLES.get(rec.type, OTHER_TYPE))
    out.append("\n\n")

    def row(label: str, value: str, *, mine: bool = False, style: str = "") -> None:
        out.append("▸ " if mine else "  ")
        out.append(set_cell_size(printable(label), width), style="dim" if not mine else "reverse")
        out.append("  ")
        out.append(printable(value), style=("reverse " if mine else "") + style)
        out.append("\n")

    notes_at: int | None = None
    for i, (pos, label) in enumerate(copyable_fields(rec)):
        if pos == NOTES:
            notes_at = i
            continue
        f = rec.fields[pos]
        shown = f.value if (revealed or not tpl.conceals(f.name, f.kind)) else MASK
        row(label, shown, mine=i == chosen)
    if rec.tags:
        row("Tags", ", ".join(rec.tags))
    if notes_at is not None:  # a heading row (chosen like a field), then the text under it
        mine = notes_at == chosen
        out.append("\n" if notes_at or rec.tags else "")
        out.append("▸ " if mine else "  ")
        out.append(notes_label(rec), style="reverse" if mine else "dim")
        body = printable(rec.notes, multiline=True)
        out.append("".join(f"\n  {line}" for line in body.split("\n")))
        out.append("\n")
    out.append("\n")
    row("Modified", when(rec.modified), style="dim")
    row("Created", when(rec.created), style="dim")
    if not full_dates:
        out.append(f"  ({dates_key} shows the full dates)", style="dim")
    if detail.conflict:
        out.append(
            f"\nIn conflict: {plural('other version', len(detail.others))} — edit to resolve; "
            "their values are kept in history.",
            style="yellow",
        )
    if rec.trashed is not None:
        out.append(
            f"\nIn the trash since {when(rec.trashed)} (d in the list shows it).", style="yellow"
        )
    if detail.kept_from_trash:
        out.append(
            "\nKept out of the trash: edited on one device while deleted on another.",
            style="yellow",
        )
    past = past_secrets(rec)
    if past:
        out.append("\n\n")
        out.append("Password history", style="bold")
        for p in past[:5]:
            since = when(p.since) if p.since else "?"
            value = p.value if revealed else MASK
            out.append(f"\n  {printable(p.field)}  {printable(value)}  {since} – {when(p.until)}")
    if rec.attachments:
        out.append("\n\n")
        out.append("Files", style="bold")
        for a in rec.attachments:
            out.append(f"\n  {printable(a.name)}  ")
            out.append(f"{a.size:,} bytes", style="dim")
        out.append(f"\n  ({files_key} adds, saves, opens and removes files)", style="dim")
    if rec.versions:
        out.append(
            f"\n\n{plural('previous version', len(rec.versions))}: {history_key} shows "
            + ("it" if len(rec.versions) == 1 else "them"),
            style="dim",
        )
    return out


def has_secrets(rec: Record) -> bool:
    """Whether r (reveal) shows anything on this record: a masked field or a past secret."""
    tpl = template(rec.type)
    return any(f.value and tpl.conceals(f.name, f.kind) for f in rec.fields) or bool(
        past_secrets(rec)
    )


def quick_copy_value(rec: Record, name: str) -> str:
    """What a quick copy key (u, n, v, x) copies from this record ("" when it has none)."""
    return (rec.username if name == "username" else rec.value(name)) or ""


class RecordDetailScreen(Screen[None]):
    """One record; secrets masked until revealed (r). ↑↓ choose a field and c copies it (the
    password is chosen first; a note's text is one of them). Quick copies show only where the
    record has the value: u the username, n the number, v a card's security code, x its
    expiry, o the one-time code."""

    BINDINGS = bindings(
        "record.back",
        "record.reveal",
        "record.previous",
        "record.next",
        "record.copy_field",
        "record.copy_username",
        "record.copy_number",
        "record.copy_cvv",
        "record.copy_code",
        "record.edit",
        "record.favorite",
        "record.delete",
        "record.dates",
        "record.history",
        "record.files",
        "record.copy_expiry",
    )

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.revealed = False
        self.failed = False
        self.fields: list[
            tuple[int, str]
        ] = []  # the copyable fields: (position in the record, label)
        self.chosen: int | None = None  # index into self.fields
        self.full_dates = False  # "3 days ago", or the whole date (t)
        self.label_width = len("One-time code")
        self.shown: Record | None = None  # as last drawn: which keys apply to it

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the keys that make sense for this record: no "Copy user" on a card, no
        "Copy code" without a one-time password, no Reveal with nothing masked."""
        rec = self.shown
        if rec is None:
            return True
        if action == "copy" and parameters:
            return bool(quick_copy_value(rec, str(parameters[0])))
        if action == "copy_totp":
            return any(f.kind is FieldKind.TOTP and f.value for f in rec.fields)
        if action == "copy_field":
            return bool(self.fields)
        if action == "reveal":
            return has_secrets(rec)
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("", id="detail")
            yield Static("", id="totp")
        yield KeyFooter()

    @property
    def record(self) -> Record:
        app = strongroom_app(self)
        assert app.vault is not None
        return app.vault.record(self.record_id)

    def _shown(self) -> bool:
        """Render; a damaged record (listed as <decryption error>) is explained and the screen closes."""
        from vault.errors import NotFoundError, VaultError

        if self.failed or strongroom_app(self).vault is None:  # locked: leaving for the lock screen
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

    def reload(self) -> None:
        """Records changed elsewhere (a sync, the CLI): shown as they are now. Under another
        screen it waits for on_screen_resume (a damaged record closes the screen on top)."""
        if self.app.screen is self:
            self._shown()

    def render_record(self) -> None:
        """Built as Text, never as markup: record data may hold '[' (a password) or escapes."""
        app = strongroom_app(self)
        assert app.vault is not None
        detail = app.vault.detail(self.record_id)
        rec = detail.record
        if self.shown is None or self.shown.fields != rec.fields or self.shown.notes != rec.notes:
            self.shown = rec
            self.refresh_bindings()  # the footer offers what this record has
        self.shown = rec
        self.fields = copyable_fields(rec)
        if self.chosen is None or self.chosen >= len(self.fields):
            self.chosen = next(
                (
                    i
                    for i, (pos, _) in enumerate(self.fields)
                    if pos != NOTES and rec.fields[pos].kind.concealed
                ),
                0,
            )
        self.label_width = label_width(rec)
        self.query_one("#detail", Static).update(
            record_text(
                detail,
                revealed=self.revealed,
                chosen=self.chosen,
                full_dates=self.full_dates,
                dates_key=strongroom_app(self).key_of("record.dates"),
                history_key=strongroom_app(self).key_of("record.history"),
                files_key=strongroom_app(self).key_of("record.files"),
            )
        )

    def render_totp(self) -> None:
        from vault.totp import parse_totp, seconds_left, totp_code

        if strongroom_app(self).vault is None:  # locked: the screen is on its way out
            return
        field = next((f for f in self.record.fields if f.kind is FieldKind.TOTP and f.value), None)
        if field is None:
            return
        spec = parse_totp(field.value)
        now = time.time()
        left = seconds_left(spec, now)
        code = totp_code(spec, now)
        out = Text("\n  ")
        out.append(f"{'One-time code':<{self.label_width}}", style="dim")
        out.append("  ")
        out.append(f"{code[: len(code) // 2]} {code[len(code) // 2 :]}", style="bold")
        out.append("  ")
        out.append_text(countdown_bar(left, spec.period))
        out.append(f" {left:>2} s", style="dim")
        self.query_one("#totp", Static).update(out)

    def action_dates(self) -> None:
        self.full_dates = not self.full_dates
        self.render_record()

    def action_reveal(self) -> None:
        """Hide at once; show after the Account Password again when it was typed long ago."""
        if self.revealed:
            self.revealed = False
            self.render_record()
            return

        def show() -> None:
            self.revealed = True
            self.render_record()

        strongroom_app(self).after_password("show the secrets", show)

    def action_choose(self, delta: int) -> None:
        if self.fields and self.chosen is not None:
            self.chosen = max(0, min(len(self.fields) - 1, self.chosen + delta))
            self.render_record()

    def action_copy_field(self) -> None:
        """Copy the chosen field (any field: custom ones too) with the app's auto-clearing copy."""
        if not self.fields or self.chosen is None:
            self.notify("This record has no field to copy.", severity="warning")
            return
        pos, label = self.fields[self.chosen]
        value = copy_value(self.record, pos)
        if not value:  # changed meanwhile (a sync): show it again
            self.render_record()
            self.notify("The record changed; choose the field again.", severity="warning")
            return
        app = strongroom_app(self)
        what = label.lower() if pos == NOTES else printable(label)
        rec = self.record
        shown_masked = pos != NOTES and template(rec.type).conceals(
            rec.fields[pos].name, rec.fields[pos].kind
        )
        if shown_masked:  # copying a secret shows it
            app.after_password(f"copy the {what}", lambda: app.copy_secret(value, what))
        else:
            app.copy_secret(value, what)

    def action_copy(self, name: str) -> None:
        rec = self.record
        spec = template(rec.type).spec(name)
        what = spec.label if spec else name
        value = quick_copy_value(rec, name)
        if not value:
            self.notify(f"This record has no {what.lower()}.", severity="warning")
            return
        app = strongroom_app(self)
        if spec is not None and template(rec.type).conceals(name, spec.kind):  # card number, CVV
            app.after_password(
                f"copy the {what.lower()}", lambda: app.copy_secret(value, what.lower())
            )
        else:
            app.copy_secret(value, what.lower())

    def action_copy_totp(self) -> None:
        from vault.totp import parse_totp, totp_code

        field = next((f for f in self.record.fields if f.kind is FieldKind.TOTP and f.value), None)
        if field is None:
            self.notify("This record has no one-time password.", severity="warning")
            return
        app = strongroom_app(self)
        app.copy_secret(totp_code(parse_totp(field.value), time.time()), "one-time code")

    def action_edit(self) -> None:
        self.app.push_screen(EditRecordScreen(self.record_id))

    def action_history(self) -> None:
        from .history import HistoryScreen

        self.app.push_screen(HistoryScreen(self.record_id))

    def action_files(self) -> None:
        from .files import FilesScreen

        self.app.push_screen(FilesScreen(self.record_id))

    def action_favorite(self) -> None:
        app = strongroom_app(self)
        assert app.vault is not None
        rec = self.record
        app.vault.update(replace(rec, favorite=not rec.favorite))
        self.render_record()

    def action_delete(self) -> None:
        def done(confirmed: bool | None) -> None:
            if confirmed:
                app = strongroom_app(self)
                assert app.vault is not None
                app.vault.trash(self.record_id)
                self.notify("Moved to the trash (restore it from the trash filter).")
                self.app.pop_screen()

        self.app.push_screen(
            ConfirmScreen(f"Move “{printable(self.record.display_title)}” to the trash? (y/n)"),
            done,
        )


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = bindings("dialog.yes", "dialog.no")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, markup=False)  # it quotes record titles

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class UnsavedChangesScreen(ModalScreen[str]):
    """Leaving a form that holds changes: "save", "discard" or "keep" (editing)."""

    BINDINGS = bindings("unsaved.save", "unsaved.discard", "unsaved.keep")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        key = strongroom_app(self).key_of
        with Vertical(id="dialog"):
            yield Static(
                Text.assemble(
                    ("Unsaved changes", "bold"),
                    f"\n\n{self.question}\n\n",
                    (key("unsaved.save"), "bold"),
                    " Save   ",
                    (key("unsaved.discard"), "bold"),
                    " Discard   ",
                    (key("unsaved.keep"), "bold"),
                    " Keep editing",
                )
            )

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


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
    """Template-aware form. ctrl+s saves, ctrl+g puts a new generated password in the password field.
    Concealed fields are SecretInputs (no copy/cut); ctrl+r shows or hides the focused one."""

    BINDINGS = bindings(
        "edit.cancel",
        "edit.save",
        "edit.generate",
        "edit.reveal",
        "edit.generator",
        "edit.add_field",
        "edit.field_up",
        "edit.field_down",
        "edit.conceal",
    )

    def __init__(
        self, record_id: str | None, type_key: str = "login", *, generate: bool = False
    ) -> None:
        """`generate`: put a new generated password in the form at once (the Security Center)."""
        super().__init__()
        self.record_id = record_id
        self.type_key = type_key
        self.generate_first = generate
        self.base: Detail | None = None  # the version the form started from: saved as its edit
        self.started: tuple[object, ...] = ()  # the form's contents when it opened

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """ctrl+g only where there is something to generate: a password field, or an SSH key
        (not on a card or a note)."""
        if action == "generate":
            rec = self.base.record if self.base else None
            tpl = template(rec.type if rec else self.type_key)
            return tpl.key == "ssh-key" or tpl.spec("password") is not None
        return True

    def _record(self) -> Record | None:
        app = strongroom_app(self)
        if self.base is None and self.record_id and app.vault:
            self.base = app.vault.detail(self.record_id)
        return self.base.record if self.base else None

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
                value = (rec.value(spec.name) or "") if rec else ""
                if tkey == "ssh-key" and spec.name == "private-key":
                    yield KeyInput(value=value, id="f-private-key")  # a pasted key stays whole
                else:
                    yield field_input(value, f"f-{spec.name}", spec.kind, masked=spec.masked)
            if tkey == "ssh-key":
                yield Static(
                    f"{strongroom_app(self).key_of('edit.generate')} makes a new Ed25519 key; "
                    "or paste a private key, or type its file's path (a passphrase is asked "
                    "for): its public key and fingerprint are filled in on save. "
                    "Ask before each use: yes makes the SSH agent ask the open app each time.",
                    classes="muted",
                    markup=False,
                )
            yield CustomFields(extra_fields(rec) if rec else [], id="custom")
            yield Label("Tags (comma separated)")
            yield Input(value=", ".join(rec.tags) if rec else "", id="tags")
            yield Label("Notes")
            yield TextArea(rec.notes if rec else "", id="notes")
            yield Static("", id="message")
            with Horizontal():
                yield Button(
                    f"Save ({strongroom_app(self).key_of('edit.save')})",
                    id="save",
                    variant="primary",
                )
        yield KeyFooter()

    @on(Input.Submitted, "#type")
    def _retype(self, event: Input.Submitted) -> None:
        try:
            key = template(event.value).key
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.query_one("#message", Static).update(Text(str(exc), style="red"))
            return
        self.app.switch_screen(EditRecordScreen(None, key))

    def on_mount(self) -> None:
        self.query_one(
            "#form Input", Input
        ).focus()  # the type (new record) or the title: type at once
        self.started = self._contents()  # Esc asks only when the form differs from this
        if self.generate_first:
            self.action_generate()

    def _contents(self) -> tuple[object, ...]:
        """What saving would store, as typed (before the checks): title, template fields, the
        custom fields that have a value, tags, notes. An empty new row or spaces around the
        title change nothing."""
        rec = self._record()
        tpl = template(rec.type if rec else self.type_key)
        return (
            self.query_one("#title", Input).value.strip(),
            tuple(self.query_one(f"#f-{s.name}", Input).value for s in tpl.fields),
            tuple(f for f in self.query_one(CustomFields).fields() if f.value),
            tuple(t.strip() for t in self.query_one("#tags", Input).value.split(",") if t.strip()),
            self.query_one("#notes", TextArea).text,
        )

    def action_cancel(self) -> None:
        """Leave at once when nothing changed; else ask: save, discard or keep editing."""
        if self._contents() == self.started:
            self.app.pop_screen()
            return

        def chosen(choice: str | None) -> None:
            if choice == "save":
                self.action_save()  # a refused value keeps the form open, saying why
            elif choice == "discard":
                self.app.pop_screen()
                self.notify("Changes discarded.")

        title = printable(self.query_one("#title", Input).value.strip())
        if self.record_id is None:
            question = f"Save the new record “{title}”?" if title else "Save the new record?"
        else:
            question = f"Save your changes to “{title or 'this record'}”?"
        self.app.push_screen(UnsavedChangesScreen(question), chosen)

    def action_reveal(self) -> None:
        """Hide at once; show a stored secret after the Account Password again when it was
        typed long ago (a value typed in this form is the person's own: shown at once)."""
        focused = self.focused
        if not isinstance(focused, SecretInput):
            self.notify("Move to a secret field (Tab) to show it.", severity="warning")
            return
        rec = self._record()
        if focused.revealed or rec is None or not focused.value:
            focused.toggle_reveal()
            return
        strongroom_app(self).after_password("show the secret", focused.toggle_reveal)

    def action_generate(self) -> None:
        from vault.generator import generate_password

        rec = self._record()
        if (rec.type if rec else self.type_key) == "ssh-key":
            self._generate_ssh_key()
            return
        try:
            field = self.query_one("#f-password", Input)
        except Exception:  # noqa: BLE001 - a template without a password field
            self.notify("This template has no password field.", severity="warning")
            return
        field.value = generate_password()
        save = strongroom_app(self).key_of("edit.save")
        self.notify(f"New password generated (press {save} to save).", markup=False)

    def _decrypted(self, key: SshKey | None) -> None:
        """The passphrase opened the key: the form holds the decrypted key, then saves."""
        if key is None:
            self.query_one("#message", Static).update(
                Text("Not saved: the key's passphrase was not given.", style="red")
            )
            return
        self.query_one("#f-private-key", Input).value = key.private_pem
        self.query_one("#f-public-key", Input).value = key.public_line
        self.query_one("#f-fingerprint", Input).value = key.fingerprint
        self.query_one("#f-comment", Input).value = key.comment
        self.action_save()

    def _generate_ssh_key(self) -> None:
        """A new Ed25519 key in the form: the private key stays concealed, the public key line
        and fingerprint show; nothing is stored until the form is saved."""
        from vault.sshkeys import generate_ed25519

        private = self.query_one("#f-private-key", Input)
        if private.value.strip():
            self.notify(
                "This form holds a private key already; empty its field first to make a new one.",
                severity="warning",
            )
            return
        key = generate_ed25519(self.query_one("#f-comment", Input).value.strip())
        private.value = key.private_pem
        self.query_one("#f-public-key", Input).value = key.public_line
        self.query_one("#f-fingerprint", Input).value = key.fingerprint
        save = strongroom_app(self).key_of("edit.save")
        self.notify(f"New Ed25519 key {key.fingerprint} (press {save} to save).", markup=False)

    async def action_add_field(self) -> None:
        await self.query_one(CustomFields).add()

    async def action_move_field(self, delta: int) -> None:
        if not await self.query_one(CustomFields).move(delta):
            self.notify("Move to a custom field (Tab) to move it.", severity="warning")

    async def action_conceal(self) -> None:
        state = await self.query_one(CustomFields).toggle_conceal()
        if state is None:
            self.notify("Move to a custom field (Tab) to conceal or show it.", severity="warning")
        else:
            self.notify("The field is concealed." if state else "The field is plain text now.")

    def action_generator(self) -> None:
        """The generator dialog (every option of `strongroom generate`); its value goes in the
        password field, or in the focused secret field of a template without one."""
        from .generator import GeneratorScreen

        try:
            target: Input = self.query_one("#f-password", Input)
        except Exception:  # noqa: BLE001 - a template without a password field
            focused = self.focused
            if not isinstance(focused, SecretInput) or self._masked_only(focused):
                self.notify("Move to a secret field (Tab) to generate into it.", severity="warning")
                return
            target = focused

        def fill(value: str | None) -> None:
            if value:
                target.value = value
                save = strongroom_app(self).key_of("edit.save")
                self.notify(
                    f"Generated value put in the form (press {save} to save).", markup=False
                )

        self.app.push_screen(GeneratorScreen(), fill)

    def _masked_only(self, field: Input) -> bool:
        """A template field shown masked that is no secret to generate (a card's number)."""
        rec = self._record()
        spec = template(rec.type if rec else self.type_key).spec(str(field.id)[2:])
        return bool(str(field.id).startswith("f-") and spec and spec.masked)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        app = strongroom_app(self)
        assert app.vault is not None
        rec = self._record()
        tpl = template(rec.type if rec else self.type_key)
        title = self.query_one("#title", Input).value.strip()
        if not title:
            self.query_one("#message", Static).update("[red]Give the record a title.[/red]")
            return
        values = {s.name: self.query_one(f"#f-{s.name}", Input).value for s in tpl.fields}
        for spec in tpl.fields:  # the CLI's checks: a TOTP secret that works, a card's expiry
            try:
                values[spec.name] = checked_value(tpl, spec.name, spec.kind, values[spec.name])
            except InvalidInputError as exc:
                reason = str(exc)
                reason = f"{reason[:1].upper()}{reason[1:]}."
                self.query_one("#message", Static).update(Text(reason, style="red"))
                self.notify(reason, severity="error", markup=False)  # the message may be below
                self.query_one(f"#f-{spec.name}", Input).focus()
                return
        if tpl.key == "ssh-key":
            from vault.sshkeys import needs_passphrase, record_values

            from .sshkeyform import KeyPassphraseScreen, key_text

            try:
                values["private-key"] = key_text(values["private-key"])  # or a key file's path
                if needs_passphrase(values["private-key"].encode()):
                    comment = values.get("comment", "").strip()
                    screen = KeyPassphraseScreen(values["private-key"], comment)
                    self.app.push_screen(screen, self._decrypted)
                    return  # saved once the key is decrypted
                values = record_values(values)
            except InvalidInputError as exc:
                self.query_one("#message", Static).update(Text(str(exc), style="red"))
                return
        tags = tuple(
            t.strip() for t in self.query_one("#tags", Input).value.split(",") if t.strip()
        )
        notes = self.query_one("#notes", TextArea).text
        fields = tuple(Field(s.name, s.kind, values[s.name]) for s in tpl.fields if values[s.name])
        # fields beyond the template (custom, imported, older versions): kept, renamed, reordered
        custom = [f for f in self.query_one(CustomFields).fields() if f.value]
        if any(not f.name.strip() for f in custom):
            self.query_one("#message", Static).update(
                Text("A custom field needs a name (or an empty value to remove it).", style="red")
            )
            return
        fields += tuple(replace(f, name=f.name.strip()) for f in custom)
        if rec is None:
            new = new_record(tpl.key, title, notes=notes, tags=tags)
            app.vault.add(replace(new, fields=fields))
            self.notify(f"Added “{printable(title)}”.", markup=False)
        else:
            edited = replace(rec, title=title, fields=fields, tags=tags, notes=notes)
            app.vault.update(edited, self.base)
            self.notify(f"Saved “{printable(title)}”.", markup=False)
        self.app.pop_screen()


KIND_STYLES = {
    "weak": Style(color="red"),
    "reused": Style(color="yellow"),
    "old": Style(color="blue"),
    "breached": Style(color="magenta", bold=True),
}


class FindingsList(RecordList):
    """The Security Center's rows: the problem, the record, the reason (whole under the list)."""

    columns = (
        Column("Problem", 8, 0, lambda s, now: (s.type, KIND_STYLES.get(s.type, Style()))),
        Column("Record", 24, 0, lambda s, now: (s.title, Style())),
        Column("Reason", 0, 50, lambda s, now: (s.username or "", Style(dim=True))),
    )


def _breach_file(path: object) -> BreachFile | None:
    """The breach file set with `strongroom audit --breaches FILE --remember`, if it opens."""
    from vault.breaches import BreachFile
    from vault.errors import VaultError

    if not isinstance(path, str) or not path:
        return None
    try:
        return BreachFile(path)
    except (OSError, VaultError):
        return None


class SecurityCenterScreen(Screen[None]):
    """Weak, reused and old passwords; under the list, the chosen one's whole reason and what to
    do: Enter opens the record, g opens its edit form with a new generated password."""

    BINDINGS = bindings("security.back", "security.new_password")
    DEFAULT_CSS = """
    SecurityCenterScreen #finding { height: auto; max-height: 5; padding: 0 1; background: $boost; }
    """

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Checking passwords…", id="summary")
        findings = FindingsList(id="findings")
        yield ListHeader(findings)
        yield findings
        yield Static("", id="finding")
        yield KeyFooter()

    #: The findings are shown (or the check failed): keys typed ahead no longer wait for them.
    audited = False

    def on_mount(self) -> None:
        vault = strongroom_app(self).vault
        if vault is not None:
            self._audit(vault)

    def key_waits(self, event: TypedEvent) -> bool:
        """Enter typed ahead opens the first finding, once there is one; Esc leaves at once."""
        return not self.audited and not strongroom_app(self).is_key_of(event, "security.back")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.audited = True
            strongroom_app(self).type_ahead.resume()

    @work(doing="Checking the passwords", exclusive=True)
    def _audit(self, vault: Vault) -> None:
        """On its own connection: it reads every record, while the UI may write."""
        from vault.audit import audit

        with vault.own_connection() as mine:
            records = [mine.record(s.id) for s in mine.summaries() if not s.error]
            breach_path = mine.settings().get("breach_file")
        breaches = _breach_file(breach_path)
        try:
            report = audit(records, time.time(), breaches=breaches)
        finally:
            if breaches is not None:
                breaches.close()
        self.post_message(AuditReady(report))

    @on(AuditReady)
    def _show(self, event: AuditReady) -> None:
        report = event.report
        self.query_one("#summary", Static).update(
            f"[b]Security score {report.score}/100[/b] — {len(report.weak)} weak, "
            f"{sum(len(g) for g in report.reused)} reused, {len(report.old)} old"
            + (f", {len(report.breached)} breached." if report.breach_checked else ".")
        )
        rows = []
        for kind, findings in (
            ("weak", report.weak),
            ("reused", [f for g in report.reused for f in g]),
            ("old", report.old),
            ("breached", report.breached),
        ):
            for f in findings:
                rows.append(
                    Summary(f.record_id, f.title, kind, f.detail, None, (), False, 0.0, False)
                )
        lst = self.query_one("#findings", RecordList)
        lst.set_rows(rows)
        lst.focus()
        self.audited = True
        strongroom_app(self).type_ahead.resume()

    @on(RecordList.Moved)
    def _chosen(self, event: RecordList.Moved) -> None:
        """The whole reason of the row under the cursor, and the keys that act on it."""
        s = event.summary
        if s is None:
            self.query_one("#finding", Static).update("")
            return
        key = strongroom_app(self).key_of
        out = Text()
        out.append(printable(s.title), style="bold")
        out.append(f" — {printable(s.username or '')}\n")
        out.append(
            f"{key('list.open')} opens the record · {key('security.new_password')} opens its "
            "edit form with a new generated password (saved only when you save)",
            style="dim",
        )
        self.query_one("#finding", Static).update(out)

    @on(RecordList.Opened)
    def _open(self, event: RecordList.Opened) -> None:
        self.app.push_screen(RecordDetailScreen(event.record_id))

    def action_new_password(self) -> None:
        current = self.query_one("#findings", RecordList).current
        if current is None:
            self.notify("Nothing to fix here.", severity="warning")
            return
        self.app.push_screen(EditRecordScreen(current.id, generate=True))
