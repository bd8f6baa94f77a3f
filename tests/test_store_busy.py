"""A vault kept busy by another process is a clear, retryable error, never exit 70 (issue 17 Build 4).

Under heavy load a CLI writer waited past SQLite's busy timeout for another writer's lock and
exited 70 ("internal error (OperationalError)"). The error is now its own exit code (75, like
EX_TEMPFAIL) with a message that says nothing was changed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from runtime.errors import EXIT_BUSY, EXIT_INTERNAL, EXIT_USAGE, explain


def _locked_error(path: Path) -> sqlite3.OperationalError:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE IF NOT EXISTS t (x)")
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        waiter.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        waiter.close()
        holder.execute("ROLLBACK")
        holder.close()
    raise AssertionError("the second writer was not kept out")


def test_a_write_lock_held_too_long_is_exit_75_with_a_plain_message(tmp_path: Path) -> None:
    code, message = explain(_locked_error(tmp_path / "vault.db"))
    assert code == EXIT_BUSY != EXIT_INTERNAL
    assert "busy" in message and "nothing was changed" in message


def test_a_store_that_is_not_a_database_is_bad_input_not_internal(tmp_path: Path) -> None:
    path = tmp_path / "vault.db"
    path.write_bytes(b"not a database at all" * 100)
    try:
        sqlite3.connect(path).execute("SELECT * FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError as exc:
        code, message = explain(exc)
    else:
        raise AssertionError("SQLite read a file that is not a database")
    assert code == EXIT_USAGE
    assert "damaged" in message
