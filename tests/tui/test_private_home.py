"""The app says so when it had to make the home owner-only again (a copy left it readable)."""

from __future__ import annotations

import stat
from pathlib import Path

from pilotkit import on_screen, until

from tui.app import StrongroomApp
from tui.screens.account import LockScreen
from vault.vault import Vault


async def test_a_vault_readable_by_others_is_fixed_and_shown(home: Path) -> None:
    Vault.create(home, "ann@example.com", "private home password").close()
    (home / "vault.db").chmod(0o644)
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_screen(pilot, LockScreen)
        await until(
            pilot,
            lambda: any(
                str(home / "vault.db") in str(n.message) and "open to other users" in str(n.message)
                for n in app._notifications
            ),
            what="a notification naming vault.db",
        )
    assert stat.S_IMODE((home / "vault.db").stat().st_mode) == 0o600
