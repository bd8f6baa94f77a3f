"""The help screen: every key of every screen, read from the bindings themselves.

It walks every screen and widget class of the app that declares `BINDINGS`, applies the user's
keymap to them as Textual does, and lists them by the registry's scopes. A new screen's keys
show up here without anyone writing help text; a binding without an id still shows (under its
class name), so nothing is ever left out.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ..actions import ACTIONS, SCOPES, bindings, bound_classes
from ..app_access import strongroom_app
from ..keymap import key_label

NOTE = (
    "Copies clear themselves from the clipboard after the configured seconds; the app locks "
    "itself after the configured idle minutes. Keys can be changed in the settings file's "
    "[keymap] table (action id = key); the ids are the right-hand column."
)


@dataclass(frozen=True)
class HelpRow:
    keys: tuple[str, ...]
    text: str
    action_id: str | None


def help_sections(
    keymap: dict[str, str], first: Collection[str] = ()
) -> list[tuple[str, list[HelpRow]]]:
    """(title, rows) for every binding of every class, keys as the keymap makes them; the
    scopes in `first` (the screen the help was opened on) come first, then the registry's order."""
    rows: dict[str, HelpRow] = {}  # by action id (or class and action when there is no id)
    scope_of: dict[str, str] = {}
    for cls in bound_classes():
        declared = cls.__dict__["BINDINGS"]
        found = BindingsMap(declared)
        found.apply_keymap(keymap)
        keys_of: dict[str, list[str]] = {}
        bound: dict[str, Binding] = {}
        for key, b in found:
            if not b.system:
                ident = b.id or f"{cls.__name__}:{b.action}"
                keys_of.setdefault(ident, []).append(key)
                bound.setdefault(ident, b)
        # in the order the class declares them (Textual groups bindings by key: two actions of
        # one key, such as d for the trash and back to the records, would come out together)
        position = {getattr(b, "id", None): i for i, b in enumerate(declared)}
        for ident, b in sorted(bound.items(), key=lambda kv: position.get(kv[0], len(position))):
            action = ACTIONS.get(b.id or "")
            if ident not in rows:
                text = action.text if action else b.description or b.action
                rows[ident] = HelpRow(tuple(key_label(k) for k in keys_of[ident]), text, b.id)
                scope_of[ident] = action.scope if action else cls.__name__
    order = [s for s in SCOPES if s in first] + [s for s in SCOPES if s not in first]
    sections: dict[str, list[HelpRow]] = {}
    for ident, row in rows.items():
        sections.setdefault(scope_of[ident], []).append(row)
    ranked = sorted(sections, key=lambda s: order.index(s) if s in order else len(order))
    return [(SCOPES.get(s, s), sections[s]) for s in ranked]


#: Below this inner width the action ids go under what the keys do, not in a column of their own.
WIDE_HELP = 66
KEYS_WIDTH = 13


def section_text(title: str, rows: list[HelpRow], width: int = 92) -> Table:
    """A section as aligned columns: keys, what they do (wrapped in its column, never under the
    keys), the action id a keymap names (under the text when the window is narrow)."""
    table = Table.grid(padding=(0, 1))
    table.title, table.title_justify, table.title_style = title, "left", "bold"
    wide = width >= WIDE_HELP
    ids = 24 if wide else 0  # the longest action id, and a space
    table.add_column(no_wrap=True, style="bold", width=KEYS_WIDTH)
    table.add_column(width=max(width - KEYS_WIDTH - 1 - ids, 16))
    if wide:
        table.add_column(no_wrap=True, style="dim")
    for row in rows:
        keys = Text("/".join(row.keys))
        text = Text(row.text)
        if wide:
            table.add_row(keys, text, row.action_id or "")
        else:
            if row.action_id:
                text.append(f"\n{row.action_id}", style="dim")
            table.add_row(keys, text)
    return table


class HelpScreen(ModalScreen[None]):
    """Opened from `here`: that screen's keys come first."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help { width: 100%; max-width: 96; height: 90%; border: thick $accent; background: $surface;
                       padding: 0 2; }
    HelpScreen #help Static { margin-bottom: 1; }
    HelpScreen #help-note { color: $text-muted; }
    """
    BINDINGS = bindings("help.close")

    def __init__(self, here: Screen[Any] | None = None) -> None:
        super().__init__()
        self.here = {
            ACTIONS[b.binding.id].scope
            for b in (here.active_bindings.values() if here is not None else ())
            if b.binding.id in ACTIONS and not b.binding.id.startswith("app.")
        }

    def compose(self) -> ComposeResult:
        keymap = strongroom_app(self).user_keymap.keys
        with VerticalScroll(id="help"):
            yield Static(
                "[b]Strongroom keys[/b] — this screen's first · ↑↓ PgUp PgDn scroll · Esc closes"
            )
            width = min(self.app.size.width, 96) - 8  # the border and the padding
            for title, rows in help_sections(keymap, self.here):
                yield Static(section_text(title, rows, width))
            yield Static(NOTE, id="help-note", markup=False)
