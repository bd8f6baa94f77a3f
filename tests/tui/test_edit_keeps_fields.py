"""Editing a record never drops what the form's template does not know (custom or repeated fields)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pilotkit import edit_first_record, on_screen
from textual.widgets import Input

from tui.app import StrongroomApp
from tui.screens.records import RecordDetailScreen
from vault.records import Field, new_record
from vault.templates import FieldKind
from vault.vault import Vault

PW = "edit test password"


async def test_custom_fields_survive_an_edit_and_can_be_changed(home: Path) -> None:
    v = Vault.create(home, "ann@example.com", PW)
    rec = new_record("login", "Bank", {"username": "ann", "password": "pw-1"})
    rec = replace(
        rec,
        fields=rec.fields
        + (
            Field("PIN", FieldKind.SECRET, "4321"),
            Field("Security answer", FieldKind.TEXT, "Rex"),
            Field("password", FieldKind.SECRET, "old-second-password"),
        ),
    )
    v.add(rec)
    v.close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await edit_first_record(pilot, PW)
        pin = app.screen.query_one("#x-0", Input)
        assert pin.password and pin.value == "4321"  # a secret stays masked in the form too
        pin.focus()
        await pilot.press("end", "backspace", "9")
        await pilot.press("ctrl+s")
        await on_screen(pilot, RecordDetailScreen)
    v = Vault.open(home)
    v.unlock(PW)
    saved = v.record(v.find("Bank"))
    assert [(f.name, f.value) for f in saved.fields] == [
        ("username", "ann"),
        ("password", "pw-1"),
        ("PIN", "4329"),
        ("Security answer", "Rex"),
        ("password", "old-second-password"),
    ]
