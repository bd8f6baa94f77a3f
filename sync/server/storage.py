"""Server storage: one schema, versioned migrations, SQLite by default and PostgreSQL by URL.

App nodes keep no state of their own (sessions, SRP challenges, rate-limit counters and reset
tokens all live here), so several nodes can share one PostgreSQL behind a load balancer.
Nothing stored can decrypt anything: accounts hold an SRP verifier of `x_auth`, the KDF salt
and cost, and the Vault Key wrapped under K_unlock; envelopes are the devices' ciphertexts.
Tokens (sessions, reset links, setup codes) are stored only as SHA-256 hashes.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from vault.home import PRIVATE_DIR, create_private_file, make_owner_only

from .errors import AccountExistsError, StorageError
from .pool import Pool

#: Each migration is a list of statements; `{blob}`, `{bigint}`, `{now}` (the database's clock in
#: Unix seconds) are filled per dialect, `{legacy_grace}` with LEGACY_GRACE_S.
#: How long sessions made before schema 3 keep working without the device header (14 days).
LEGACY_GRACE_S = 14 * 24 * 3600
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE accounts (
            account_id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            hint TEXT NOT NULL,
            plan TEXT NOT NULL,
            generation INTEGER NOT NULL,
            epoch INTEGER NOT NULL,
            srp_salt {blob},
            verifier {blob},
            kdf_m INTEGER NOT NULL,
            kdf_t INTEGER NOT NULL,
            kdf_p INTEGER NOT NULL,
            kdf_salt {blob},
            wrapped_vk {blob},
            revision {bigint} NOT NULL,
            created {bigint} NOT NULL
        )""",
        """CREATE TABLE devices (
            account_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            name TEXT NOT NULL,
            created {bigint} NOT NULL,
            last_seen {bigint} NOT NULL,
            PRIMARY KEY (account_id, device_id)
        )""",
        """CREATE TABLE sessions (
            token_hash {blob} PRIMARY KEY,
            account_id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            generation INTEGER NOT NULL,
            epoch INTEGER NOT NULL,
            created {bigint} NOT NULL,
            expires {bigint} NOT NULL
        )""",
        "CREATE INDEX sessions_account ON sessions (account_id, device_id)",
        """CREATE TABLE envelopes (
            account_id TEXT NOT NULL,
            record_id TEXT NOT NULL,
            vv TEXT NOT NULL,
            rev {bigint} NOT NULL,
            body {blob} NOT NULL,
            PRIMARY KEY (account_id, record_id, vv)
        )""",
        "CREATE INDEX envelopes_rev ON envelopes (account_id, rev)",
        """CREATE TABLE srp_challenges (
            challenge_id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            epoch INTEGER NOT NULL,
            bytes_a {blob} NOT NULL,
            bytes_b {blob} NOT NULL,
            expires {bigint} NOT NULL
        )""",
        """CREATE TABLE tokens (
            token_hash {blob} PRIMARY KEY,
            kind TEXT NOT NULL,
            account_id TEXT NOT NULL,
            generation INTEGER NOT NULL,
            expires {bigint} NOT NULL,
            used INTEGER NOT NULL
        )""",
        """CREATE TABLE server_meta (
            key TEXT PRIMARY KEY,
            value {blob} NOT NULL
        )""",
        """CREATE TABLE rate_counts (
            bucket TEXT NOT NULL,
            win {bigint} NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (bucket, win)
        )""",
    ],
    # 2: envelopes lose their unique key on (account, record, vector): two versions with one
    # vector and different content (a reused causal identity wrote them) are both kept.
    [
        """CREATE TABLE envelopes_2 (
            account_id TEXT NOT NULL,
            record_id TEXT NOT NULL,
            vv TEXT NOT NULL,
            rev {bigint} NOT NULL,
            body {blob} NOT NULL
        )""",
        "INSERT INTO envelopes_2 (account_id, record_id, vv, rev, body) "
        "SELECT account_id, record_id, vv, rev, body FROM envelopes",
        "DROP TABLE envelopes",
        "ALTER TABLE envelopes_2 RENAME TO envelopes",
        "CREATE INDEX envelopes_record ON envelopes (account_id, record_id, vv)",
        "CREATE INDEX envelopes_rev ON envelopes (account_id, rev)",
    ],
    # 3: sessions bound to a device, revocable, with a sliding expiry (issue 16). Sessions made
    # before this migration are `legacy`: they keep working without the device header until
    # LEGACY_GRACE_S after the upgrade (or their own earlier expiry), then the client signs in
    # again by itself. SRP challenges get a purpose ('signin' or 'proof', the fresh proof a
    # credential change needs) and, for a proof, the device that asked for it.
    [
        "ALTER TABLE sessions ADD COLUMN revoked {bigint} NOT NULL DEFAULT 0",
        "ALTER TABLE sessions ADD COLUMN legacy INTEGER NOT NULL DEFAULT 0",
        "UPDATE sessions SET legacy=1",
        "UPDATE sessions SET expires = {now} + {legacy_grace} WHERE expires > {now} + {legacy_grace}",
        "ALTER TABLE srp_challenges ADD COLUMN purpose TEXT NOT NULL DEFAULT 'signin'",
        "ALTER TABLE srp_challenges ADD COLUMN device_id TEXT NOT NULL DEFAULT ''",
    ],
    # 4: a version another supersedes is kept (and still served) until `superseded` + the
    # server's retention period, instead of deleted at once; NULL = current. Rows kept as they are.
    [
        "ALTER TABLE envelopes ADD COLUMN superseded {bigint}",
        "CREATE INDEX envelopes_superseded ON envelopes (account_id, superseded)",
    ],
    # 5: attachment blobs beside the envelopes (sync/server/blobstore.py): the bytes in parts,
    # and one row per complete blob, which is what makes it visible. No existing row changes.
    [
        """CREATE TABLE blob_parts (
            account_id TEXT NOT NULL,
            name TEXT NOT NULL,
            idx INTEGER NOT NULL,
            data {blob} NOT NULL,
            created {bigint} NOT NULL,
            PRIMARY KEY (account_id, name, idx)
        )""",
        """CREATE TABLE blobs (
            account_id TEXT NOT NULL,
            name TEXT NOT NULL,
            size {bigint} NOT NULL,
            parts INTEGER NOT NULL,
            created {bigint} NOT NULL,
            PRIMARY KEY (account_id, name)
        )""",
    ],
    # 6: key changes made by removing a device (issue 16; vault/removal.py): the SRKC bytes the
    # remaining devices fetch to follow (sealed under the old Vault Key; the server cannot open
    # them), keyed by the key id they move away from; who removed whom, for the removed device's
    # 401. No existing row changes.
    [
        """CREATE TABLE key_changes (
            account_id TEXT NOT NULL,
            kid_from TEXT NOT NULL,
            from_epoch INTEGER NOT NULL,
            removed TEXT NOT NULL,
            removed_by TEXT NOT NULL,
            data {blob} NOT NULL,
            created {bigint} NOT NULL,
            PRIMARY KEY (account_id, kid_from)
        )""",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


def token_hash(token: str) -> bytes:
    """Tokens are stored hashed, so a database dump holds no usable session or link."""
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Account:
    account_id: str
    email: str
    hint: str
    plan: str
    generation: int
    epoch: int
    srp_salt: bytes | None
    verifier: bytes | None
    kdf_m: int
    kdf_t: int
    kdf_p: int
    kdf_salt: bytes | None
    wrapped_vk: bytes | None
    revision: int
    created: int

    def __repr__(self) -> str:
        return (
            f"Account({self.account_id!r}, generation={self.generation}, epoch={self.epoch}, "
            f"revision={self.revision}, <key material hidden>)"
        )

    @property
    def has_keys(self) -> bool:
        """False after a reset until the owner sets a new password from the app."""
        return self.verifier is not None and self.wrapped_vk is not None


_ACCOUNT_COLS = (
    "account_id, email, hint, plan, generation, epoch, srp_salt, verifier, kdf_m, kdf_t, "
    "kdf_p, kdf_salt, wrapped_vk, revision, created"
)


def _account(row: Sequence[Any] | None) -> Account | None:
    if row is None:
        return None
    r = list(row)
    for i in (6, 7, 11, 12):
        r[i] = bytes(r[i]) if r[i] is not None else None
    return Account(*r)


@dataclass(frozen=True)
class Session:
    """A live session: bound to `device_id`; `expires` slides while it is used (service.py)."""

    account_id: str
    device_id: str
    generation: int
    epoch: int
    created: int = 0
    expires: int = 0
    legacy: bool = False  # made before schema 3: no device header needed until its cutoff


@dataclass(frozen=True)
class Device:
    device_id: str
    name: str
    created: int
    last_seen: int


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    @property
    def rowcount(self) -> int: ...


class Tx:
    """One transaction: `?` placeholders everywhere, translated for PostgreSQL.

    PostgreSQL round trips are what a busy server waits for (each one a wake-up of this thread
    and of a database process), so a write transaction sends BEGIN together with its first
    statement, and statements queued with `later` (writes whose result nobody reads) together
    with the COMMIT: a push is then four trips, not seven."""

    def __init__(self, cur: Cursor, pg: bool, write: bool = True, conn: Any = None) -> None:
        self._cur = cur
        self._pg = pg
        self.write = write
        self._conn = conn
        self._begin = pg and write  # BEGIN not sent yet
        self._later: list[tuple[str, list[tuple[Any, ...]]]] = []

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._pg else sql

    def _send(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if len(rows) == 1:  # psycopg's executemany sets up a pipeline: one row is cheaper plain
            self._cur.execute(sql, rows[0])
        elif rows:
            self._cur.executemany(sql, rows)

    def _go(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not self._begin:
            self._send(sql, rows)
            return
        self._begin = False
        with self._conn.pipeline():
            self._cur.execute("BEGIN")
            self._send(sql, rows)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._go(self._sql(sql), [tuple(r) for r in rows])

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._go(self._sql(sql), [tuple(params)])
        return int(self._cur.rowcount)

    def later(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Rows for `sql`, written at the latest when the transaction commits (PostgreSQL:
        sent with the COMMIT in one trip; SQLite: now). For writes whose count nobody reads."""
        if not rows:
            return
        if not self._pg:
            self.many(sql, rows)
            return
        self._later.append((self._sql(sql), [tuple(r) for r in rows]))

    def commit(self) -> None:
        """PostgreSQL: send what `later` queued, and COMMIT, in one trip."""
        if self._begin and not self._later:
            return  # nothing was sent: no transaction to end
        with self._conn.pipeline():
            if self._begin:
                self._cur.execute("BEGIN")
            for sql, rows in self._later:
                self._send(sql, rows)
            self._cur.execute("COMMIT")
        self._begin, self._later = False, []

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self.run(sql, params)
        return self._cur.fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self.run(sql, params)
        return list(self._cur.fetchall())

    def lock_account(self, account_id: str) -> Account | None:
        """The account row, locked until the transaction ends (SQLite: the whole write lock)."""
        suffix = " FOR UPDATE" if self._pg else ""
        return _account(
            self.one(
                f"SELECT {_ACCOUNT_COLS} FROM accounts WHERE account_id=?{suffix}", (account_id,)
            )
        )

    def lock_account_with_envelopes(
        self, account_id: str, record_ids: Sequence[str]
    ) -> tuple[Account | None, list[tuple[bytes, int | None]]]:
        """`lock_account` and the stored envelopes of `record_ids` (body, when superseded or
        None), in one statement."""
        suffix = " FOR UPDATE OF a" if self._pg else ""
        cols = ", ".join(f"a.{c.strip()}" for c in _ACCOUNT_COLS.split(","))
        marks = ",".join("?" * len(record_ids)) or "NULL"
        rows = self.all(
            f"SELECT {cols}, e.body, e.superseded FROM accounts a LEFT JOIN envelopes e "
            f"ON e.account_id = a.account_id AND e.record_id IN ({marks}) "
            f"WHERE a.account_id=?{suffix}",
            (*record_ids, account_id),
        )
        if not rows:
            return None, []
        return _account(rows[0][:-2]), [
            (bytes(r[-2]), None if r[-1] is None else int(r[-1])) for r in rows if r[-2] is not None
        ]


_PG_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg")


def database_target(value: str) -> str:
    """What `--db` names, as `Storage.open` takes it: a SQLite file path or a PostgreSQL URL.

    Accepted: a plain file path; `sqlite:///PATH` as SQLAlchemy writes it (three slashes and a
    relative path, four for an absolute one: `sqlite:////srv/accounts.db`); `postgresql://…`
    (also `postgres://` and SQLAlchemy's `postgresql+psycopg://`). Anything else that looks like a
    URL is a StorageError, never a folder named after its scheme.
    """
    scheme, colon, rest = value.partition(":")
    if not colon or not _looks_like_scheme(scheme):
        if not value.strip():
            raise StorageError("the database path is empty")
        return value  # a plain path (a one-letter "scheme" is a Windows drive)
    scheme = scheme.lower()
    if scheme in _PG_SCHEMES:
        return "postgresql:" + rest
    if scheme != "sqlite":
        raise StorageError(
            f"{scheme}: is not a database the server can use; give a SQLite file path, "
            "sqlite:///PATH or a postgresql://… URL (./NAME for a file whose name has a colon)"
        )
    if not rest.startswith("///") or len(rest) == 3 or "?" in rest or "#" in rest:
        raise StorageError(
            f"{value!r} names no database file: write sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db (no in-memory database, no ?options)"
        )
    path = rest[3:]
    if path == ":memory:":
        raise StorageError("an in-memory database would lose every account at a restart")
    return path


def _looks_like_scheme(word: str) -> bool:
    return (
        len(word) > 1
        and word[0].isascii()
        and word[0].isalpha()
        and all(c.isascii() and (c.isalnum() or c in "+.-") for c in word)
    )


def _private_sqlite(path: Path) -> list[str]:
    """The server's SQLite file, created 0600 (its folder 0700 when made here), so its -wal and
    -shm are too; an existing file or companion open to other users is made 0600 and reported."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        create_private_file(path)
    except OSError as exc:
        raise StorageError(
            f"cannot create the server database {path}: {exc.strerror or exc}"
        ) from None
    fixes: list[str] = []
    for suffix in ("", "-wal", "-shm", "-journal"):
        fixes += make_owner_only(Path(f"{path}{suffix}"))
    return fixes


def _sqlite_rolled_back(conn: sqlite3.Connection) -> bool:
    """End a failed transaction; False when the connection cannot be used again."""
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        return False
    return True


def _pg_rolled_back(conn: Any) -> bool:
    """End a failed transaction; False when the connection is closed or cannot roll back."""
    import psycopg.pq

    if conn.closed:
        return False
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
    except Exception:  # noqa: BLE001 - any failure here means: do not reuse it
        return False
    return True


def _read_version(t: Tx, pg: bool) -> int:
    if pg:
        if t.one("SELECT to_regclass('schema_migrations')")[0] is None:
            return 0
    elif not t.one("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'"):
        return 0
    return int(t.one("SELECT MAX(version) FROM schema_migrations")[0] or 0)


class Storage:
    """The server's database. `Storage.open(url)` picks SQLite (path) or PostgreSQL (URL).

    Connections come from a pool of at most `pool_size` (`--threads`: one per worker thread).
    On PostgreSQL a read runs without BEGIN/COMMIT (autocommit: at PostgreSQL's default READ
    COMMITTED each statement sees its own snapshot either way), so a pull costs its queries'
    round trips and nothing more; a write is one BEGIN … COMMIT.
    """

    def __init__(
        self,
        target: str,
        schema: str | None = None,
        *,
        migrate: bool = True,
        pool_size: int = 8,
    ) -> None:
        self.pg = target.startswith(("postgres://", "postgresql://"))
        self.target = target
        self.schema = schema
        self.pool_size = pool_size
        self._local = threading.local()
        self._write_lock = threading.Lock()
        if schema is not None and not schema.replace("_", "").isalnum():
            raise StorageError("a schema name may hold only letters, digits and underscores")
        #: SQLite files that were open to other users, now 0600 (one sentence each; the server
        #: prints them at start).
        self.permission_fixes: list[str] = [] if self.pg else _private_sqlite(Path(target))
        self._pool = Pool(self._connect, pool_size)
        if self.pg and schema:
            with self.tx() as t:  # under the migration lock: concurrent CREATE SCHEMAs collide
                t.run("SELECT pg_advisory_xact_lock(?)", (self._migration_lock_key(),))
                t.run(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        if migrate:
            self.migrate()

    @classmethod
    def open(cls, target: str | Path, schema: str | None = None, pool_size: int = 8) -> Storage:
        return cls(str(target), schema, pool_size=pool_size)

    def __repr__(self) -> str:
        return f"Storage({'postgresql' if self.pg else 'sqlite'}, schema={self.schema!r})"

    # -- connections ------------------------------------------------------------------------
    def _connect(self) -> Any:
        if self.pg:
            import psycopg

            try:
                conn = psycopg.connect(self.target, autocommit=True, connect_timeout=5)
                if self.schema:  # made in __init__, under the migration lock
                    conn.execute(f'SET search_path TO "{self.schema}"')
            except psycopg.Error as exc:
                raise StorageError(
                    f"cannot reach the PostgreSQL database: {exc.__class__.__name__}"
                ) from None
            return conn
        path = Path(self.target)
        try:
            lite = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
            lite.execute("PRAGMA busy_timeout=30000")
            _wal(lite)
            lite.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{path} is not a usable server database ({exc})") from None
        return lite

    def close(self) -> None:
        """Close the pool's connections; a later transaction opens new ones."""
        old, self._pool = self._pool, Pool(self._connect, self.pool_size)
        old.close()
        self._local = threading.local()

    @contextmanager
    def tx(self, write: bool = True) -> Iterator[Tx]:
        """One transaction. SQLite writers take the write lock at once (no upgrade deadlocks).

        Re-entrant per thread: a `tx` opened inside another joins it (one commit per request).
        """
        outer: Tx | None = getattr(self._local, "tx", None)
        if outer is not None:
            if write and not outer.write:
                raise StorageError("internal: a write inside a read transaction")
            yield outer
            return
        if self.pg:
            with self._pg_tx(write) as t:
                yield t
            return
        # One writer at a time inside this process: SQLite's own busy handler sleeps in steps of up
        # to 100 ms, which is what a p99 would show; a lock hands over in microseconds instead.
        lock = self._write_lock if write else contextlib.nullcontext()
        with lock:
            conn = self._pool.get()
            ok = False
            try:
                cur = conn.cursor()
                cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                self._local.tx = Tx(cur, False, write)
                try:
                    yield self._local.tx
                finally:
                    self._local.tx = None
                cur.execute("COMMIT")
                ok = True
            finally:
                self._pool.put(conn, broken=not ok and not _sqlite_rolled_back(conn))

    @contextmanager
    def _pg_tx(self, write: bool) -> Iterator[Tx]:
        import psycopg

        conn = self._pool.get()
        ok = False
        try:
            with conn.cursor() as cur:
                tx = self._local.tx = Tx(cur, True, write, conn)
                try:
                    yield tx
                finally:
                    self._local.tx = None
                if write:
                    tx.commit()
            ok = True
        except psycopg.OperationalError as exc:
            raise StorageError(f"database error: {exc.__class__.__name__}") from None
        finally:
            self._pool.put(conn, broken=not ok and not _pg_rolled_back(conn))

    # -- migrations -------------------------------------------------------------------------
    def schema_version(self) -> int:
        """The newest migration applied (0 on a database never migrated)."""
        with self.tx(write=False) as t:
            return _read_version(t, self.pg)

    def health(self) -> dict[str, Any]:
        """`GET /healthz`: reach the database on a new connection and compare its schema with
        this build's. `status` is "ok" only when both hold; nothing secret is said."""
        report: dict[str, Any] = {
            "status": "unavailable",
            "database": "unreachable",
            "schema": None,
            "expected_schema": SCHEMA_VERSION,
        }
        try:
            conn = self._connect()
        except StorageError:
            return report
        try:
            version = _read_version(Tx(conn.cursor(), self.pg, write=False), self.pg)
        except Exception:  # noqa: BLE001 - any failure to read means "not serving"
            return report
        finally:
            with contextlib.suppress(Exception):
                conn.close()
        report["database"] = "ok"
        report["schema"] = version
        if version == SCHEMA_VERSION:
            report["status"] = "ok"
        else:
            report["migrations"] = (
                "pending" if version < SCHEMA_VERSION else "newer than this build"
            )
        return report

    def _version(self, t: Tx) -> int:
        t.run(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)"
        )
        row = t.one("SELECT MAX(version) FROM schema_migrations")
        return int(row[0] or 0)

    def migrate(self) -> int:
        """Apply every migration not yet applied, in one transaction; returns the version.

        Safe when several processes start at once on one database: PostgreSQL takes an advisory
        lock for this schema (the schema itself is made under it too), SQLite takes its write
        lock at BEGIN IMMEDIATE; the others wait and then find nothing left to do."""
        blob = "BYTEA" if self.pg else "BLOB"
        with self.tx() as t:
            if self.pg:
                t.run("SELECT pg_advisory_xact_lock(?)", (self._migration_lock_key(),))
            current = self._version(t)
            if current > SCHEMA_VERSION:
                raise StorageError(
                    f"the server database has schema {current}, newer than this build "
                    f"({SCHEMA_VERSION}); update Strongroom"
                )
            now = (
                "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)"
                if self.pg
                else "CAST(strftime('%s', 'now') AS INTEGER)"
            )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for stmt in MIGRATIONS[version - 1]:
                    t.run(
                        stmt.format(
                            blob=blob, bigint="BIGINT", now=now, legacy_grace=LEGACY_GRACE_S
                        )
                    )
                t.run(
                    "INSERT INTO schema_migrations (version, applied) VALUES (?, ?)",
                    (version, int(time.time())),
                )
        return SCHEMA_VERSION

    def _migration_lock_key(self) -> int:
        """One advisory lock per schema: nodes of one deployment wait for each other, tests in
        other schemas of the same database do not."""
        digest = hashlib.sha256(f"strongroom-migrate\0{self.schema or ''}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    # -- accounts ---------------------------------------------------------------------------
    def create_account(self, a: Account) -> None:
        with self.tx() as t:
            if t.one(
                "SELECT 1 FROM accounts WHERE email=? OR account_id=?", (a.email, a.account_id)
            ):
                raise AccountExistsError("an account with this email already exists")
            t.run(
                f"INSERT INTO accounts ({_ACCOUNT_COLS}) VALUES ({', '.join('?' * 15)})",
                (
                    a.account_id,
                    a.email,
                    a.hint,
                    a.plan,
                    a.generation,
                    a.epoch,
                    a.srp_salt,
                    a.verifier,
                    a.kdf_m,
                    a.kdf_t,
                    a.kdf_p,
                    a.kdf_salt,
                    a.wrapped_vk,
                    a.revision,
                    a.created,
                ),
            )

    def account_by_email(self, email: str) -> Account | None:
        with self.tx(write=False) as t:
            return _account(t.one(f"SELECT {_ACCOUNT_COLS} FROM accounts WHERE email=?", (email,)))

    def account(self, account_id: str) -> Account | None:
        with self.tx(write=False) as t:
            return _account(
                t.one(f"SELECT {_ACCOUNT_COLS} FROM accounts WHERE account_id=?", (account_id,))
            )

    def server_secret(self) -> bytes:
        """A random secret made once per deployment and shared by every app node (fake params).

        Nodes starting at once may both make one: the first insert wins and all read it back."""
        import secrets

        with self.tx() as t:
            t.run(
                "INSERT INTO server_meta (key, value) VALUES ('secret', ?) "
                "ON CONFLICT (key) DO NOTHING",
                (secrets.token_bytes(32),),
            )
            return bytes(t.one("SELECT value FROM server_meta WHERE key='secret'")[0])

    # -- sessions ---------------------------------------------------------------------------
    def revoke_device(self, account_id: str, device_id: str, now: int | None = None) -> int:
        """Revoke every live session of one device of an account; returns how many.

        Revoked rows stay (until they would have expired) so the device is told it was removed
        rather than merely signed out; a later sign-in makes a new session."""
        when = int(time.time()) if now is None else now
        with self.tx() as t:
            return t.run(
                "UPDATE sessions SET revoked=? WHERE account_id=? AND device_id=? AND revoked=0",
                (when, account_id, device_id),
            )

    # -- rate limits ------------------------------------------------------------------------
    def hit(self, bucket: str, window_s: int, now: float | None = None) -> int:
        """Count one event in the current fixed window of `bucket`; returns the count so far."""
        win = int((time.time() if now is None else now) // window_s)
        with self.tx() as t:
            t.run("DELETE FROM rate_counts WHERE bucket=? AND win<?", (bucket, win))
            t.run(
                "INSERT INTO rate_counts (bucket, win, count) VALUES (?, ?, 1) "
                "ON CONFLICT (bucket, win) DO UPDATE SET count = rate_counts.count + 1",
                (bucket, win),
            )
            row = t.one("SELECT count FROM rate_counts WHERE bucket=? AND win=?", (bucket, win))
        return int(row[0])

    # -- dumps (tests, admin) ---------------------------------------------------------------
    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table: what an attacker with the database would hold."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.tx() as t:
            for table in (
                "accounts",
                "devices",
                "sessions",
                "envelopes",
                "blobs",
                "blob_parts",
                "srp_challenges",
                "tokens",
                "rate_counts",
                "server_meta",
                "schema_migrations",
            ):
                out[table] = [
                    tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                    for r in t.all(f"SELECT * FROM {table}")
                ]
        return out

    def drop_schema(self) -> None:
        """PostgreSQL tests: remove this run's schema."""
        if self.pg and self.schema:
            with self.tx() as t:
                t.run(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        self.close()


def _wal(lite: sqlite3.Connection, seconds: float = 30.0) -> None:
    """Put the database in WAL mode. Switching a fresh file answers "database is locked" at once,
    without waiting on the busy timeout, while another process is making it (six server
    processes started together: tests/server/test_scale.py), so it is tried again until then."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            lite.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
