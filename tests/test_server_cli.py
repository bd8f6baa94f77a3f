"""`strongroom server` starts the real account server with one command (SQLite by default)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from clikit import cli_env, free_port, run_cli, server_process

from sync.server.storage import database_target


def _server(tmp_path: Path, db: str) -> AbstractContextManager[str]:
    return server_process(tmp_path, "--db", db, "--outbox", str(tmp_path / "outbox"))


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
