"""Record data drawn safely: wide characters keep the list's columns, control characters never
reach the terminal, brackets in names are text (not markup), and only visible rows are drawn."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pilotkit import unlock
from rich.cells import cell_len
from textual.app import App, ComposeResult

from tui.app import StrongroomApp
from tui.screens.records import EditRecordScreen, RecordDetailScreen, RecordListScreen
from tui.widgets.record_list import RecordList
from vault.index import Summary
from vault.records import Field, new_record
from vault.templates import FieldKind
from vault.vault import Vault

PW = "display test password"
EVIL = "\x1b]52;c;aGVsbG8=\x07\x1b[2J\u202e"  # set the clipboard, clear the screen, reverse


def _row(i: int, title: str, user: str = "ann") -> Summary:
    return Summary(f"id{i:06d}", title, "login", user, None, (), False, 0.0, False)


class Counting(RecordList):
    calls = 0

    def render_line(self, y: int):  # type: ignore[no-untyped-def]
        Counting.calls += 1
        return super().render_line(y)


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Counting(id="records")


async def test_wide_titles_keep_columns_and_control_codes_are_not_drawn() -> None:
    app = ListApp()
    async with app.run_test(size=(100, 10)) as pilot:
        lst = app.query_one(Counting)
        lst.set_rows(
            [
                _row(0, "GitHub"),
                _row(1, "日本語のタイトル🔐"),
                _row(2, "evil" + EVIL, user="x" + EVIL),
            ]
        )
        await pilot.pause()
        lines = [lst.render_line(y).text for y in range(3)]
        assert all(cell_len(t) == lst.size.width for t in lines)
        starts = {cell_len(t[: t.index("Login")]) for t in lines}
        assert len(starts) == 1, "the type column starts at the same cell on every row"
        assert not any(ch in t for t in lines for ch in "\x1b\x07\u202e")
        assert "evil\\x1b]52" in lines[2], "shown as a visible escape, as the CLI shows it"


async def test_only_visible_rows_are_drawn_at_100000_records() -> None:
    app = ListApp()
    async with app.run_test(size=(100, 30)) as pilot:
        lst = app.query_one(Counting)
        Counting.calls = 0
        lst.set_rows([_row(i, f"Record {i:06d}") for i in range(100_000)])
        lst.focus()
        await pilot.press("end")
        await pilot.pause()
        assert (
            lst.cursor == 99_999
            and lst.current is not None
            and lst.current.title == "Record 099999"
        )
        assert Counting.calls < 500  # a few screens' worth, never one per record


async def test_odd_names_and_escapes_in_a_record_are_shown_as_text(home: Path) -> None:
    v = Vault.create(home, "ann@example.com", PW)
    rec = new_record(
        "login",
        "[b]Bank [old" + EVIL,
        {"username": "ann[/]", "password": "p[ss" + EVIL},
        notes="line 1\nline 2 [/b]" + EVIL,
    )
    v.add(replace(rec, fields=rec.fields + (Field("[/b]odd name", FieldKind.TEXT, "[red]x"),)))
    v.close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, PW)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, RecordDetailScreen)
        await pilot.press("r")
        text = str(app.screen.query_one("#detail").render())
        assert (
            "[b]Bank" in text and "[/b]odd name" in text and "[red]x" in text and "ann[/]" in text
        )
        assert "line 1\n  line 2 [/b]" in text and "\x1b" not in text and "\x07" not in text
        await pilot.press("e")
        await pilot.pause(0.2)
        assert isinstance(app.screen, EditRecordScreen)  # the odd field name did not break the form


async def test_a_title_with_a_closing_tag_can_be_edited_and_deleted(home: Path) -> None:
    v = Vault.create(home, "ann@example.com", PW)
    v.add(new_record("login", "Bank [/b]", {"username": "ann"}))
    v.close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, PW)
        await pilot.press("enter", "e")
        await pilot.pause(0.2)
        await pilot.press("ctrl+s")  # the "Saved “Bank [/b]”" notification
        await pilot.pause(0.2)
        await pilot.press("d")  # the confirmation quotes the title
        await pilot.pause(0.2)
        assert "Bank [/b]" in str(app.screen.query_one("Static").render())
        await pilot.press("y")
        await pilot.pause(0.3)
        assert isinstance(app.screen, RecordListScreen) and app.is_running
    v = Vault.open(home)
    v.unlock(PW)
    assert v.summaries() == []
