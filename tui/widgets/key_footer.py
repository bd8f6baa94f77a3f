"""The footer every screen shows: Textual's, compact, and fitted to the window.

Textual's footer lays the keys out in one row and lets the last ones fall off the edge, so on a
narrow window Help and Quit were the first to go. This one keeps Help and Quit (and Lock where
it applies) always, drops the screen's least important keys first (the last ones it declares:
the help screen lists them all), shows each label once (the welcome screen's `q Quit` and the
app's `ctrl+q Quit` are one entry) and shows the palette key only when there is room. A screen
may leave some of its keys out for a while (`footer_leaves_out`: the record list's trash filter
does not offer New), while the keys themselves still answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: Actions whose keys always show (the app's own: help, quit, lock).
KEPT = ("help", "quit", "lock")


def key_width(key: FooterKey) -> int:
    """Cells a compact footer key takes: key, space, label, and its right margin."""
    return cell_len(key.key_display) + (1 + cell_len(key.description) if key.description else 0) + 1


def fitted(keys: list[FooterKey], width: int) -> list[FooterKey]:
    """The keys that fit in `width` cells, in their order: the kept ones always, then the
    screen's in its order; the palette key (docked right) last, only if it fits too."""
    palette = [k for k in keys if k.has_class("-command-palette")]
    seen: set[str] = set()
    plain: list[FooterKey] = []
    for k in keys:
        if k in palette or (k.description and k.description in seen):
            continue
        seen.add(k.description)
        plain.append(k)
    kept = [k for k in plain if k.action in KEPT]
    room = width - 1 - sum(key_width(k) for k in kept)
    chosen: set[int] = {id(k) for k in kept}
    for k in plain:
        if id(k) not in chosen and key_width(k) <= room:
            chosen.add(id(k))
            room -= key_width(k)
        elif id(k) not in chosen:
            room = -1  # keep the screen's order: nothing after a key that did not fit
    out = [k for k in plain if id(k) in chosen]
    if palette and sum(key_width(k) for k in palette) + 2 <= max(room, 0):
        out += palette
    return out


class KeyFooter(Footer):
    """Compact, fitted to the width (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._width = 0

    def compose(self) -> ComposeResult:
        made: Iterable[Widget] = list(super().compose())
        keys = [w for w in made if isinstance(w, FooterKey)]
        if len(keys) != len(list(made)):  # binding groups: leave Textual's layout alone
            yield from made
            return
        leaves_out = getattr(self.screen, "footer_leaves_out", None)
        out = set(leaves_out()) if callable(leaves_out) else set()
        keys = [k for k in keys if k.action not in out]
        yield from fitted(keys, self.size.width or self.app.size.width)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:
            self._width = event.size.width
            self.call_after_refresh(self.recompose)
