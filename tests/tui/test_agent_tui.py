"""The TUI and the unlock agent share one unlocked state: a real agent process, the real app (Pilot).

Unlocked agent → the app opens without a prompt; locking in the app locks the agent; `strongroom
lock` or the agent's timeout locks the app; a killed agent leaves the app working with its password.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clikit import cli_env, run_cli, short_runtime_dir
from pilotkit import on_screen, one_login_home, typed

from agent.wire import call
from tui.app import StrongroomApp
from tui.screens.account import LockScreen
from tui.screens.records import RecordListScreen
from tui.widgets.record_list import RecordList

PW = "agent tui password"
SIZE = (100, 30)


@pytest.fixture
def vault_home(tmp_path: Path) -> Path:
    return one_login_home(tmp_path / "home", PW)


@pytest.fixture
def env(vault_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The CLI's environment; the app (this process) shares its runtime dir, so both find one agent."""
    runtime = short_runtime_dir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    e = cli_env(vault_home, XDG_RUNTIME_DIR=runtime)
    yield e
    _cli(e, "lock")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(env, *args)


def _unlock_agent(env: dict[str, str], timeout: str = "5m") -> int:
    r = _cli(env | {"STRONGROOM_PASSWORD": PW}, "unlock", "--timeout", timeout)
    assert r.returncode == 0, r.stderr
    answer = call(env["STRONGROOM_HOME"], {"op": "ping"}, timeout=5)
    assert answer is not None and answer["unlocked"]
    return int(answer["pid"])


async def test_unlocked_agent_opens_the_app_without_a_password(env: dict[str, str]) -> None:
    _unlock_agent(env)
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, RecordListScreen)  # no key pressed
        assert [r.title for r in app.screen.query_one(RecordList).rows] == ["GitHub"]
        assert (
            app.vault is not None
            and app.vault.detail(app.vault.find("GitHub")).record.field("password").value
            == "gh-secret"
        )


async def test_ctrl_l_in_the_app_locks_the_agent(env: dict[str, str]) -> None:
    _unlock_agent(env)
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, RecordListScreen)
        await pilot.press("ctrl+l")
        await on_screen(pilot, LockScreen)
        for _ in range(50):  # the lock screen asked the agent (after the lock): it must stay locked
            await pilot.pause(0.05)
        assert isinstance(app.screen, LockScreen) and app.vault is None
        r = _cli(env, "get", "GitHub", "--field", "password")
        assert r.returncode == 2 and "password" in r.stderr and r.stdout == ""  # asks for it again
        assert call(env["STRONGROOM_HOME"], {"op": "ping"}, timeout=5) is None  # the agent is gone
        await typed(pilot, PW)
        await pilot.press("enter")
        await on_screen(pilot, RecordListScreen)


async def test_the_apps_idle_lock_locks_the_agent_too(env: dict[str, str]) -> None:
    _unlock_agent(env)
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, RecordListScreen)
        app._last_input = (
            time.monotonic() - 24 * 3600
        )  # idle a day: longer than any auto-lock minutes
        app._check_idle()
        await on_screen(pilot, LockScreen)
        for _ in range(40):
            if call(env["STRONGROOM_HOME"], {"op": "ping"}, timeout=5) is None:
                break
            await pilot.pause(0.05)
        assert call(env["STRONGROOM_HOME"], {"op": "ping"}, timeout=5) is None
        assert _cli(env, "get", "GitHub", "--field", "password").returncode == 2


async def test_strongroom_lock_locks_the_open_app(env: dict[str, str]) -> None:
    _unlock_agent(env)
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, RecordListScreen)
        await pilot.pause(0.5)  # the app is watching the agent
        assert _cli(env, "lock").returncode == 0
        took = await on_screen(
            pilot, LockScreen, seconds=3.0
        )  # ~0.2-0.5 s; slack for a loaded machine
        print(f"app locked {took:.2f} s after `strongroom lock` returned")
        assert app.vault is None and took < 3.0
        await pilot.pause(0.5)
        assert isinstance(app.screen, LockScreen)  # and stays locked: no keys to take any more


async def test_strongroom_lock_also_locks_an_app_unlocked_with_its_password(
    env: dict[str, str],
) -> None:
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, LockScreen)
        await typed(pilot, PW)
        await pilot.press("enter")
        await on_screen(pilot, RecordListScreen)
        _unlock_agent(env)  # started later, from a shell
        await pilot.pause(1.5)  # the app finds it within a second
        assert _cli(env, "lock").returncode == 0
        await on_screen(pilot, LockScreen, seconds=3.0)


async def test_the_agents_idle_timeout_locks_the_app(env: dict[str, str]) -> None:
    _unlock_agent(env, timeout="2s")
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, RecordListScreen)
        await on_screen(
            pilot, LockScreen, seconds=8.0
        )  # 2 s idle + the agent's 1 s tick + the link
        assert app.vault is None


async def test_killed_agent_leaves_the_app_working(env: dict[str, str]) -> None:
    pid = _unlock_agent(env)
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, RecordListScreen)
        await pilot.pause(0.5)
        os.kill(pid, signal.SIGKILL)  # killed is not locked: the open app keeps working
        await pilot.pause(1.5)
        assert isinstance(app.screen, RecordListScreen) and app.vault is not None
        await pilot.press("ctrl+l")  # locking with no agent left is fine
        await on_screen(pilot, LockScreen)
        await pilot.pause(0.5)
        assert isinstance(app.screen, LockScreen)


async def test_app_started_after_the_agent_was_killed_asks_for_the_password(
    env: dict[str, str],
) -> None:
    pid = _unlock_agent(env)
    os.kill(pid, signal.SIGKILL)  # leaves its socket file behind: connecting is refused
    time.sleep(0.2)
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, LockScreen)
        await pilot.pause(0.5)
        assert isinstance(app.screen, LockScreen)
        await typed(pilot, PW)
        await pilot.press("enter")
        await on_screen(pilot, RecordListScreen)
