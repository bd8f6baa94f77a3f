"""Custom fields in the edit form: add, rename, reorder, conceal, remove (keys only, real vault)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pilotkit import edit_first_record, on_screen, typed, until
from textual.widgets import Input

from tui.app import StrongroomApp
from tui.screens.records import RecordDetailScreen
from tui.widgets.secret_input import SecretInput
from vault.records import Field, new_record
from vault.templates import FieldKind
from vault.vault import Vault

PW = "custom fields test password"


async def test_add_rename_reorder_conceal_and_remove(home: Path) -> None:
    v = Vault.create(home, "ann@example.com", PW)
    rec = new_record("login", "Bank", {"username": "ann", "password": "pw-1"})
    rec = replace(
        rec,
        fields=rec.fields
        + (Field("PIN", FieldKind.SECRET, "4321"), Field("Branch", FieldKind.TEXT, "Main St")),
    )
    v.add(rec)
    v.close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 40)) as pilot:
        await edit_first_record(pilot, PW)
        screen = app.screen
        await pilot.press("ctrl+n")  # a new row; its name is focused
        await until(pilot, lambda: screen.focused is not None and screen.focused.id == "xn-2")
        await typed(pilot, "Recovery code")
        await pilot.press("tab")
        await typed(pilot, "r3c0very")
        await pilot.press("ctrl+t")  # conceal it
        await until(pilot, lambda: isinstance(screen.query_one("#x-2", Input), SecretInput))
        await pilot.press("ctrl+up", "ctrl+up")  # to the top of the custom fields
        await until(pilot, lambda: screen.query_one("#xn-0", Input).value == "Recovery code")
        assert screen.focused is screen.query_one("#x-0", Input)
        await pilot.press("shift+tab")  # its name
        assert screen.focused is screen.query_one("#xn-0", Input)
        await pilot.press("tab", "tab")  # PIN's name (now row 1): rename it
        assert screen.focused is screen.query_one("#xn-1", Input)
        await pilot.press("end", "ctrl+u")
        await typed(pilot, "Card PIN")
        await pilot.press("tab", "tab")  # Branch's name
        await pilot.press("ctrl+t")  # a name row counts as the row: Branch is concealed now
        await until(pilot, lambda: isinstance(screen.query_one("#x-2", Input), SecretInput))
        await pilot.press("ctrl+t")  # and plain again
        await until(pilot, lambda: not isinstance(screen.query_one("#x-2", Input), SecretInput))
        screen.query_one("#x-2", Input).focus()
        await pilot.press("end", "ctrl+u")  # emptied: removed on save
        await pilot.press("ctrl+s")
        await on_screen(pilot, RecordDetailScreen)
    v = Vault.open(home)
    v.unlock(PW)
    saved = v.record(v.find("Bank"))
    assert [(f.name, f.kind, f.value) for f in saved.fields] == [
        ("username", FieldKind.TEXT, "ann"),
        ("password", FieldKind.SECRET, "pw-1"),
        ("Recovery code", FieldKind.SECRET, "r3c0very"),
        ("Card PIN", FieldKind.SECRET, "4321"),
    ]
