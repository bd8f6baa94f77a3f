"""The background runners (runtime/runners.py) on their own: the rules both the app and
`sync serve` rely on, with a real account server on loopback and real folders."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime import runners
from runtime.runners import SyncEvent, runner_for
from sync import cloudlink
from sync.method import change_password, config, configure, sync_now
from vault.records import new_record
from vault.vault import Vault

PW = "runner password"
NEW_PW = "runner password, changed here"
EMAIL = "run@example.com"


class Events:
    """What a runner reported, collected from its thread."""

    def __init__(self) -> None:
        self.seen: list[SyncEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: SyncEvent) -> None:
        with self._lock:
            self.seen.append(event)

    @property
    def errors(self) -> list[BaseException]:
        with self._lock:
            return [e.error for e in self.seen if e.error is not None]


def _wait_until(check: Callable[[], bool], seconds: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.1)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real account server on 127.0.0.1 (random port), SQLite."""
    from sync.server.runner import ServerThread
    from sync.server.service import ServerConfig

    with ServerThread(
        ServerConfig(database=str(tmp_path / "server.db"), outbox=tmp_path / "outbox")
    ) as srv:
        yield srv.url


def test_cloud_runner_follows_a_password_changed_here(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app changes the password on its own connection while the runner syncs on another: the
    runner must sync on with the new key slot, not report the server's 'password changed'."""
    monkeypatch.setattr(runners, "AUTO_DEBOUNCE", 0.2)
    main = cloudlink.signup(tmp_path / "here", server, EMAIL, PW)
    events = Events()
    runner = runner_for(main, config(main), events, interval=60)
    runner.start()
    try:
        _wait_until(lambda: any(e.synced for e in events.seen), what="the first sync")
        change_password(main, NEW_PW)  # on the server first, then this device's slot
        main.add(new_record("note", "After the change"))
        phone = cloudlink.signin(tmp_path / "phone", server, EMAIL, NEW_PW, main.slot.kit, None)

        def phone_has_it() -> bool:
            sync_now(phone)
            return "After the change" in {s.title for s in phone.summaries()}

        _wait_until(phone_has_it, what="the change made after the password change on the server")
    finally:
        runner.stop()
    assert not events.errors, [repr(e) for e in events.errors]


def test_folder_runner_never_creates_the_folder_and_attaches_when_it_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runners, "FOLDER_RETRY", 0.2)
    folder, away = tmp_path / "Dropbox", tmp_path / "unmounted"
    folder.mkdir()
    main = Vault.create(tmp_path / "here", EMAIL, PW)
    configure(main, "folder", folder=str(folder))
    folder.rename(away)
    events = Events()
    runner = runner_for(main, config(main), events)
    runner.start()
    try:
        _wait_until(lambda: bool(events.errors), what="the missing folder said")
        time.sleep(1.0)  # several looks
        assert not folder.exists() and len(events.errors) == 1
        assert "is missing" in str(events.errors[0]) and runner.live.startswith("waiting")
        away.rename(folder)  # mounted
        data = folder / main.slot.account_id / "data.mssb"
        _wait_until(data.is_file, what="the first sync after the folder came back")
        folder.rename(away)  # gone again while watched: said once more, not created
        _wait_until(lambda: len(events.errors) == 2, what="the folder gone again")
        time.sleep(1.0)
        assert not folder.exists() and len(events.errors) == 2
        main.add(new_record("note", "Written while the share was away"))
        away.rename(folder)
        _wait_until(
            lambda: _file_holds_all(main, data), what="the change written once the folder is back"
        )
        assert runner.live.startswith("watching")
    finally:
        runner.stop()


def _file_holds_all(vault: Vault, path: Path) -> bool:
    """Every version this device holds is in the folder's file."""
    from sync.folder import read_folder

    envs = read_folder(path.parent.parent, vault.keys)  # the snapshot and the change files
    return {e.vv_text for e in vault.store.all_versions()} <= {e.vv_text for e in envs}
