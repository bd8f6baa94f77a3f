"""`strongroom server` starts the real account server with one command (SQLite by default)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from clikit import cli_env, free_port, run_cli

from sync.server.storage import database_target


@contextmanager
def _server(tmp_path: Path, db: str) -> Iterator[dict[str, object]]:
    """`strongroom server --db DB` in tmp_path until it answers; yields its OpenAPI document."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "server", "--db", db, "--port", str(port)]
        + ["--outbox", str(tmp_path / "outbox")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(),
        cwd=tmp_path,
    )
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/openapi.json", timeout=2
                ) as r:
                    body = json.load(r)
                break
            except OSError:
                assert proc.poll() is None, "the server stopped"
                time.sleep(0.1)
        assert body is not None and "paths" in body
        yield body
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_server_command_serves_the_api(tmp_path: Path) -> None:
    with _server(tmp_path, str(tmp_path / "s.db")):
        assert (tmp_path / "s.db").exists()


def test_a_sqlite_url_names_the_file_it_says(tmp_path: Path) -> None:
    """SQLAlchemy's form: four slashes for an absolute path, three for one relative to the folder."""
    absolute = tmp_path / "data" / "accounts.db"
    with _server(tmp_path, f"sqlite:///{absolute}"):
        assert absolute.exists()
    with _server(tmp_path, "sqlite:///relative.db"):
        assert (tmp_path / "relative.db").exists()
    made = {p.name for p in tmp_path.iterdir()}
    assert made <= {"data", "outbox", "relative.db", "relative.db-wal", "relative.db-shm"}, made


@pytest.mark.parametrize(
    "db, says",
    [
        ("mysql://root@localhost/accounts", "mysql: is not a database"),
        ("https://example.com/accounts.db", "https: is not a database"),
        ("sqlite://", "names no database file"),
        ("sqlite:accounts.db", "names no database file"),
        ("sqlite:///:memory:", "in-memory"),
        ("", "empty"),
    ],
)
def test_anything_else_is_refused_before_starting(tmp_path: Path, db: str, says: str) -> None:
    r = run_cli(cli_env(), "server", "--db", db, "--port", str(free_port()), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert says in r.stderr and "--db" in r.stderr
    assert list(tmp_path.iterdir()) == []  # nothing created, no "mysql:" folder


def test_postgresql_urls_are_taken_as_they_are_written() -> None:
    assert database_target("postgresql://u@127.0.0.1/test") == "postgresql://u@127.0.0.1/test"
    assert database_target("postgres://u@db/x") == "postgresql://u@db/x"
    assert database_target("postgresql+psycopg://u@db/x") == "postgresql://u@db/x"
    assert database_target("./odd:name.db") == "./odd:name.db"
