"""The Wi-Fi runner (runtime/runners.py, what the app and `sync serve` run) with a real peer on
loopback: a password changed on the caller's connection reaches the other devices at once."""

from __future__ import annotations

import time
from pathlib import Path

from wifihelp import LOOPBACK, add_notes, device_like, titles

from runtime.runners import SyncEvent, runner_for
from sync.method import adopt_new_password, change_password, config, configure, sync_now
from vault.errors import EpochChangedError
from vault.vault import Vault

NEW_PW = "the password changed here"


def test_a_password_changed_here_reaches_peers_through_the_running_runner(
    account: Vault, tmp_path: Path
) -> None:
    configure(account, "wifi", interfaces=LOOPBACK)
    add_notes(account, "A", 1)
    phone = device_like(account, tmp_path / "phone")
    configure(phone, "wifi", interfaces=LOOPBACK)
    events: list[SyncEvent] = []
    runner = runner_for(account, config(account), events.append)
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while not runner.live.startswith("reachable"):
            assert time.monotonic() < deadline, events
            time.sleep(0.1)
        sync_now(phone)
        assert titles(phone) == ["A 0000"]
        change_password(account, NEW_PW)  # on the caller's connection (the app's UI vault)
        refused: EpochChangedError | None = None
        deadline = time.monotonic() + 20
        while refused is None:  # the runner takes the new key slot within a tick
            assert time.monotonic() < deadline, "the peer never heard of the new password"
            try:
                sync_now(phone)
            except EpochChangedError as exc:
                refused = exc
        adopt_new_password(phone, NEW_PW, refused=refused)  # the slot the runner handed over
        assert phone.slot.epoch == account.slot.epoch
        sync_now(phone)
    finally:
        runner.stop()
