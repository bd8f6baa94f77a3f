"""Every worker that fails says so: a notification naming what failed, with the message both
front ends use, and a log line. Made to fail for real: a vault database replaced by garbage
(the app's own connection still holds the old file, so only a worker's own connection sees the
damage), a backup "folder" that is a file. Keys only (Pilot).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from pilotkit import on_screen, one_login_home, typed, unlock, until

from tui.app import StrongroomApp
from tui.screens.account import LockScreen
from tui.screens.records import RecordDetailScreen, RecordListScreen, SecurityCenterScreen
from tui.screens.settings import ChangePasswordScreen, SettingsScreen

PW = "worker errors password"
SIZE = (100, 30)
DAMAGED = "vault.db is not a readable Strongroom store (file is not a database)"


@pytest.fixture
def vault_home(tmp_path: Path) -> Path:
    return one_login_home(tmp_path / "home", PW)


def damage(home: Path) -> None:
    """Put garbage where vault.db is (a new file: connections already open keep the old one)."""
    spare = home / "garbage"
    spare.write_bytes(b"not a database, just some bytes " * 512)
    os.replace(spare, home / "vault.db")


def notes(app: StrongroomApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "strongroom.app"]


async def test_a_list_that_cannot_load_says_why(
    vault_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="strongroom.app")
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, LockScreen)  # the app's own connection is open now
        damage(vault_home)
        await typed(pilot, PW)
        await pilot.press("enter")
        await on_screen(pilot, RecordListScreen)
        await until(pilot, lambda: any("Loading the records failed" in n for n in notes(app)))
        assert f"Loading the records failed: {vault_home}/{DAMAGED}" in notes(app)
    assert (
        f"Loading the records failed on RecordListScreen: FormatError: {vault_home}/{DAMAGED}"
        in logged(caplog)
    )


async def test_a_security_check_that_cannot_read_says_why(
    vault_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="strongroom.app")
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await until(pilot, lambda: pilot.app.screen.index is not None, what="the full list")
        damage(vault_home)
        await pilot.press("s")
        await on_screen(pilot, SecurityCenterScreen)
        await until(pilot, lambda: any("Checking the passwords failed" in n for n in notes(app)))
        assert f"Checking the passwords failed: {vault_home}/{DAMAGED}" in notes(app)
        await pilot.press("escape")  # the list still works on its own connection
        await on_screen(pilot, RecordListScreen)
        assert [r.title for r in app.screen.query_one("#records").rows] == ["GitHub"]  # type: ignore[attr-defined]
    assert any(
        line.startswith("Checking the passwords failed on SecurityCenterScreen")
        for line in logged(caplog)
    )


async def test_a_backup_folder_that_cannot_be_read_says_why(
    vault_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="strongroom.app")
    (vault_home / "backups").write_text("a file where the backup folder should be")
    app = StrongroomApp(home=vault_home)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await pilot.press("comma")
        await on_screen(pilot, SettingsScreen)
        await until(pilot, lambda: any("Reading the backup folder failed" in n for n in notes(app)))
        told = next(n for n in notes(app) if "Reading the backup folder failed" in n)
        assert (
            told
            == f"Reading the backup folder failed: cannot access {vault_home / 'backups'}: Not a directory"
        )
    assert any(
        line.startswith("Reading the backup folder failed on SettingsScreen")
        for line in logged(caplog)
    )


async def test_a_password_change_that_fails_is_said_on_its_form_once(
    vault_home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The form shows the error itself: a log line, no second notification; the app's vault
    (on its own connection) keeps its Kit and works on."""
    caplog.set_level(logging.ERROR, logger="strongroom.app")
    app = StrongroomApp(home=vault_home, kit_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PW)
        await pilot.press("comma")
        await on_screen(pilot, SettingsScreen)
        await pilot.press("p")
        await on_screen(pilot, ChangePasswordScreen)
        assert app.vault is not None
        kit = app.vault.slot.kit.to_typed_code()
        damage(vault_home)
        for text in (PW, "a brand new passphrase", "a brand new passphrase"):
            await typed(pilot, text)
            await pilot.press("enter")
        message = app.screen.query_one("#message")
        await until(pilot, lambda: DAMAGED in str(message.render()), what="the form's message")
        assert not any("failed" in n for n in notes(app))
        assert any(
            line.startswith("Making the new keys failed on ChangePasswordScreen")
            for line in logged(caplog)
        )
        assert app.vault is not None and app.vault.slot.kit.to_typed_code() == kit
        await pilot.press("escape", "escape")
        await on_screen(pilot, RecordListScreen)
        await pilot.press("enter")  # the app's own connection still reads the record
        await on_screen(pilot, RecordDetailScreen)


def test_no_screen_starts_a_worker_outside_the_error_path() -> None:
    """Textual's own `work` only in tui/workers.py: every other worker reports its failure."""
    root = Path(__file__).resolve().parents[2] / "tui"
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "workers.py"
        and any(
            line.startswith(("from textual import", "import textual"))
            and "work" in line.split("import", 1)[1].replace("worker", "")
            for line in p.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert offenders == []


def test_failure_lines_go_to_a_log_only_its_owner_reads(tmp_path: Path) -> None:
    from tui.launch import log_failures_to

    logger = logging.getLogger("strongroom.app")
    before = list(logger.handlers)
    try:
        log_failures_to(tmp_path)
        logger.error("Loading the records failed on RecordListScreen: FormatError: damaged")
        log = tmp_path / "app.log"
        assert log.stat().st_mode & 0o777 == 0o600
        assert (
            log.read_text()
            .rstrip()
            .endswith("ERROR Loading the records failed on RecordListScreen: FormatError: damaged")
        )
    finally:
        for handler in set(logger.handlers) - set(before):
            logger.removeHandler(handler)
            handler.close()
