"""Server storage: migrations are versioned and idempotent on both backends; newer schemas refused."""

from __future__ import annotations

import pytest

from sync.server.errors import AccountExistsError, StorageError
from sync.server.storage import SCHEMA_VERSION, Account, Storage


def _acct(email: str = "a@example.com", account_id: str = "ABCDEFGHJK") -> Account:
    return Account(
        account_id,
        email,
        "",
        "free",
        1,
        1,
        b"s" * 16,
        b"v" * 512,
        256,
        1,
        1,
        b"k" * 16,
        b"w" * 60,
        0,
        0,
    )


def test_migrations_apply_once_and_reopen(db_target: tuple[str, str | None]) -> None:
    db = Storage(*db_target)
    assert db.schema_version() == SCHEMA_VERSION
    db.create_account(_acct())
    db.close()
    again = Storage(*db_target)  # reopening runs no migration twice and keeps data
    assert again.schema_version() == SCHEMA_VERSION
    got = again.account_by_email("a@example.com")
    assert got is not None and got.verifier == b"v" * 512
    assert "v" * 10 not in repr(got)
    with pytest.raises(AccountExistsError):
        again.create_account(_acct())
    assert again.server_secret() == again.server_secret()
    again.close()


def test_newer_schema_is_refused(db_target: tuple[str, str | None]) -> None:
    db = Storage(*db_target)
    with db.tx() as t:
        t.run(
            "INSERT INTO schema_migrations (version, applied) VALUES (?, 0)", (SCHEMA_VERSION + 1,)
        )
    db.close()
    with pytest.raises(StorageError, match="newer than this build"):
        Storage(*db_target)


def test_rate_counter_windows(db_target: tuple[str, str | None]) -> None:
    db = Storage(*db_target)
    assert [db.hit("x", 60, now=1000.0) for _ in range(3)] == [1, 2, 3]
    assert db.hit("x", 60, now=1100.0) == 1  # next window
    db.close()
