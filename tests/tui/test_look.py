"""The look (issue 20, items 16-18): aligned list columns under a header, type colours, a card's
last four digits; list and record side by side from 120 columns with a visible focus; the record
view's label column, human dates (full on t) and TOTP bar; the Security Center's whole reason
and its action."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pilotkit import on_screen, unlock, until
from textual.widgets import Input, Static

from tui.app import StrongroomApp
from tui.humantime import ago
from tui.screens.records import (
    EditRecordScreen,
    RecordDetailScreen,
    RecordListScreen,
    SecurityCenterScreen,
)
from tui.widgets.record_list import ListHeader, RecordList
from vault.records import new_record
from vault.vault import Vault

PW = "look password"
DAY = 86400.0


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    v = Vault.create(h, "ann@example.com", PW)
    v.add(
        new_record(
            "login",
            "GitHub",
            {"username": "ann", "password": "a strong one 9!x", "totp": "JBSWY3DPEHPK3PXP"},
            favorite=True,
        )
    )
    v.add(new_record("login", "Gmail", {"username": "ann@gmail.com", "password": "password"}))
    v.add(
        new_record(
            "credit-card", "Visa", {"cardholder": "Ann Example", "number": "4111 1111 1111 1234"}
        )
    )
    v.close()
    return h


def lines(widget: RecordList | ListHeader | Static) -> list[str]:
    return [s.text for s in widget.render_lines(widget.region.reset_offset)]


def test_ago_reads_as_people_say_it() -> None:
    now = 1_800_000_000.0
    assert ago(now - 5, now) == "just now"
    assert ago(now + 60, now) == "just now"  # a clock ahead
    assert ago(now - 60, now) == "1 minute ago"
    assert ago(now - 3 * 3600, now) == "3 hours ago"
    assert ago(now - 1.5 * DAY, now) == "yesterday"
    assert ago(now - 3 * DAY, now) == "3 days ago"
    assert ago(1_700_000_000.0, now) == time.strftime(
        "%d %b %Y", time.localtime(1_700_000_000.0)
    ).lstrip("0")


@pytest.mark.parametrize("size", [(80, 24), (60, 18)])
async def test_list_columns_stay_aligned_under_a_header(home: Path, size: tuple[int, int]) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot, PW)
        lst = app.screen.query_one(RecordList)
        await until(pilot, lambda: len(lst.rows) == 3, what="the rows")
        await pilot.pause(0.1)
        header = lines(app.screen.query_one(ListHeader))[0]
        names = ["Title", "Type", "Username"] + (["Modified"] if size[0] >= 80 else [])
        starts = [header.index(n) for n in names]
        assert starts == sorted(starts)
        rows = lines(lst)[:3]
        assert rows[0].startswith(" ✦ GitHub")  # the favourite: one cell, every terminal
        for row in rows:  # every row's type and username begin under their header
            assert row[starts[1] - 1] == " " and row[starts[1]] != " "
            assert row[starts[2] - 1] == " "
        card = next(r for r in rows if "Visa" in r)
        assert card[starts[1] :].startswith("Credit Card")
        assert card[starts[2] :].startswith("•••• 1234")
        assert "4111" not in card
        login = next(r for r in rows if "Gmail" in r)
        seg = next(
            seg for seg in lst.render_line(rows.index(login)) if seg.text.startswith("Login")
        )
        assert seg.style is not None and seg.style.color is not None  # a type colour
        assert "record-pane" not in [w.id for w in app.screen.query("*") if w.display]


async def test_wide_windows_show_list_and_record_side_by_side(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=(160, 48)) as pilot:
        await unlock(pilot, PW)
        screen = app.screen
        lst = screen.query_one(RecordList)
        await until(pilot, lambda: len(lst.rows) == 3, what="the rows")
        list_pane, record_pane = screen.query_one("#list-pane"), screen.query_one("#record-pane")
        assert record_pane.display and list_pane.region.right <= record_pane.region.x
        assert (list_pane.border_title, record_pane.border_title) == ("Records", "Record")
        preview = screen.query_one("#preview", Static)
        await until(pilot, lambda: "GitHub" in str(preview.render()), what="GitHub's preview")
        assert "ann" in str(preview.render()) and "a strong one" not in str(preview.render())
        await pilot.press("down")
        await until(pilot, lambda: "Gmail" in str(preview.render()), what="Gmail's preview")
        focused_border = list_pane.styles.border_top
        assert focused_border != record_pane.styles.border_top  # the focused pane stands out
        await pilot.press("tab")
        await pilot.pause(0.1)
        assert app.focused is record_pane
        assert record_pane.styles.border_top == focused_border
        assert list_pane.styles.border_top != focused_border
        await pilot.press("shift+tab")
        await pilot.press("enter")  # the full record view, as on narrow windows
        await on_screen(pilot, RecordDetailScreen)
        await pilot.resize_terminal(100, 30)
        await pilot.press("escape")
        await on_screen(pilot, RecordListScreen)
        assert not app.screen.query_one("#record-pane").display


@pytest.mark.parametrize("size", [(80, 24), (60, 18)])
async def test_record_view_labels_dates_and_totp_bar(home: Path, size: tuple[int, int]) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot, PW)
        lst = app.screen.query_one(RecordList)
        await until(pilot, lambda: len(lst.rows) == 3, what="the rows")
        await pilot.press("enter")  # GitHub, the first row
        await on_screen(pilot, RecordDetailScreen)
        detail = app.screen.query_one("#detail", Static)
        shown = lines(detail)
        rows = [r for r in shown if r.strip().split(" ")[0] in ("Username", "Password", "▸")]
        assert len(rows) == 2
        values = {r.index("ann") if "ann" in r else r.index("•") for r in rows}
        assert len(values) == 1, f"values not in one column: {rows}"
        text = "\n".join(shown)
        assert "just now" in text and "T" not in text.split("Modified")[1].split("\n")[0]
        await pilot.press("t")
        await pilot.pause(0.1)
        year = time.strftime("%Y")
        assert year in "\n".join(lines(detail))
        totp = str(app.screen.query_one("#totp", Static).render())
        assert "One-time code" in totp and "━" in totp and totp.rstrip().endswith("s")


async def test_security_center_gives_the_whole_reason_and_a_new_password(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=(60, 18)) as pilot:
        await unlock(pilot, PW)
        await pilot.press("s")
        await on_screen(pilot, SecurityCenterScreen)
        finding = app.screen.query_one("#finding", Static)
        await until(pilot, lambda: "Gmail" in str(finding.render()), what="the finding")
        text = str(finding.render())
        assert "top" in text or "common" in text or "weak" in text
        assert "Enter opens the record" in text and "g opens its edit form" in text
        await pilot.press("g")
        await on_screen(pilot, EditRecordScreen)
        password = app.screen.query_one("#f-password", Input).value
        assert password and password != "password"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, EditRecordScreen), what="saved")
        assert app.vault is not None
        gmail = next(s for s in app.vault.summaries() if s.title == "Gmail")
        assert app.vault.record(gmail.id).value("password") == password
