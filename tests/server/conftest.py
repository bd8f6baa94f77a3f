"""Fixtures: a real account server on 127.0.0.1 (random port), on SQLite and on PostgreSQL.

PostgreSQL runs when the machine's server on 127.0.0.1:5432 answers (or STRONGROOM_TEST_PG
names another URL); each test gets its own schema, dropped afterwards, so runs never collide.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgcheck import PG_URL, pg_unavailable

from sync.server.runner import ServerThread
from sync.server.service import Limit, Limits, ServerConfig
from sync.server.storage import Storage

_PG_SKIP = pg_unavailable()


@pytest.fixture(params=["sqlite", "postgres"])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """(database, schema) for one backend."""
    if request.param == "postgres":
        if _PG_SKIP:
            pytest.skip(_PG_SKIP)
        schema = f"t_{secrets.token_hex(6)}"
        yield PG_URL, schema
        Storage(PG_URL, schema, migrate=False).drop_schema()
    else:
        yield str(tmp_path / "server.db"), None


def make_config(db_target: tuple[str, str | None], tmp_path: Path, **kw: object) -> ServerConfig:
    database, schema = db_target
    limits = kw.pop(
        "limits",
        Limits(
            signin_account=Limit(50, 900),
            signin_address=Limit(500, 900),
            email_account=Limit(20, 3600),
            email_address=Limit(100, 3600),
            signup_address=Limit(500, 3600),
            signin_pair=(Limit(50, 900),),
        ),
    )
    return ServerConfig(
        database=database,
        pg_schema=schema,
        outbox=tmp_path / "outbox",
        limits=limits,  # type: ignore[arg-type]
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture
def config(db_target: tuple[str, str | None], tmp_path: Path) -> ServerConfig:
    return make_config(db_target, tmp_path)


@pytest.fixture
def server(config: ServerConfig) -> Iterator[ServerThread]:
    with ServerThread(config) as srv:
        yield srv
