"""An Input that completes filesystem paths as you type (Kit files, sync folders, import files).

`PathInput` shows the completion greyed after the cursor; → (at the end) or tab accepts it, and
tab with nothing to accept moves to the next field as usual. `complete_path` is the pure part,
shell-like: a single match completes fully (a folder gets its trailing "/"), several matches
complete to their common prefix, and when that adds nothing the first match (sorted) is offered
so the user sees what is there. Picking a file, "folder/" leads on to its only entry; picking a
folder (`dirs_only`), "folder/" is an answer: tab then moves on instead of descending into it. Listing a folder runs in a thread: a slow network share or a
huge folder never freezes the screen.

A key that is not text (Tab, →, Enter) waits for the completion of what is typed before it
acts, so Tab right after typing completes what the field will show instead of moving on with
the prefix (the completion would otherwise arrive after the focus left).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path

from textual import events
from textual.suggester import Suggester
from textual.widgets import Input

from ..actions import scope

MAX_ENTRIES = 10_000
"""A folder with more entries than this gets no suggestion (listing it would take too long)."""


def _candidates(
    folder: Path, partial: str, dirs_only: bool, suffixes: tuple[str, ...]
) -> list[str]:
    """Names in `folder` starting with `partial` that fit; folders end with "/"."""
    show_hidden = partial.startswith(".")
    found: list[str] = []
    try:
        with os.scandir(folder) as it:
            for count, entry in enumerate(it):
                if count >= MAX_ENTRIES:
                    return []
                name = entry.name
                if not name.startswith(partial) or (name.startswith(".") and not show_hidden):
                    continue
                try:
                    is_dir = entry.is_dir()  # follows symlinks, as a shell does
                except OSError:
                    continue
                if is_dir:
                    found.append(name + "/")
                elif not dirs_only and (not suffixes or name.lower().endswith(suffixes)):
                    found.append(name)
    except OSError:  # missing, unreadable, or not a folder: nothing to offer
        return []
    return sorted(found)


def complete_path(
    value: str, *, dirs_only: bool = False, suffixes: Iterable[str] = ()
) -> str | None:
    """The completed path for what was typed so far, starting with `value` exactly; None if none.

    `~` stays as typed (the suggestion must extend the text on screen); relative paths are
    relative to the working directory. `suffixes` (".png", …) keeps only such files; folders are
    always offered because the file may be inside.
    """
    if not value:
        return None
    if value == "~":
        return "~/" if Path("~").expanduser().is_dir() else None
    head, sep, partial = value.rpartition("/")
    if not partial and dirs_only:
        return None  # choosing a folder: "folder/" is an answer, tab moves on (a sync folder has one subfolder)
    folder = Path((head or "/") if sep else ".").expanduser()
    names = _candidates(folder, partial, dirs_only, tuple(s.lower() for s in suffixes))
    if not names:
        return None
    if len(names) == 1:
        completion = names[0]
    else:
        completion = os.path.commonprefix(names)
        if len(completion) <= len(partial):
            if not partial:
                return None  # a bare "folder/" lists too much to guess from
            completion = names[0]
    suggestion = value[: len(value) - len(partial)] + completion
    return suggestion if len(suggestion) > len(value) else None


class PathSuggester(Suggester):
    """Textual suggester over the filesystem; no cache, since folders change while we type."""

    def __init__(self, *, dirs_only: bool = False, suffixes: Iterable[str] = ()) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.dirs_only = dirs_only
        self.suffixes = tuple(suffixes)

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(
            complete_path, value, dirs_only=self.dirs_only, suffixes=self.suffixes
        )


class PathInput(Input):
    """A path field: completion shown after the cursor, → or tab accepts it."""

    BINDINGS = scope("path")

    def __init__(
        self,
        value: str = "",
        placeholder: str = "",
        *,
        id: str | None = None,  # noqa: A002
        dirs_only: bool = False,
        suffixes: Iterable[str] = (),
        disabled: bool = False,
    ) -> None:
        super().__init__(
            value,
            placeholder=placeholder,
            id=id,
            disabled=disabled,
            suggester=PathSuggester(dirs_only=dirs_only, suffixes=suffixes),
        )

    async def _on_key(self, event: events.Key) -> None:
        """Before a key that is not text is handled (here, then by the bindings), the
        completion of the current value is there: computed now if Textual's suggestion worker
        has not delivered it yet. Keys after it wait meanwhile (tui/typeahead.py)."""
        if event.is_printable or not self.value or self.completion or not self.cursor_at_end:
            return
        assert isinstance(self.suggester, PathSuggester)
        value = self.value
        suggestion = await self.suggester.get_suggestion(value)
        if suggestion and self.value == value:
            self._suggestion = suggestion

    @property
    def completion(self) -> str:
        """The completion on offer right now ('' when none)."""
        suggestion = self._suggestion  # Textual keeps the current suggestion here
        return (
            suggestion
            if len(suggestion) > len(self.value) and suggestion.startswith(self.value)
            else ""
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Tab completes only when there is something to accept; otherwise it moves focus as usual."""
        if action == "accept_completion":
            return bool(self.completion) and self.cursor_at_end
        return super().check_action(action, parameters)

    def action_accept_completion(self) -> None:
        self.value = self.completion
        self.cursor_position = len(self.value)
