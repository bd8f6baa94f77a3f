"""The edit form's custom fields: the rows beyond the record's template, each a name and a value.

Fields can be added (a new row, empty name first), renamed (edit the name), moved up and down,
and concealed or shown as plain text; a row whose value is empty is dropped on save. The widget
keeps the rows' order and kinds; the screen's keys (tui/actions.py `edit.*`) call its methods.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input

from vault.records import Field
from vault.templates import FieldKind

from ..widgets.secret_input import SecretInput


def field_input(value: str, widget_id: str, kind: FieldKind, *, masked: bool = False) -> Input:
    """A form row: concealed kinds (passwords, PINs, TOTP secrets) and `masked` template fields
    (a card's number) get a SecretInput, shown on request (ctrl+r)."""
    if kind.concealed or masked:
        return SecretInput(value=value, id=widget_id)
    return Input(value=value, id=widget_id)


class CustomFields(Vertical):
    DEFAULT_CSS = """
    CustomFields { height: auto; }
    CustomFields .custom-row { height: auto; }
    CustomFields .custom-name { width: 24; }
    CustomFields .custom-row > Input { width: 1fr; }
    CustomFields .custom-row > .custom-name { width: 24; }
    """

    def __init__(self, fields: list[Field], *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._fields = list(fields)

    def compose(self) -> ComposeResult:
        for i, f in enumerate(self._fields):
            yield self._row(i, f)

    @staticmethod
    def _row(i: int, f: Field) -> Horizontal:
        name = Input(f.name, id=f"xn-{i}", classes="custom-name", placeholder="field name")
        return Horizontal(name, field_input(f.value, f"x-{i}", f.kind), classes="custom-row")

    def fields(self) -> list[Field]:
        """The rows as they are now (names and values as typed), in order."""
        out = []
        for i, f in enumerate(self._fields):
            name = self.query_one(f"#xn-{i}", Input).value
            value = self.query_one(f"#x-{i}", Input).value
            out.append(Field(name, f.kind, value))
        return out

    def focused_row(self) -> int | None:
        focused = self.screen.focused
        if focused is None or focused.parent is None or focused.parent.parent is not self:
            return None
        ident = focused.id or ""
        return int(ident.rsplit("-", 1)[1]) if ident.startswith(("x-", "xn-")) else None

    async def _redraw(self, fields: list[Field], focus: str) -> None:
        self._fields = fields
        await self.remove_children()
        await self.mount_all([self._row(i, f) for i, f in enumerate(fields)])
        self.screen.query_one(f"#{focus}", Input).focus()

    async def add(self) -> None:
        fields = [*self.fields(), Field("", FieldKind.TEXT, "")]
        await self._redraw(fields, f"xn-{len(fields) - 1}")

    async def move(self, delta: int) -> bool:
        """Move the focused row up (-1) or down (+1); False when there is none or no room."""
        i = self.focused_row()
        if i is None or not 0 <= i + delta < len(self._fields):
            return False
        focused = self.screen.focused
        part = "xn" if focused is not None and str(focused.id).startswith("xn-") else "x"
        fields = self.fields()
        fields[i], fields[i + delta] = fields[i + delta], fields[i]
        await self._redraw(fields, f"{part}-{i + delta}")
        return True

    async def toggle_conceal(self) -> bool | None:
        """Conceal the focused row's value, or show it as text; its new state, None: no row."""
        i = self.focused_row()
        if i is None:
            return None
        fields = self.fields()
        f = fields[i]
        kind = FieldKind.TEXT if f.kind.concealed else FieldKind.SECRET
        fields[i] = Field(f.name, kind, f.value)
        await self._redraw(fields, f"x-{i}")
        return kind.concealed
