"""The app's edit form saves an edit of the version it opened, never over a change it did not see
(issue 17, reproduction 1): a real `strongroom edit` process changes the record on the same home
while the form is open, then the form is saved with ctrl+s."""

from __future__ import annotations

from pathlib import Path

from clikit import cli_env, run_cli, short_runtime_dir
from pilotkit import edit_first_record, on_screen, typed
from textual.widgets import Input, Static

from tui.app import StrongroomApp
from tui.screens.records import RecordDetailScreen
from vault.records import new_record
from vault.vault import Vault

PW = "edit form password"


def _home_with_shared1(home: Path) -> str:
    v = Vault.create(home, "ann@example.com", PW)
    rid = v.add(new_record("login", "Shared1", {"username": "ann", "password": "pw-0"})).id
    v.close()
    return rid


def _cli_edit(home: Path, *args: str) -> None:
    r = run_cli(cli_env(home, PW, XDG_RUNTIME_DIR=short_runtime_dir()), "edit", "Shared1", *args)
    assert r.returncode == 0, r.stderr


def _saved(home: Path, rid: str) -> tuple[object, ...]:
    v = Vault.open(home)
    v.unlock(PW)
    d = v.detail(rid)
    v.close()
    return d.record.title, d.record.username, d.record.notes, d.conflict


async def test_saving_the_form_keeps_a_cli_edit_made_while_it_was_open(home: Path) -> None:
    rid = _home_with_shared1(home)
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await edit_first_record(pilot, PW)
        _cli_edit(home, "--field", "username=changed-on-A", "--notes", "note from A")
        assert app.screen.query_one("#title", Input).has_focus
        await pilot.press("end")
        await typed(pilot, " (B)")
        await pilot.press("ctrl+s")
        await on_screen(pilot, RecordDetailScreen)
    assert _saved(home, rid) == ("Shared1 (B)", "changed-on-A", "note from A", False)


async def test_the_same_field_changed_in_the_form_and_the_cli_is_shown_as_a_conflict(
    home: Path,
) -> None:
    rid = _home_with_shared1(home)
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await edit_first_record(pilot, PW)
        _cli_edit(home, "--field", "username=changed-on-A")
        app.screen.query_one("#f-username", Input).focus()
        await pilot.press("end")
        await typed(pilot, "-on-B")
        await pilot.press("ctrl+s")
        await on_screen(pilot, RecordDetailScreen)
        shown = str(app.screen.query_one("#detail", Static).render())
        assert "In conflict: 1 other version" in shown
    v = Vault.open(home)
    v.unlock(PW)
    d = v.detail(rid)
    assert {r.username for r in (d.record, *d.others)} == {"changed-on-A", "ann-on-B"}
    v.close()
