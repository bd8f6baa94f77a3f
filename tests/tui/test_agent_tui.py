"""The TUI and the unlock agent share one unlocked state: a real agent process, the real app (Pilot).

Unlocked agent → the app opens without a prompt; locking in the app locks the agent; `strongroom
lock` or the agent's timeout locks the app; a killed agent leaves the app working with its password.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.agentwire import call
from tui.app import StrongroomApp
from tui.screens.account import LockScreen
from tui.screens.records import RecordListScreen
from tui.widgets.record_list import RecordList
from vault.records import new_record
from vault.vault import Vault

PW = "agent tui password"
SIZE = (100, 30)


@pytest.fixture
def vault_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    v = Vault.create(home, "ann@example.com", PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret"}))
    v.close()
    return home


@pytest.fixture
def env(vault_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The CLI's environment; the app (this process) shares its runtime dir, so both find one agent."""
    runtime = tempfile.mkdtemp(prefix="sr-", dir="/tmp")  # short: sun_path is ~104 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    e = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    e |= {"STRONGROOM_INSECURE_TEST_KDF": "1", "STRONGROOM_HOME": str(vault_home), "XDG_RUNTIME_DIR": runtime}
    yield e
    _cli(e, "lock")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)


def _unlock_agent(env: dict[str, str], timeout: str = "5m") -> int:
    r = _cli(env | {"STRONGROOM_PASSWORD": PW}, "unlock", "--timeout", timeout)
    assert r.returncode == 0, r.stderr
    answer = call(env["STRONGROOM_HOME"], {"op": "ping"}, timeout=5)
    assert answer is not None and answer["unlocked"]
    return int(answer["pid"])


async def _wait_for(pilot, app: StrongroomApp, screen_type: type, seconds: float = 10.0) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if isinstance(app.screen, screen_type):
            took = time.monotonic() - start
            await pilot.pause(0.1)  # let the new screen finish mounting (its Header) before the test goes on
            await pilot.pause()
            return took
        await pilot.pause(0.05)
    raise AssertionError(f"expected {screen_type.__name__}, on {type(app.screen).__name__}")


async def _type_password(pilot, password: str = PW) -> None:  # type: ignore[no-untyped-def]
    for ch in password:
        await pilot.press(ch if ch != " " else "space")
    await pilot.press("enter")


async def test_unlocked_agent_opens_the_app_without_a_password(env: dict[str, str]) -> None:
    _unlock_agent(env)
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, app, RecordListScreen)  # no key pressed
        assert [r.title for r in app.screen.query_one(RecordList).rows] == ["GitHub"]
        assert app.vault is not None and app.vault.detail(app.vault.find("GitHub")).record.field("password").value == "gh-secret"


async def test_ctrl_l_in_the_app_locks_the_agent(env: dict[str, str]) -> None:
    _unlock_agent(env)
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, app, RecordListScreen)
        await pilot.press("ctrl+l")
        await _wait_for(pilot, app, LockScreen)
        for _ in range(50):  # the lock screen asked the agent (after the lock): it must stay locked
            await pilot.pause(0.05)
        assert isinstance(app.screen, LockScreen) and app.vault is None
        r = _cli(env, "get", "GitHub", "--field", "password")
        assert r.returncode == 2 and "password" in r.stderr and r.stdout == ""  # asks for it again
        assert call(env["STRONGROOM_HOME"], {"op": "ping"}, timeout=5) is None  # the agent is gone
        await _type_password(pilot)
        await _wait_for(pilot, app, RecordListScreen)


async def test_the_apps_idle_lock_locks_the_agent_too(env: dict[str, str]) -> None:
    _unlock_agent(env)
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, app, RecordListScreen)
        app._last_input = time.monotonic() - 24 * 3600  # idle a day: longer than any auto-lock minutes
        app._check_idle()
        await _wait_for(pilot, app, LockScreen)
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
        await _wait_for(pilot, app, RecordListScreen)
        await pilot.pause(0.5)  # the app is watching the agent
        assert _cli(env, "lock").returncode == 0
        took = await _wait_for(pilot, app, LockScreen, seconds=3.0)  # ~0.2-0.5 s; slack for a loaded machine
        print(f"app locked {took:.2f} s after `strongroom lock` returned")
        assert app.vault is None and took < 3.0
        await pilot.pause(0.5)
        assert isinstance(app.screen, LockScreen)  # and stays locked: no keys to take any more


async def test_strongroom_lock_also_locks_an_app_unlocked_with_its_password(env: dict[str, str]) -> None:
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, app, LockScreen)
        await _type_password(pilot)
        await _wait_for(pilot, app, RecordListScreen)
        _unlock_agent(env)  # started later, from a shell
        await pilot.pause(1.5)  # the app finds it within a second
        assert _cli(env, "lock").returncode == 0
        await _wait_for(pilot, app, LockScreen, seconds=3.0)


async def test_the_agents_idle_timeout_locks_the_app(env: dict[str, str]) -> None:
    _unlock_agent(env, timeout="2s")
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, app, RecordListScreen)
        await _wait_for(pilot, app, LockScreen, seconds=8.0)  # 2 s idle + the agent's 1 s tick + the link
        assert app.vault is None


async def test_killed_agent_leaves_the_app_working(env: dict[str, str]) -> None:
    pid = _unlock_agent(env)
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, app, RecordListScreen)
        await pilot.pause(0.5)
        os.kill(pid, signal.SIGKILL)  # killed is not locked: the open app keeps working
        await pilot.pause(1.5)
        assert isinstance(app.screen, RecordListScreen) and app.vault is not None
        await pilot.press("ctrl+l")  # locking with no agent left is fine
        await _wait_for(pilot, app, LockScreen)
        await pilot.pause(0.5)
        assert isinstance(app.screen, LockScreen)


async def test_app_started_after_the_agent_was_killed_asks_for_the_password(env: dict[str, str]) -> None:
    pid = _unlock_agent(env)
    os.kill(pid, signal.SIGKILL)  # leaves its socket file behind: connecting is refused
    time.sleep(0.2)
    app = StrongroomApp(home=Path(env["STRONGROOM_HOME"]))
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, app, LockScreen)
        await pilot.pause(0.5)
        assert isinstance(app.screen, LockScreen)
        await _type_password(pilot)
        await _wait_for(pilot, app, RecordListScreen)
