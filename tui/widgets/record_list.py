"""The record list: a virtual list that renders only the visible rows (fast at 100,000 records).

Built like toolong's log view: a ScrollView whose virtual height is the row count, and
`render_line` that draws one row on demand. Built-in lists take seconds at this size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from runtime.safe_text import printable
from vault.index import Summary

from ..actions import scope
from ..humantime import ago
from ..search import type_label

NORMAL = Style()
CURSOR = Style(reverse=True, bold=True)
CONFLICT = Style(color="yellow")
SIMILAR = Style(dim=True)
MUTED = Style(dim=True)
HEADER = Style(bold=True, underline=True)
GAP = "  "
#: Type colours: a record's kind at a glance (colours of the terminal's own palette, so every
#: theme and SSH session shows them).
TYPE_STYLES = {
    "login": Style(color="cyan"),
    "password": Style(color="cyan"),
    "email-account": Style(color="cyan"),
    "credit-card": Style(color="magenta"),
    "bank-account": Style(color="magenta"),
    "note": Style(color="yellow"),
    "identity": Style(color="green"),
    "passport": Style(color="green"),
    "drivers-licence": Style(color="green"),
}
OTHER_TYPE = Style(color="blue")
#: The row's first cells: favourite or fuzzy match. Both glyphs are one cell in every terminal
#: (★ and ≈ are "ambiguous width": two cells in some, which pushed the row's columns over).
FAVOURITE, SIMILAR_MARK = "✦", "~"


def cells(text: str, width: int) -> str:
    """Exactly `width` terminal cells (wide CJK/emoji characters count double), control codes removed."""
    return set_cell_size(printable(text), width)


@dataclass(frozen=True)
class Column:
    """One column of a list: its header, its width (0: a share of the room left) and from which
    list width it shows at all; `cell` gives a row's text and style."""

    title: str
    width: int
    shown_from: int
    cell: Callable[[Summary, float], tuple[str, Style]]


def _type_cell(s: Summary, now: float) -> tuple[str, Style]:
    return type_label(s.type), TYPE_STYLES.get(s.type, OTHER_TYPE)


RECORD_COLUMNS = (
    Column("Title", 0, 0, lambda s, now: (s.title, NORMAL)),
    Column("Type", 13, 36, _type_cell),
    Column("Username", 0, 56, lambda s, now: (s.username or s.hint or "", NORMAL)),
    Column("Modified", 14, 72, lambda s, now: (ago(s.modified, now), MUTED)),
)


#: The list's trash filter: what was deleted and when (the username only on wide lists).
TRASH_COLUMNS = (
    Column("Title", 0, 0, lambda s, now: (s.title, NORMAL)),
    Column("Type", 13, 36, _type_cell),
    Column("Username", 0, 72, lambda s, now: (s.username or s.hint or "", NORMAL)),
    Column("Deleted", 14, 0, lambda s, now: (ago(s.trashed or s.modified, now), MUTED)),
)


def fit_columns(columns: tuple[Column, ...], width: int) -> list[tuple[Column, int]]:
    """The columns a list of `width` cells shows, with their widths: fixed ones as declared,
    the rest share what is left (the first one gets the odd cell)."""
    shown = [c for c in columns if width >= c.shown_from]
    room = width - 3 - len(GAP) * (len(shown) - 1) - sum(c.width for c in shown)
    flex = [c for c in shown if not c.width]
    share, extra = divmod(max(room, 0), max(len(flex), 1))
    out = []
    for c in shown:
        w = c.width or share + (extra if c is flex[0] else 0)
        out.append((c, w))
    return out


class RecordList(ScrollView, can_focus=True):
    """The rows in aligned columns (see `columns`); ListHeader names them."""

    BINDINGS = scope("list")
    cursor: reactive[int] = reactive(0)
    columns: tuple[Column, ...] = RECORD_COLUMNS

    class Opened(Message):
        def __init__(self, record_id: str) -> None:
            super().__init__()
            self.record_id = record_id

    class Moved(Message):
        """The cursor is on another row (the side panel follows it)."""

        def __init__(self, summary: Summary | None) -> None:
            super().__init__()
            self.summary = summary

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.rows: list[Summary] = []
        self.similar_from: int | None = None
        self.now = time.time()

    def set_rows(self, rows: list[Summary], *, similar_from: int | None = None) -> None:
        """`similar_from`: rows from there on are fuzzy matches, drawn dim and marked ~."""
        self.rows = rows
        self.similar_from = similar_from
        self.now = time.time()
        self.virtual_size = Size(max(self.size.width, 1), len(rows))
        self.cursor = min(self.cursor, max(len(rows) - 1, 0))
        self.refresh()
        self.post_message(self.Moved(self.current))

    def show_columns(self, columns: tuple[Column, ...]) -> None:
        """Draw the rows in these columns from now on (the record list's trash filter)."""
        if columns is not self.columns:
            self.columns = columns
            self.refresh()
            for header in self.screen.query(ListHeader):
                header.refresh()

    @property
    def current(self) -> Summary | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def header_segments(self, width: int) -> list[Segment]:
        """The header row over these columns (what ListHeader draws)."""
        segs = [Segment("   ")]
        for i, (col, w) in enumerate(fit_columns(self.columns, width)):
            segs.append(Segment((GAP if i else "") + cells(col.title, w), HEADER))
        return segs

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = y + int(self.scroll_offset.y)
        if index >= len(self.rows):
            return Strip.blank(width)
        s = self.rows[index]
        similar = self.similar_from is not None and index >= self.similar_from
        mark = FAVOURITE if s.favorite else (SIMILAR_MARK if similar else " ")
        base = CONFLICT if s.conflict else (SIMILAR if similar else NORMAL)
        segs = [Segment(f" {mark} ", base)]
        for i, (col, w) in enumerate(fit_columns(self.columns, width)):
            text, style = col.cell(s, self.now)
            if i == 0 and s.conflict:
                text = f"⚠ {text} (conflict)"
            segs.append(Segment(GAP if i else "", base))
            segs.append(
                Segment(cells(text, w), base + style if not (similar or s.conflict) else base)
            )
        if index == self.cursor:
            over = CURSOR if self.has_focus else Style(bold=True)
            segs = [Segment(t, over) for t, _, _ in segs]  # one bar: no type colour in it
        return Strip(segs).adjust_cell_length(width)

    def on_resize(self) -> None:
        for header in self.screen.query(ListHeader):
            header.refresh()

    def watch_cursor(self, old: int, new: int) -> None:
        self.scroll_to_region(Region(0, new, 1, 1), animate=False)
        self.refresh()
        self.post_message(self.Moved(self.current))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(self.size.height - 1, 1))

    def action_jump(self, where: int) -> None:
        if self.rows:
            self.cursor = 0 if where == 0 else len(self.rows) - 1

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Opened(self.current.id))


class ListHeader(Widget):
    """The column names over a RecordList, in the list's own columns."""

    DEFAULT_CSS = "ListHeader { height: 1; }"

    def __init__(self, of: RecordList, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.of = of

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y:
            return Strip.blank(width)
        return Strip(self.of.header_segments(self.of.size.width or width)).adjust_cell_length(width)
