"""The terminal-drawn QR decodes to the Kit payload (rasterised from the widget's own cells, with its
colours), and the UI keeps running while Argon2id derives the keys in a worker."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw
from pilotkit import until
from textual.geometry import Region

from tui.app import StrongroomApp
from tui.screens.account import KitScreen, LockScreen
from tui.screens.records import RecordListScreen
from tui.widgets.kit_qr import KitQR
from vault import kdf
from vault.kitfile import decode_image
from vault.vault import Vault

PW = "qr widget password"


def _rasterise(cells: list[list[tuple[str, bool]]], cell: int = 6) -> Image.Image:
    """Each terminal cell = one module wide, two tall; the glyph's halves in the cell's foreground."""
    width = max(len(r) for r in cells)
    img = Image.new("L", ((width + 8) * cell, (len(cells) * 2 + 8) * cell), 255)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(cells):
        for x, (ch, fg_dark) in enumerate(row):
            for half, on in ((0, ch in "▀█"), (1, ch in "▄█")):
                if on and fg_dark:
                    x0, y0 = (x + 4) * cell, (2 * y + half + 8) * cell
                    draw.rectangle((x0, y0, x0 + cell - 1, y0 + cell - 1), fill=0)
    return img


async def test_terminal_qr_widget_decodes_to_the_kit(tmp_path: Path) -> None:
    vault = Vault.create(tmp_path / "home", "qr@example.com", PW)
    app = StrongroomApp(home=tmp_path / "home")
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(KitScreen(vault.slot.kit, []))
        await pilot.pause(0.2)
        qr = app.screen.query_one(KitQR)
        assert qr.size.height <= 21 and qr.size.width <= 80
        strips = qr.render_lines(Region(0, 0, qr.size.width, qr.size.height))
        cells: list[list[tuple[str, bool]]] = []
        for strip in strips:
            row: list[tuple[str, bool]] = []
            for seg in strip:
                style = seg.style
                assert style is not None and style.color is not None and style.bgcolor is not None
                fg, bg = style.color.get_truecolor(), style.bgcolor.get_truecolor()
                assert (tuple(fg), tuple(bg)) == ((0, 0, 0), (255, 255, 255)), (
                    "QR must be dark on light"
                )
                row += [(ch, True) for ch in seg.text]
            cells.append(row)
        assert decode_image(_rasterise(cells)) == [vault.slot.kit.to_qr_text()]


async def test_ui_keeps_ticking_while_the_kdf_runs(tmp_path: Path) -> None:
    Vault.create(tmp_path / "home", "slow@example.com", PW, params=kdf.PRODUCTION).close()
    app = StrongroomApp(home=tmp_path / "home")
    ticks: list[int] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.1)
        assert isinstance(app.screen, LockScreen)
        app.set_interval(0.01, lambda: ticks.append(1))
        for ch in PW:
            await pilot.press(ch if ch != " " else "space")
        before = len(ticks)
        await pilot.press("enter")
        # the production KDF takes about a second alone and several on a loaded machine
        await until(pilot, lambda: isinstance(app.screen, RecordListScreen), 60, "the records")
        assert len(ticks) - before >= 5, "the timer stalled while Argon2id ran"
