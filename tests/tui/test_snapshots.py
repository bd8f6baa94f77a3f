"""Snapshots of every screen (pytest-textual-snapshot) at 80×24 and 60×18. Data is fixed so screens are stable:
records with fixed times, a fixed Kit payload. Update with `pytest tests/tui --snapshot-update`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tui.app import StrongroomApp
from vault.kdf import KdfParams
from vault.kitcode import KitPayload
from vault.records import Field, Record
from vault.templates import FieldKind
from vault.vault import Vault

PW = "snapshot password"
T0 = 1_700_000_000.0
KIT = KitPayload(
    "ABCDEFGH23", 1, 1, KdfParams(65536, 3, 4), bytes(range(16)), bytes(range(100, 132))
)


def _rec(
    rid: str, type_: str, title: str, fields: list[tuple[str, FieldKind, str]], **kw: Any
) -> Record:
    return Record(
        rid,
        type_,
        title,
        tuple(Field(n, k, v) for n, k, v in fields),
        created=T0,
        modified=T0,
        **kw,
    )


@pytest.fixture(params=[(80, 24), (60, 18)], ids=["80x24", "60x18"])
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    """Every screen at the usual terminal size and at a small one."""
    return request.param  # type: ignore[no-any-return]


#: Screens whose layout changes on wide windows are shot at 160×48 too.
wide = pytest.mark.parametrize(
    "size", [(80, 24), (60, 18), (160, 48)], ids=["80x24", "60x18", "160x48"]
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    v = Vault.create(h, "ann@example.com", PW)
    S, T, U = FieldKind.SECRET, FieldKind.TEXT, FieldKind.URL
    v.add(
        _rec(
            "0000000000000001",
            "login",
            "GitHub",
            [("username", T, "ann"), ("password", S, "hunter2"), ("url", U, "https://github.com")],
            tags=("work",),
            favorite=True,
        )
    )
    v.add(
        _rec(
            "0000000000000002",
            "login",
            "Gmail",
            [("username", T, "ann@gmail.com"), ("password", S, "hunter2")],
        )
    )
    v.add(
        _rec(
            "0000000000000003",
            "credit-card",
            "Visa",
            [("cardholder", T, "Ann Example"), ("number", FieldKind.NUMBER, "4111 1111 1111 1111")],
        )
    )
    v.add(_rec("0000000000000004", "note", "Door codes", [], notes="front 1234"))
    v.close()
    return h


async def _unlocked(pilot: Any) -> None:
    for ch in PW:
        await pilot.press(ch if ch != " " else "space")
    await pilot.press("enter")
    from tui.screens.records import RecordListScreen

    for _ in range(100):
        if isinstance(pilot.app.screen, RecordListScreen):
            break
        await pilot.pause(0.05)
    await pilot.pause(0.2)


async def _on(pilot: Any, screen_type: type) -> None:
    for _ in range(100):
        if isinstance(pilot.app.screen, screen_type):
            return
        await pilot.pause(0.05)


def test_welcome(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(StrongroomApp(home=tmp_path / "none"), terminal_size=size)


async def _typing(pilot: Any) -> None:
    """A form focuses its first field on mount, and the footer then drops the keys that field
    takes (? types a "?", so Help shows as F1): wait for both, under load too. The field's
    cursor stops blinking (hidden), or the picture would depend on the half second it is in."""
    from textual.widgets import Input

    for _ in range(100):
        focused = pilot.app.screen.focused
        if isinstance(focused, Input):
            focused.cursor_blink = False
            break
        await pilot.pause(0.05)
    await pilot.pause(0.2)


def test_sign_up(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Any) -> None:
        await pilot.press("u")
        await _typing(pilot)

    assert snap_compare(StrongroomApp(home=tmp_path / "none"), run_before=run, terminal_size=size)


def test_sign_in(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Any) -> None:
        await pilot.press("i")
        await _typing(pilot)

    assert snap_compare(StrongroomApp(home=tmp_path / "none"), run_before=run, terminal_size=size)


def test_lock(snap_compare: Any, home: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Any) -> None:
        await _typing(pilot)  # the password field's cursor: not caught mid-blink

    assert snap_compare(StrongroomApp(home=home), run_before=run, terminal_size=size)


@wide
def test_record_list(snap_compare: Any, home: Path, size: tuple[int, int]) -> None:
    assert snap_compare(StrongroomApp(home=home), run_before=_unlocked, terminal_size=size)


def test_record_list_filtered(snap_compare: Any, home: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Any) -> None:
        await _unlocked(pilot)
        await pilot.press("t", "down", "down", "enter")  # Login (after All types, Credit Card)
        await pilot.pause(0.3)
        await pilot.press("o")  # by recently changed: same times, so title order within
        await pilot.pause(0.3)

    assert snap_compare(StrongroomApp(home=home), run_before=run, terminal_size=size)


@wide
def test_record_view(snap_compare: Any, home: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Any) -> None:
        await _unlocked(pilot)
        await pilot.press("down", "down", "enter")
        await pilot.pause(0.2)

    assert snap_compare(StrongroomApp(home=home), run_before=run, terminal_size=size)


def test_record_edit(snap_compare: Any, home: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Any) -> None:
        await _unlocked(pilot)
        await pilot.press("down", "down", "enter")
        from tui.screens.records import EditRecordScreen, RecordDetailScreen

        await _on(
            pilot, RecordDetailScreen
        )  # under load the screen may take longer than a fixed pause
        await pilot.press("e")
        await _on(pilot, EditRecordScreen)
        await _typing(pilot)

    assert snap_compare(StrongroomApp(home=home), run_before=run, terminal_size=size)


def test_record_edit_unsaved(snap_compare: Any, home: Path, size: tuple[int, int]) -> None:
    """Esc on a changed form: save, discard or keep editing."""

    async def run(pilot: Any) -> None:
        await _unlocked(pilot)
        await pilot.press("down", "down", "enter")
        from tui.screens.records import EditRecordScreen, RecordDetailScreen, UnsavedChangesScreen

        await _on(pilot, RecordDetailScreen)
        await pilot.press("e")
        await _on(pilot, EditRecordScreen)
        await _typing(pilot)
        await pilot.press("end", "x", "escape")
        await _on(pilot, UnsavedChangesScreen)
        await pilot.pause(0.2)

    assert snap_compare(StrongroomApp(home=home), run_before=run, terminal_size=size)


@wide
def test_security_center(snap_compare: Any, home: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Any) -> None:
        await _unlocked(pilot)
        await pilot.press("s")
        await pilot.pause(1.0)

    assert snap_compare(StrongroomApp(home=home), run_before=run, terminal_size=size)


def test_help(snap_compare: Any, home: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Any) -> None:
        await _unlocked(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)

    assert snap_compare(StrongroomApp(home=home), run_before=run, terminal_size=size)


def test_kit(snap_compare: Any, home: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Any) -> None:
        from tui.screens.account import KitScreen

        await _unlocked(pilot)
        pilot.app.push_screen(
            KitScreen(KIT, [Path("/home/ann/Strongroom-Authentication-Kit-ABCDEFGH23.pdf")])
        )
        await pilot.pause(0.2)

    assert snap_compare(StrongroomApp(home=home), run_before=run, terminal_size=size)
