"""A damaged record (shown as <decryption error>) is reported when opened; the app keeps running."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pilotkit import unlock

from tui.app import StrongroomApp
from tui.screens.records import RecordDetailScreen, RecordListScreen
from tui.widgets.record_list import RecordList
from vault.records import DECRYPTION_ERROR, new_record
from vault.vault import Vault

PW = "damaged test password"


async def test_opening_a_damaged_record_explains_and_returns_to_the_list(home: Path) -> None:
    v = Vault.create(home, "ann@example.com", PW)
    broken = v.add(new_record("note", "Broken"))
    v.add(new_record("note", "Fine", notes="still readable"))
    v.close()
    db = sqlite3.connect(home / "vault.db")
    blob = db.execute("SELECT body FROM versions WHERE record_id=?", (broken.id,)).fetchone()[0]
    db.execute(
        "UPDATE versions SET body=? WHERE record_id=?", (bytes([blob[0] ^ 1]) + blob[1:], broken.id)
    )
    db.execute("DELETE FROM cache")
    db.commit()
    db.close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, PW)
        lst = app.screen.query_one(RecordList)
        for _ in range(100):  # no summary index (deleted above): the list loads in a worker
            if lst.rows:
                break
            await pilot.pause(0.05)
        assert [r.title for r in lst.rows] == [DECRYPTION_ERROR, "Fine"]
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.is_running and isinstance(app.screen, RecordListScreen)
        assert any("cannot be shown" in str(n.message) for n in app._notifications)
        await pilot.press("down", "enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, RecordDetailScreen)
        assert "still readable" in str(app.screen.query_one("#detail").render())
