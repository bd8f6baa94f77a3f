"""The local store: one SQLite file per device, one row per envelope version.

Only ids and sync metadata (version vectors, clock, device, deleted flag) are in clear; every
title, field, URL and tag is inside the ciphertext. WAL + synchronous=FULL: a kill at any
moment leaves every committed change readable. Saving one record touches one record's rows.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .envelope import MAX_HLC, Envelope
from .errors import BoundsError, FormatError, UnsupportedVersionError
from .home import create_private_file
from .merge import by_record, merge_into

if TYPE_CHECKING:
    from .intake import Refusal

SCHEMA_VERSION = 3
#: Schema 3 adds `refused`: incoming versions that did not open (vault/intake.py), kept aside.
#: Schema 2: no unique key on (record_id, vv) — two versions with one vector and different
#: content (written by a reused causal identity) are both kept, as concurrent versions.
_VERSIONS_COLUMNS = """(
    record_id TEXT NOT NULL,
    vv TEXT NOT NULL,
    hlc INTEGER NOT NULL,
    device TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    body BLOB NOT NULL,
    seq INTEGER NOT NULL
)"""
_RECORD_INDEX = "CREATE INDEX IF NOT EXISTS versions_record ON versions (record_id, vv)"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS versions {_VERSIONS_COLUMNS};
{_RECORD_INDEX};
CREATE INDEX IF NOT EXISTS versions_seq ON versions (seq);
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS refused (
    digest BLOB PRIMARY KEY,
    source TEXT NOT NULL,
    record_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw BLOB NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    times INTEGER NOT NULL
);
"""
#: Refused versions kept at most (the oldest go first): a flood of forgeries cannot fill the disk.
MAX_REFUSED = 10_000
#: Schema 1 keyed versions by (record_id, vv); every row is kept as it is, seq included.
_FROM_SCHEMA_1 = f"""
CREATE TABLE versions_2 {_VERSIONS_COLUMNS};
INSERT INTO versions_2 (record_id, vv, hlc, device, deleted, body, seq)
    SELECT record_id, vv, hlc, device, deleted, body, seq FROM versions;
DROP TABLE versions;
ALTER TABLE versions_2 RENAME TO versions;
"""
_COLS = "record_id, vv, hlc, device, deleted, body"


#: A version as `insert_rows` takes it: (record_id, vv, hlc, device, deleted, body).
Row = tuple[str, str, int, str, int, bytes]


def _row(r: tuple[str, str, int, str, int, bytes]) -> Envelope:
    return Envelope(r[0], r[1], r[2], r[3], bool(r[4]), r[5])


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        #: run once the outermost transaction commits (`after_commit`)
        self._after_commit: list[Callable[[], None]] = []
        try:
            create_private_file(path)  # 0600 before SQLite makes it 0644 (and its -wal, -shm alike)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=15000")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise UnsupportedVersionError(
                    f"{path} was written by a newer Strongroom (store schema {version})"
                )
            if version == 1:
                self._migrate_from_1()
            self._db.executescript(_SCHEMA)
            if version == 0:
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            elif version < SCHEMA_VERSION:
                self._migrate_to_3()
        except sqlite3.DatabaseError as exc:
            raise FormatError(f"{path} is not a readable Strongroom store ({exc})") from exc

    def close(self) -> None:
        self._db.close()

    def _migrate_from_1(self) -> None:
        """Schema 1 → 2 in one transaction (another process may be doing it at the same time)."""
        with self.transaction() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] != 1:
                return
            for stmt in _FROM_SCHEMA_1.split(";"):
                if stmt.strip():
                    db.execute(stmt)
            db.execute("PRAGMA user_version=2")

    def _migrate_to_3(self) -> None:
        """Schema 2 → 3: the `refused` table (made above by the schema script); no row changes."""
        with self.transaction() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] == 2:
                db.execute("PRAGMA user_version=3")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: taken at once (BEGIN IMMEDIATE), so a read inside it sees the
        latest committed state and no other connection or process writes until it ends — what
        makes read-modify-write safe. Nested use (a write inside a larger one) is a savepoint."""
        if self._db.in_transaction:
            self._db.execute("SAVEPOINT nested")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK TO nested")
                self._db.execute("RELEASE nested")
                raise
            self._db.execute("RELEASE nested")
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            self._after_commit.clear()
            raise
        self._db.execute("COMMIT")
        while self._after_commit:
            self._after_commit.pop(0)()

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` once the transaction now open commits (once however often it is asked for;
        never when it rolls back), or at once when none is open: work that must see only committed
        state and must not hold a caller's transaction open (attachment blobs' collection)."""
        if not self._db.in_transaction:
            fn()
        elif fn not in self._after_commit:
            self._after_commit.append(fn)

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> bytes | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return bytes(row[0]) if row else None

    def set_meta(self, key: str, value: bytes, db: sqlite3.Connection | None = None) -> None:
        (db or self._db).execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value)
        )

    # -- versions ---------------------------------------------------------------------------
    def versions(self, record_id: str) -> list[Envelope]:
        return [
            _row(r)
            for r in self._db.execute(
                f"SELECT {_COLS} FROM versions WHERE record_id=?", (record_id,)
            )
        ]

    def versions_of(self, record_ids: list[str]) -> dict[str, list[Envelope]]:
        """`versions` of many records in a few queries (an import or a pull of thousands)."""
        out: dict[str, list[Envelope]] = {rid: [] for rid in record_ids}
        for i in range(0, len(record_ids), 500):  # SQLite's bound-parameter limit is 999+
            chunk = record_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._db.execute(
                f"SELECT {_COLS} FROM versions WHERE record_id IN ({marks})", chunk
            ):
                out[r[0]].append(_row(r))
        return out

    def versions_with_prefix(self, prefix: str) -> dict[str, list[Envelope]]:
        """Versions of the records whose id starts with `prefix` (the device list), by record."""
        out: dict[str, list[Envelope]] = {}
        rows = self._db.execute(
            f"SELECT {_COLS} FROM versions WHERE record_id >= ? AND record_id < ?",
            (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)),
        )
        for r in rows:
            out.setdefault(r[0], []).append(_row(r))
        return out

    def rekey(self, change: Callable[[Envelope], bytes | None]) -> list[Envelope]:
        """Replace each version's body by `change(version)` (None: leave it), in place, keeping
        its vector, clock, writer and seq: a key change re-encrypts, it writes no new version.
        Returns the versions replaced, as now stored. (The caller moves the rebuildable caches
        to the new key.)"""
        done: list[Envelope] = []
        with self.transaction() as db:
            rows = db.execute(f"SELECT rowid, {_COLS} FROM versions").fetchall()
            updates = []
            for r in rows:
                env = _row(r[1:])
                body = change(env)
                if body is not None and body != r[6]:
                    updates.append((body, r[0]))
                    done.append(
                        Envelope(env.record_id, env.vv_text, env.hlc, env.device, env.deleted, body)
                    )
            db.executemany("UPDATE versions SET body=? WHERE rowid=?", updates)
        return done

    def live_versions(self) -> Iterator[Envelope]:
        """Every stored version that is not a tombstone, read as it is used (not all at once)."""
        for r in self._db.execute(f"SELECT {_COLS} FROM versions WHERE deleted=0"):
            yield _row(r)

    def all_versions(self) -> list[Envelope]:
        return [_row(r) for r in self._db.execute(f"SELECT {_COLS} FROM versions")]

    def grouped(self) -> dict[str, list[Envelope]]:
        out: dict[str, list[Envelope]] = {}
        for env in self.all_versions():
            out.setdefault(env.record_id, []).append(env)
        return out

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(DISTINCT record_id) FROM versions").fetchone()[0])

    def max_seq(self) -> int:
        """The local change counter: strictly increases with every stored version."""
        raw = self.get_meta("seq")
        return int(raw) if raw else 0

    def data_version(self) -> int:
        """SQLite's counter of commits by other connections to this file (this connection's
        own commits leave it unchanged): a cheap way to notice changes made elsewhere."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def changed_ids_since(self, seq: int) -> list[str]:
        # Not SELECT DISTINCT: that scans the whole table by primary key (26 ms at 10k records)
        # instead of searching the seq index; de-duplicated here, in order.
        rows = self._db.execute("SELECT record_id FROM versions WHERE seq>?", (seq,))
        return list(dict.fromkeys(r[0] for r in rows))

    # -- derived, rebuildable data (e.g. the encrypted summary index) -----------------------
    def get_cache(self, key: str) -> bytes | None:
        row = self._db.execute("SELECT value FROM cache WHERE key=?", (key,)).fetchone()
        return bytes(row[0]) if row else None

    def delete_cache(self, key: str) -> None:
        self._db.execute("DELETE FROM cache WHERE key=?", (key,))

    def set_cache(self, key: str, value: bytes) -> None:
        self._db.execute("INSERT OR REPLACE INTO cache (key, value) VALUES (?, ?)", (key, value))

    def changes_since(self, seq: int) -> list[Envelope]:
        """Versions stored after local sequence `seq` (for incremental sync)."""
        return [
            _row(r)
            for r in self._db.execute(
                f"SELECT {_COLS} FROM versions WHERE seq>? ORDER BY seq", (seq,)
            )
        ]

    def apply(self, incoming: Iterable[Envelope]) -> list[str]:
        """Merge envelopes into the store in one transaction; returns ids whose state changed."""
        changed: list[str] = []
        with self.transaction() as db:
            seq = self.max_seq()
            groups = by_record(incoming)
            stored = self.versions_of(list(groups))
            drops: list[tuple[str, str, bytes]] = []
            adds: list[tuple[str, str, int, str, int, bytes, int]] = []
            for rid, new in groups.items():
                change = merge_into(stored[rid], new)
                if not change:
                    continue
                drops += ((rid, e.vv_text, e.ciphertext) for e in change.drop)
                for e in change.add:
                    if (
                        not 0 <= e.hlc <= MAX_HLC
                    ):  # parsed envelopes were checked; this is the store's own guard
                        raise BoundsError(f"a version's clock (hlc {e.hlc}) is out of range")
                    seq += 1
                    adds.append(
                        (rid, e.vv_text, e.hlc, e.device, int(e.deleted), e.ciphertext, seq)
                    )
                changed.append(rid)
            # Each record's dropped versions are stored ones and its added ones are new, so all
            # the deletes, then all the inserts, in one statement each (an import's 100,000 rows).
            db.executemany("DELETE FROM versions WHERE record_id=? AND vv=? AND body=?", drops)
            db.executemany(
                "INSERT INTO versions (record_id, vv, hlc, device, deleted, body, seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                adds,
            )
            self.set_meta("seq", str(seq).encode(), db)
        return changed

    @contextmanager
    def record_index_deferred(self) -> Iterator[None]:
        """Inside a transaction: the versions inserted in this block are indexed by record once,
        at its end (one sort), not one B-tree insert each — for a bulk insert into a store no
        larger than it (100,000 imported records: about a third of the store's CPU, and far
        fewer pages written). Until then a lookup by record scans the table; a rollback brings
        the index back as it was."""
        if not self._db.in_transaction:
            raise RuntimeError("record_index_deferred needs a transaction")
        self._db.execute("DROP INDEX IF EXISTS versions_record")
        try:
            yield
        finally:
            if self._db.in_transaction:
                self._db.execute(_RECORD_INDEX)

    def insert_new(self, envelopes: list[Envelope]) -> None:
        """Store versions of records that have no version stored — an import's new records, which
        its caller checked inside the same transaction — with no merge to do and nothing to read.
        Anything else goes through `apply`."""
        self.insert_rows(
            [
                (e.record_id, e.vv_text, e.hlc, e.device, int(e.deleted), e.ciphertext)
                for e in envelopes
            ]
        )

    def insert_rows(self, rows: list[Row]) -> None:
        """`insert_new` of versions as rows (record_id, vv, hlc, device, deleted, body), as
        `RecordCipher.row_sealer` makes them: no Envelope object for each of 100,000."""
        with self.transaction() as db:
            seq = self.max_seq()
            for row in rows:
                if not 0 <= row[2] <= MAX_HLC:
                    raise BoundsError(f"a version's clock (hlc {row[2]}) is out of range")
            db.executemany(
                "INSERT INTO versions (record_id, vv, hlc, device, deleted, body, seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*row, n) for n, row in enumerate(rows, seq + 1)],
            )
            self.set_meta("seq", str(seq + len(rows)).encode(), db)

    # -- refused versions (vault/intake.py) ----------------------------------------------------
    def refuse(self, refusals: Iterable[Refusal]) -> None:
        """Keep incoming versions that did not open aside: counted by source and reason, never
        merged. The same bytes refused again count once more on their row (a sync file read
        again), not as a new row."""
        now = int(time.time())
        with self.transaction() as db:
            for r in refusals:
                db.execute(
                    "INSERT INTO refused (digest, source, record_id, reason, raw, first_at, last_at, "
                    "times) VALUES (?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (digest) DO UPDATE SET "
                    "last_at=excluded.last_at, times=refused.times + 1",
                    (
                        hashlib.sha256(r.source.encode() + b"\0" + r.raw).digest(),
                        r.source,
                        r.record_id,
                        r.reason,
                        r.raw,
                        now,
                        now,
                    ),
                )
            over = db.execute("SELECT COUNT(*) FROM refused").fetchone()[0] - MAX_REFUSED
            if over > 0:
                db.execute(
                    "DELETE FROM refused WHERE digest IN "
                    "(SELECT digest FROM refused ORDER BY last_at, digest LIMIT ?)",
                    (over,),
                )

    def refused_summary(self) -> list[tuple[str, str, int, int]]:
        """(source, reason, versions, last time refused) for every kind of refusal, most first."""
        rows = self._db.execute(
            "SELECT source, reason, COUNT(*), MAX(last_at) FROM refused GROUP BY source, reason "
            "ORDER BY COUNT(*) DESC, source, reason"
        )
        return [(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]

    def refused_records(self, source: str) -> dict[str, int]:
        """Record id → when `source` last offered a version of it that this device refused."""
        rows = self._db.execute(
            "SELECT record_id, MAX(last_at) FROM refused WHERE source=? AND record_id != '' "
            "GROUP BY record_id",
            (source,),
        )
        return {str(r[0]): int(r[1]) for r in rows}

    def clear_refused(self) -> int:
        """Forget every refused version (the person has read about them); how many there were.
        Nothing is merged by this: a version offered again is refused again and counted anew."""
        with self.transaction() as db:
            return int(db.execute("DELETE FROM refused").rowcount)

    def refused_ids(self, source: str) -> list[str]:
        """Records for which `source` offered a version this device refused."""
        rows = self._db.execute(
            "SELECT DISTINCT record_id FROM refused WHERE source=? AND record_id != '' "
            "ORDER BY record_id",
            (source,),
        )
        return [str(r[0]) for r in rows]
