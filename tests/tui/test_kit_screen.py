"""The Kit screen at the sizes people use: the whole QR shows at 80×24; at 60×18 the screen says
how big the window must be and scrolls to the typed code; the code is laid out in rows of whole
groups (never split inside a group), the same rows as the PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilotkit import until
from textual.widgets import Static

from tui.app import StrongroomApp
from tui.screens.account import KitScreen, kit_window_size
from tui.widgets.kit_qr import KitQR
from vault.kdf import KdfParams
from vault.kitcode import GROUP, ROW_GROUPS, KitPayload

KIT = KitPayload(
    "ABCDEFGH23", 1, 1, KdfParams(65536, 3, 4), bytes(range(16)), bytes(range(100, 132))
)


def test_typed_code_rows_hold_whole_groups() -> None:
    rows = KIT.typed_code_rows()
    assert "-".join(rows) == KIT.to_typed_code()
    for row in rows:
        groups = row.split("-")
        assert len(groups) <= ROW_GROUPS
        assert all(len(g) == GROUP for g in groups[:-1])
    assert all(len(r.split("-")) == ROW_GROUPS for r in rows[:-1])


def _visible(screen: KitScreen, widget: Static | KitQR) -> bool:
    """The widget's whole region lies inside the scroll view's window on the screen."""
    window = screen.query_one("#kit-scroll").content_region
    region = widget.region
    return region.height > 0 and window.contains_region(region)


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_the_whole_qr_shows_where_it_fits(tmp_path: Path, size: tuple[int, int]) -> None:
    app = StrongroomApp(home=tmp_path / "none")
    async with app.run_test(size=size) as pilot:
        app.push_screen(KitScreen(KIT, [tmp_path / "Kit.pdf"]))
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, KitScreen)
        qr = screen.query_one(KitQR)
        code = screen.query_one("#code", Static)
        # the width breakpoint's class lands first and the new layout a refresh later: on a
        # loaded machine that can take longer than one pause
        await until(pilot, lambda: _visible(screen, code) and _visible(screen, qr), 5, "layout")
        assert qr.size.height == len(qr.lines) == 21
        assert _visible(screen, qr), "the QR's quiet zone is cut"
        assert not screen.has_class("-too-small")
        assert screen.query_one("#too-small").display is False
        assert _visible(screen, code)
        # every row of groups on a line of its own, never wrapped inside a group
        assert code.size.height == 1 + len(KIT.typed_code_rows())
        assert code.region.x > qr.region.right  # beside the QR


async def test_a_small_window_says_how_big_it_must_be_and_scrolls(tmp_path: Path) -> None:
    app = StrongroomApp(home=tmp_path / "none")
    async with app.run_test(size=(60, 18)) as pilot:
        app.push_screen(KitScreen(KIT, [tmp_path / "Kit.pdf"], first_time=True))
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, KitScreen)
        need = kit_window_size(screen.query_one(KitQR).lines)
        assert need == (42, 23)
        warning = screen.query_one("#too-small", Static)
        await until(pilot, lambda: _visible(screen, warning), 5, "the warning's layout")
        assert warning.display and _visible(screen, warning)
        assert "too small for a scannable QR code" in str(warning.render())
        assert "42×23" in str(warning.render())
        code = screen.query_one("#code", Static)
        assert code.size.height == 1 + len(KIT.typed_code_rows())  # rows of whole groups
        assert code.region.y > screen.query_one(KitQR).region.bottom - 1  # under the QR
        assert not _visible(screen, code)
        await pilot.press("end")  # the scroll view has the focus: keys scroll it
        await until(pilot, lambda: _visible(screen, code), 5, "the code scrolled into view")
        press_y = screen.query("#kit-text Static").last()
        assert "Press y" in str(press_y.render()) and _visible(screen, press_y)
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: not screen.has_class("-too-small"), 5, "the warning gone")
