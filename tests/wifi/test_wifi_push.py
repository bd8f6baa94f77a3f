"""Wi-Fi `sync serve` pushes later local changes to the peers it knows, and a `sync now` next to a
running serve on the same home does not count that serve as a peer (issue 19, Build 3). Real
zeroconf and sockets on loopback; real runners (runtime/runners.py, what the app and `sync serve`
run)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from wifihelp import LOOPBACK, add_notes, device_like, titles

from runtime.runners import Runner, SyncEvent, runner_for
from sync.errors import SourceUnavailableError
from sync.method import config, configure, sync_now
from vault.records import new_record
from vault.vault import Vault


def _until(what: Callable[[], bool], seconds: float, why: str) -> float:
    start = time.monotonic()
    while not what():
        assert time.monotonic() - start < seconds, why
        time.sleep(0.05)
    return time.monotonic() - start


def _serving(vault: Vault, events: list[SyncEvent]) -> Runner:
    runner = runner_for(vault, config(vault), events.append)
    runner.start()
    _until(lambda: runner.live.startswith("reachable"), 20, f"never reachable: {events}")
    return runner


def test_a_serving_device_pushes_a_later_local_change_to_its_peers(
    account: Vault, tmp_path: Path
) -> None:
    configure(account, "wifi", interfaces=LOOPBACK)
    add_notes(account, "A", 1)
    phone = device_like(account, tmp_path / "phone")
    configure(phone, "wifi", interfaces=LOOPBACK)
    events_a: list[SyncEvent] = []
    events_b: list[SyncEvent] = []
    a = _serving(account, events_a)
    b = _serving(phone, events_b)
    try:
        _until(lambda: titles(phone) == ["A 0000"], 20, "the first sync never happened")
        time.sleep(3.0)  # both idle: every later sync is one a local change asked for
        account.add(new_record("note", "Later on A", notes="after the first sync"))
        took = _until(
            lambda: "Later on A" in titles(phone), 10, f"never pushed: {events_a} {events_b}"
        )
        assert took < 2.0, f"pushed after {took:.2f} s"
    finally:
        a.stop()
        b.stop()


def test_sync_now_next_to_a_running_serve_on_this_home_does_not_count_it(
    account: Vault, tmp_path: Path
) -> None:
    configure(account, "wifi", interfaces=LOOPBACK)
    add_notes(account, "A", 1)
    events: list[SyncEvent] = []
    runner = _serving(account, events)
    try:
        with pytest.raises(SourceUnavailableError):
            sync_now(account)  # only this home's own serve answers: no peer at all
        phone = device_like(account, tmp_path / "phone")
        configure(phone, "wifi", interfaces=LOOPBACK)
        other = _serving(phone, [])
        try:
            outcome = sync_now(account)  # on the caller's connection, beside the serve
            assert outcome.detail.startswith("1 peer synced"), outcome.detail
        finally:
            other.stop()
    finally:
        runner.stop()


def test_a_copied_home_still_counts_the_original_serve(tmp_path: Path) -> None:
    import shutil

    from sync.wifi import serving

    home = tmp_path / "a"
    home.mkdir()
    mark = serving.mark(home, "abc._strongroom._tcp.local.")
    assert serving.own_names(home) == {"abc._strongroom._tcp.local."}
    shutil.copytree(home, tmp_path / "clone")  # cp -r: another device from now on
    assert serving.own_names(tmp_path / "clone") == set()
    serving.unmark(mark)
    assert serving.own_names(home) == set()
