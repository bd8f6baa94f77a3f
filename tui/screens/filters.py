"""The record list's filter picker (type, tag) and its command-palette entries (the trash too)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static

from runtime.safe_text import printable
from vault.words import plural

from ..actions import bindings


class PickScreen(ModalScreen[str | None]):
    """Choose one value with ↑↓ and Enter. Dismisses with the value, "" for the first choice
    ("all"), or None on Esc (keep the current filter)."""

    DEFAULT_CSS = """
    PickScreen { align: center middle; }
    PickScreen OptionList { height: auto; max-height: 20; margin-top: 1; }
    """
    BINDINGS = bindings("dialog.cancel")

    def __init__(
        self, title: str, everything: str, choices: list[tuple[str, str, int]], current: str | None
    ) -> None:
        """`choices`: (value, label, records). Labels are user data: shown as text, never markup."""
        super().__init__()
        self.title_text = title
        self.values = [""] + [value for value, _, _ in choices]
        self.prompts = [Text(everything)] + [
            Text(f"{printable(label)}  ({n:,})") for _, label, n in choices
        ]
        self.current = current or ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text, style="bold"))
            yield OptionList(*self.prompts, id="choices")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.values.index(self.current) if self.current in self.values else 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.values[event.option_index])


class ListCommands(Provider):
    """Filters and sort of the record list in the command palette (ctrl+p)."""

    def _commands(self) -> list[tuple[str, str, Any]]:
        from ..app_access import strongroom_app
        from .records import RecordListScreen

        screen = self.screen
        if not isinstance(screen, RecordListScreen):
            return []
        app = strongroom_app(self)

        def hint(text: str, action_id: str) -> str:
            return app.with_key(text, action_id, screen)

        trash = screen.filters.trash
        cmds: list[tuple[str, str, Any]] = []
        if trash:  # the trash filter's own commands first
            cmds += [
                (
                    "Restore the chosen record",
                    hint("Back from the trash with its history and files", "trash.restore"),
                    screen.action_restore,
                ),
                (
                    "Empty the trash…",
                    hint("Purge every record in the trash now, on every device", "trash.empty"),
                    screen.action_empty,
                ),
                (
                    "Show the records",
                    hint("Leave the trash: back to the records", "trash.leave"),
                    screen.action_leave_trash,
                ),
            ]
        cmds += [
            (
                "Filter by type…",
                hint("Show one kind of record", "records.type"),
                screen.action_pick_type,
            ),
            (
                "Filter by tag…",
                hint("Show records with one tag", "records.tag"),
                screen.action_pick_tag,
            ),
            (
                "Favourites only",
                hint("Show only favourites, or all again", "records.favorites"),
                screen.action_favorites,
            ),
            (
                "Clear filters",
                hint("Show every record", "records.clear_filters"),
                screen.action_clear_filters,
            ),
        ]
        for sort_key, name in screen.filters.sorts.items():
            cmds.append(
                (
                    f"Sort by {name}",
                    hint("Order of the record list; this key cycles", "records.sort"),
                    lambda k=sort_key: screen.sort_by(k),
                )
            )
        if not trash:
            cmds.append(
                (
                    "Show the trash",
                    hint(
                        "Deleted records, in this list: restore one with its history",
                        "records.trash",
                    ),
                    screen.action_trash,
                )
            )
        index = screen.index_of(screen.filters)
        if index is not None:
            for key, n in index.type_counts():
                cmds.append(
                    (
                        f"Show type: {screen.type_name(key)}",
                        plural("record", n),
                        lambda k=key: screen.set_type(k),
                    )
                )
            for tag, n in index.tag_counts()[:500]:
                cmds.append(
                    (
                        f"Show tag: {printable(tag)}",
                        plural("record", n),
                        lambda t=tag: screen.set_tag(t),
                    )
                )
        return cmds

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            if name.startswith(("Show type: ", "Show tag: ")):
                break  # the filters, sorts and trash commands; types and tags when searched
            yield DiscoveryHit(Text(name), callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


#: At most this many records are offered for one palette query.
PALETTE_RECORDS = 20


class RecordCommands(Provider):
    """Records by title in the command palette (ctrl+p): choosing one opens it. Found through the
    list's search index (the same matching as the search field), never by decrypting more."""

    async def search(self, query: str) -> Hits:
        from .records import RecordDetailScreen, RecordListScreen

        screen = self.screen
        if not isinstance(screen, RecordListScreen) or screen.index is None or not query.strip():
            return
        matcher = self.matcher(query)
        app = self.app
        for rank, row in enumerate(screen.index.search(query)[:PALETTE_RECORDS]):
            title = printable(row.title)
            score = max(matcher.match(title), 1.0 - rank / (PALETTE_RECORDS + 1))

            def open_it(rid: str = row.id) -> None:
                app.push_screen(RecordDetailScreen(rid))

            yield Hit(
                score,
                matcher.highlight(title),
                open_it,
                text=f"Open {title}",
                help=f"Open this record ({screen.type_name(row.type)})",
            )
