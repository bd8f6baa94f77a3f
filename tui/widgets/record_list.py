"""The record list: a virtual list that renders only the visible rows (fast at 100,000 records).

Built like toolong's log view: a ScrollView whose virtual height is the row count, and
`render_line` that draws one row on demand. Built-in lists take seconds at this size.
"""

from __future__ import annotations

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from runtime.safe_text import printable
from vault.index import Summary

from ..actions import scope

NORMAL = Style()
CURSOR = Style(reverse=True, bold=True)
CONFLICT = Style(color="yellow")
SIMILAR = Style(dim=True)


def cells(text: str, width: int) -> str:
    """Exactly `width` terminal cells (wide CJK/emoji characters count double), control codes removed."""
    return set_cell_size(printable(text), width)


class RecordList(ScrollView, can_focus=True):
    BINDINGS = scope("list")
    cursor: reactive[int] = reactive(0)

    class Opened(Message):
        def __init__(self, record_id: str) -> None:
            super().__init__()
            self.record_id = record_id

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.rows: list[Summary] = []
        self.similar_from: int | None = None

    def set_rows(self, rows: list[Summary], *, similar_from: int | None = None) -> None:
        """`similar_from`: rows from there on are fuzzy matches, drawn dim and marked ≈."""
        self.rows = rows
        self.similar_from = similar_from
        self.virtual_size = Size(max(self.size.width, 1), len(rows))
        self.cursor = min(self.cursor, max(len(rows) - 1, 0))
        self.refresh()

    @property
    def current(self) -> Summary | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = y + int(self.scroll_offset.y)
        if index >= len(self.rows):
            return Strip.blank(width)
        s = self.rows[index]
        similar = self.similar_from is not None and index >= self.similar_from
        star = "★" if s.favorite else ("≈" if similar else " ")
        flag = " ⚠ conflict" if s.conflict else ""
        text = f" {star} {cells(s.title, 40)}  {cells(s.type, 16)}  {cells(s.username or '', 28)}{flag}"
        style = (
            CURSOR
            if index == self.cursor and self.has_focus
            else (
                Style(bold=True)
                if index == self.cursor
                else (CONFLICT if s.conflict else (SIMILAR if similar else NORMAL))
            )
        )
        return Strip([Segment(set_cell_size(text, width), style)], width)

    def watch_cursor(self, old: int, new: int) -> None:
        self.scroll_to_region(Region(0, new, 1, 1), animate=False)
        self.refresh()

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
