"""A local write made while a pull is being applied is still pushed (issue 17, reproduction 5).

The cloud client remembers how far the server has everything of this device (the pushed
marker) and moves it past what a pull stored, so pulled versions are not echoed back. Before,
it read the store's change number after the pull's transaction had committed: a `strongroom
add` from another process committed in that gap was counted as pushed — never sent, and `sync
status` said 0 pending. The add below is made by a real CLI process at exactly that moment:
when the test process's own SQLite connection starts its first statement after the pull's
commit (SQLite's trace hook, set on the connection from here; nothing in the product).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from clikit import cli_env, run_cli, short_runtime_dir

from sync.cloud import CloudClient, CloudSync
from sync.method import configure
from sync.server.runner import ServerThread

from .helpers import PASSWORD, add_login, sign_in, sign_up, titles


class AddRightAfterPullCommits:
    """Trace hook: after the first COMMIT that stored pulled versions, one real CLI `add`."""

    def __init__(self, home: Path) -> None:
        self.env = cli_env(home, PASSWORD, XDG_RUNTIME_DIR=short_runtime_dir())
        self.stored = self.armed = self.done = False

    def __call__(self, sql: str) -> None:
        if self.done:
            return
        if self.armed:
            self.done = True
            r = run_cli(self.env, "add", "login", "--title", "Added during the pull")
            assert r.returncode == 0, r.stderr
        elif sql.startswith("INSERT") and " INTO versions " in sql:
            self.stored = True
        elif sql == "COMMIT" and self.stored:
            self.armed = True


def test_a_write_during_a_pull_is_still_pushed(server: ServerThread, tmp_path: Path) -> None:
    a, _ = sign_up(server.url, tmp_path / "a")
    configure(a, "cloud", server=server.url)
    b, _ = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    add_login(b, "Made on B")
    CloudSync(b, CloudClient(server.url)).sync_now()

    hook = AddRightAfterPullCommits(tmp_path / "a")
    db: sqlite3.Connection = a.store._db  # the connection sync_now uses
    db.set_trace_callback(hook)
    try:
        CloudSync(a, CloudClient(server.url)).sync_now()
    finally:
        db.set_trace_callback(None)
    assert hook.done, "the pull stored nothing: the hook never ran"
    assert titles(a) == {"Made on B", "Added during the pull"}

    status = run_cli(hook.env, "sync", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["pending_changes"] == 1

    assert CloudSync(a, CloudClient(server.url)).sync_now().sent == 1
    CloudSync(b, CloudClient(server.url)).sync_now()
    assert titles(b) == {"Made on B", "Added during the pull"}
    a.close()
    b.close()


def test_pulled_versions_are_not_echoed_back(server: ServerThread, tmp_path: Path) -> None:
    """The other half of the marker's job, kept while fixing the first."""
    a, _ = sign_up(server.url, tmp_path / "a")
    b, _ = sign_in(server.url, tmp_path / "b", "alice@example.com", a.slot.kit)
    add_login(b, "Made on B")
    CloudSync(b, CloudClient(server.url)).sync_now()
    assert CloudSync(a, CloudClient(server.url)).sync_now().received == 1
    assert CloudSync(a, CloudClient(server.url)).sync_now().sent == 0
    a.close()
    b.close()
