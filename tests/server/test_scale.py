"""The server at scale: a connection pool, several processes on one database (`--workers N` and
nodes started at once on a fresh database), `/healthz`, `/metrics`, and pulls that write nothing.
Real servers on 127.0.0.1 (random ports), real SQLite files and PostgreSQL schemas."""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from clikit import cli_env, free_port
from pgcheck import PG_URL

from sync.cloud import CloudClient, CloudSync
from sync.server.errors import StorageError
from sync.server.pool import Pool
from sync.server.runner import ServerThread
from sync.server.service import ServerConfig
from sync.server.storage import SCHEMA_VERSION, Storage

from .helpers import add_login, sign_in, sign_up, titles

REPO = Path(__file__).resolve().parents[2]


def _db_args(db_target: tuple[str, str | None]) -> list[str]:
    database, schema = db_target
    return ["--database", database, *(["--pg-schema", schema] if schema else [])]


def _wait_healthy(url: str, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                err = p.stderr.read().decode() if p.stderr else ""
                raise AssertionError(f"a server process exited: {err}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not become healthy")


def _stop(procs: list[subprocess.Popen[bytes]]) -> str:
    err = ""
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=20)
        if p.stderr:
            err += p.stderr.read().decode()
            p.stderr.close()
    return err


# -- migrations when several processes start at once ---------------------------------------
_OPEN_AT_ONCE = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from sync.server.storage import Storage
    go = Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.001)
    db = Storage(sys.argv[1], sys.argv[2] or None)
    print(json.dumps({"version": db.schema_version(), "secret": db.server_secret().hex()}))
    """
)


def test_processes_opening_a_fresh_database_at_once_migrate_it_once(
    db_target: tuple[str, str | None], tmp_path: Path
) -> None:
    """Six processes released together on a database nobody made yet: each opens and migrates
    it (advisory lock / BEGIN IMMEDIATE), all see the same schema and the same server secret."""
    database, schema = db_target
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_AT_ONCE, database, schema or "", str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env=cli_env(),
        )
        for _ in range(6)
    ]
    time.sleep(1.5)  # let every interpreter reach the barrier
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
        results.append(json.loads(out))
    assert {r["version"] for r in results} == {SCHEMA_VERSION}
    assert len({r["secret"] for r in results}) == 1
    dump = Storage(database, schema).dump()
    assert sorted(r[0] for r in dump["schema_migrations"]) == list(range(1, SCHEMA_VERSION + 1))
    assert len(dump["server_meta"]) == 1


def test_server_nodes_started_together_share_one_database(
    db_target: tuple[str, str | None], tmp_path: Path
) -> None:
    """Three server processes started at the same moment on a fresh database all come up; an
    account made through one signs in and syncs through another."""
    ports = [free_port() for _ in range(3)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sync.server",
                *_db_args(db_target),
                "--port",
                str(port),
                "--outbox",
                str(tmp_path / "outbox"),
                "--log-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env=cli_env(),
        )
        for port in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            _wait_healthy(url, procs)
        a, _ = sign_up(urls[0], tmp_path / "a")
        add_login(a, "made through node one")
        CloudSync(a, CloudClient(urls[0])).sync_now()
        b, _ = sign_in(urls[2], tmp_path / "b", "alice@example.com", a.slot.kit)
        assert "made through node one" in titles(b)
    finally:
        err = _stop(procs)
    assert "Traceback" not in err


# -- --workers N ----------------------------------------------------------------------------
@pytest.fixture
def two_workers(db_target: tuple[str, str | None], tmp_path: Path) -> Iterator[str]:
    """`strongroom server --workers 2` as a person runs it."""
    database, schema = db_target
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "cli",
        "server",
        "--db",
        database,
        "--port",
        str(port),
        "--outbox",
        str(tmp_path / "outbox"),
        "--workers",
        "2",
    ]
    env = cli_env()
    if schema:  # the CLI has no --pg-schema: the URL's search_path chooses it
        cmd[cmd.index("--db") + 1] = f"{database}?options=-csearch_path%3D{schema}"
        Storage(database, schema).close()  # the schema exists before the server looks for it
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, [proc])
        yield url
    finally:
        err = _stop([proc])
        assert "Traceback" not in err


def test_two_workers_serve_one_account_and_count_as_one_server(
    two_workers: str, tmp_path: Path
) -> None:
    """Devices sync through a two-process server; /metrics answers the same totals from
    whichever process takes the connection (each request here opens a new one)."""
    a, _ = sign_up(two_workers, tmp_path / "a")
    for i in range(3):
        add_login(a, f"login {i}")
        CloudSync(a, CloudClient(two_workers)).sync_now()
    b, _ = sign_in(two_workers, tmp_path / "b", "alice@example.com", a.slot.kit)
    assert titles(b) == {"login 0", "login 1", "login 2"}
    for _ in range(40):  # new connections: the kernel hands them to both processes
        assert httpx.get(f"{two_workers}/v1/health", timeout=10).status_code == 200
    scrapes = [httpx.get(f"{two_workers}/metrics", timeout=10).text for _ in range(6)]
    for text in scrapes:
        values = _samples(text)
        assert values['strongroom_http_requests_total{route="/v1/health",status="200"}'] >= 40
        assert values["strongroom_sync_pushes_total"] == 3
        assert values["strongroom_sync_envelopes_pushed_total"] == 3
        assert values["strongroom_sync_pulls_total"] >= 4
    assert httpx.get(f"{two_workers}/healthz", timeout=10).json()["status"] == "ok"


def _samples(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


# -- /healthz and /metrics ------------------------------------------------------------------
def test_healthz_says_ok_then_pending_migrations(server: ServerThread) -> None:
    r = httpx.get(f"{server.url}/healthz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "database": "ok",
        "schema": SCHEMA_VERSION,
        "expected_schema": SCHEMA_VERSION,
    }
    with server.app.service.db.tx() as t:  # as if this build were newer than the database
        t.run("DELETE FROM schema_migrations WHERE version=?", (SCHEMA_VERSION,))
    r = httpx.get(f"{server.url}/healthz")
    assert r.status_code == 503
    assert r.json()["migrations"] == "pending"
    assert r.json()["schema"] == SCHEMA_VERSION - 1


def test_healthz_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    db = tmp_path / "server.db"
    with ServerThread(ServerConfig(database=str(db), outbox=tmp_path / "outbox")) as srv:
        assert httpx.get(f"{srv.url}/healthz").status_code == 200
        db.rename(tmp_path / "moved.db")
        db.mkdir()  # nothing SQLite can open at the path any more
        r = httpx.get(f"{srv.url}/healthz")
        assert r.status_code == 503
        assert r.json()["database"] == "unreachable"


def test_metrics_count_requests_pushes_and_pulls(server: ServerThread, tmp_path: Path) -> None:
    a, _ = sign_up(server.url, tmp_path / "a")
    add_login(a, "one")
    add_login(a, "two")
    CloudSync(a, CloudClient(server.url)).sync_now()
    assert httpx.post(f"{server.url}/v1/sync/pull", json={}).status_code == 401
    r = httpx.get(f"{server.url}/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    v = _samples(r.text)
    assert v["strongroom_sync_pushes_total"] == 1
    assert v["strongroom_sync_envelopes_pushed_total"] == 2
    assert v["strongroom_sync_pulls_total"] == 1
    assert v['strongroom_http_requests_total{route="/v1/sync/push",status="200"}'] == 1
    assert v['strongroom_http_requests_total{route="/v1/sync/pull",status="401"}'] == 1
    assert v['strongroom_http_request_duration_seconds_count{route="/v1/sync/pull"}'] == 2
    assert (
        v['strongroom_http_request_duration_seconds_bucket{route="/v1/sync/pull",le="+Inf"}'] == 2
    )
    assert "# TYPE strongroom_http_request_duration_seconds histogram" in r.text


# -- the hot read path ----------------------------------------------------------------------
def test_pulls_write_nothing(server: ServerThread, tmp_path: Path) -> None:
    """A device that only pulls (the common case: nothing changed) changes no row anywhere."""
    a, session = sign_up(server.url, tmp_path / "a")
    add_login(a, "one")
    sync = CloudSync(a, CloudClient(server.url))
    sync.sync_now()
    before = server.app.service.db.dump()
    for _ in range(5):
        sync.sync_now()
        CloudClient(server.url).status(session)
    assert server.app.service.db.dump() == before


# -- the pool -------------------------------------------------------------------------------
def test_pool_reuses_replaces_broken_and_bounds_connections(tmp_path: Path) -> None:
    made: list[sqlite3.Connection] = []

    def connect() -> sqlite3.Connection:
        made.append(sqlite3.connect(tmp_path / "p.db", check_same_thread=False))
        return made[-1]

    pool = Pool(connect, size=2, timeout=0.2)
    a = pool.get()
    pool.put(a)
    assert pool.get() is a  # reused, not reopened
    b = pool.get()
    with pytest.raises(StorageError, match="all 2 connections"):
        pool.get()
    pool.put(b, broken=True)  # closed and its place freed
    with pytest.raises(sqlite3.ProgrammingError):
        b.execute("SELECT 1")
    c = pool.get()
    assert c is not b and len(made) == 3 and pool.open_count == 2
    pool.put(a)
    pool.put(c)
    pool.close()
    assert pool.open_count == 0


def test_storage_survives_a_dropped_postgresql_connection() -> None:
    """A connection the database closed (restart, idle timeout) fails one request, not every
    later one: the pool drops it and opens another."""
    from pgcheck import pg_unavailable

    if reason := pg_unavailable():
        pytest.skip(reason)
    schema = f"t_{secrets.token_hex(6)}"
    db = Storage(PG_URL, schema, pool_size=1)
    try:
        with db.tx(write=False) as t:
            pid = t.one("SELECT pg_backend_pid()")[0]
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(StorageError), db.tx(write=False) as t:
            t.one("SELECT 1")
        assert db.schema_version() == SCHEMA_VERSION
    finally:
        db.drop_schema()
