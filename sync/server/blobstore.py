"""Attachment blobs on the account server, beside the envelopes (migration 5; SQLite and
PostgreSQL alike): tables `blob_parts` (the bytes, in parts of at most 4 MiB) and `blobs` (one row
per complete blob: what makes it visible).

An upload is resumable and atomic: a device puts parts in any order, as often as it likes (a
part sent again replaces itself), asks which parts the server holds after an interruption, and
commits; only the commit, after the server has checked that the parts in order carry the blob's
name (its address, vault/attachments.py: the server needs no key for that), makes the blob
visible. A blob is never rewritten. The server cannot open a blob; devices open it in full before
they keep it. Each account may hold at most `quota` bytes of blobs, uploads in progress included.

Space comes back when a device that holds every record version of the account asks the server to
`forget` the blobs none of them names (a file removed and its history pruned, a purged record):
only blobs uploaded more than `grace` seconds ago go (records follow their blobs), with any upload
abandoned for longer than STALE_UPLOAD_S. The server cannot tell which blobs are named; the
devices can, and a device whose record names a forgotten blob still holds it and sends it again.
"""

from __future__ import annotations

import re
from typing import Any

from vault.attachments import Addresser
from vault.errors import TamperError

from .errors import ApiError, BadRequestError, NotFoundError, UnauthorizedError

PART_BYTES = 4 * 1024 * 1024
MAX_PARTS = 1024  # 4 GiB: beyond any per-file limit a device sets
#: blob names one `forget` request may carry
MAX_FORGET = 500
#: parts of an upload never committed are dropped this long after the last one came
STALE_UPLOAD_S = 7 * 24 * 3600
_NAME = re.compile(r"[0-9a-f]{64}")


class QuotaExceededError(ApiError):
    status = 413
    code = "quota_exceeded"


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise BadRequestError("a blob name is 64 lower-case hex characters")
    return name


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


class BlobStore:
    """The blob endpoints' work; each call runs inside the caller's transaction (`db.tx`)."""

    def __init__(self, db: Any, quota: int, grace: int = 24 * 3600) -> None:
        self.db = db
        self.quota = quota
        self.grace = grace

    def _used(self, t: Any, account_id: str) -> int:
        row = t.one(
            "SELECT COALESCE(SUM(LENGTH(data)), 0) FROM blob_parts WHERE account_id=?",
            (account_id,),
        )
        return int(row[0])

    def listing(self, s: Any) -> dict[str, Any]:
        """Complete blobs (name → size), bytes used (uploads in progress too) and the quota."""
        with self.db.tx(write=False) as t:
            rows = t.all("SELECT name, size FROM blobs WHERE account_id=?", (s.account_id,))
            used = self._used(t, s.account_id)
        return {"blobs": {str(r[0]): int(r[1]) for r in rows}, "used": used, "quota": self.quota}

    def status(self, s: Any, name: str) -> dict[str, Any]:
        """Is it complete, and which parts does the server hold (to resume an upload)?"""
        check_name(name)
        with self.db.tx(write=False) as t:
            done = t.one(
                "SELECT size FROM blobs WHERE account_id=? AND name=?", (s.account_id, name)
            )
            parts = t.all(
                "SELECT idx FROM blob_parts WHERE account_id=? AND name=? ORDER BY idx",
                (s.account_id, name),
            )
        return {
            "complete": done is not None,
            "size": int(done[0]) if done is not None else None,
            "parts": [int(r[0]) for r in parts],
        }

    def put_part(self, s: Any, name: str, idx: int, data: bytes, now: int) -> dict[str, Any]:
        check_name(name)
        if not 0 <= idx < MAX_PARTS:
            raise BadRequestError(f"a part index is 0 to {MAX_PARTS - 1}")
        if not 0 < len(data) <= PART_BYTES:
            raise BadRequestError(f"a part holds 1 to {PART_BYTES} bytes")
        with self.db.tx() as t:
            if t.lock_account(s.account_id) is None:
                raise UnauthorizedError("this account no longer exists")
            if t.one("SELECT 1 FROM blobs WHERE account_id=? AND name=?", (s.account_id, name)):
                return {"ok": True, "complete": True}  # immutable: already there
            old = t.one(
                "SELECT LENGTH(data) FROM blob_parts WHERE account_id=? AND name=? AND idx=?",
                (s.account_id, name, idx),
            )
            used = self._used(t, s.account_id) - (int(old[0]) if old else 0)
            if used + len(data) > self.quota:
                raise QuotaExceededError(
                    f"this account's attachment space on the server is full: {_mib(used)} used "
                    f"of {_mib(self.quota)}; remove files you no longer need (their space "
                    "comes back once no record or kept history version has them, a day after "
                    "their upload at the earliest) or ask the server's operator",
                    used=used,
                    quota=self.quota,
                )
            t.run(
                "INSERT INTO blob_parts (account_id, name, idx, data, created) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, name, idx) "
                "DO UPDATE SET data=excluded.data, created=excluded.created",
                (s.account_id, name, idx, data, now),
            )
        return {"ok": True, "complete": False}

    def commit(self, s: Any, name: str, size: int, parts: int, now: int) -> dict[str, Any]:
        """Make the blob visible, once parts 0..parts-1 hold exactly `size` bytes that carry
        `name`; a mismatch drops the upload (400 blob_mismatch)."""
        check_name(name)
        if not 0 < parts <= MAX_PARTS or size <= 0:
            raise BadRequestError("a commit names the size and the number of parts")
        with self.db.tx() as t:
            if t.lock_account(s.account_id) is None:
                raise UnauthorizedError("this account no longer exists")
            if t.one("SELECT 1 FROM blobs WHERE account_id=? AND name=?", (s.account_id, name)):
                return {"ok": True}
            have = t.all(
                "SELECT idx, LENGTH(data) FROM blob_parts WHERE account_id=? AND name=? "
                "ORDER BY idx",
                (s.account_id, name),
            )
            if [int(r[0]) for r in have] != list(range(parts)):
                missing = sorted(set(range(parts)) - {int(r[0]) for r in have})
                raise BadRequestError("the upload is not complete", missing=missing[:100])
            if sum(int(r[1]) for r in have) != size:
                raise BadRequestError("the parts do not add up to the blob's size")
            address = Addresser(size)
            try:
                for idx in range(parts):  # one part in memory at a time
                    row = t.one(
                        "SELECT data FROM blob_parts WHERE account_id=? AND name=? AND idx=?",
                        (s.account_id, name, idx),
                    )
                    address.update(bytes(row[0]))
                ok = address.hexdigest() == name
            except TamperError:
                ok = False
            if ok:
                t.run(
                    "INSERT INTO blobs (account_id, name, size, parts, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (s.account_id, name, size, parts, now),
                )
            else:  # dropped, so the device sends every part again
                t.run("DELETE FROM blob_parts WHERE account_id=? AND name=?", (s.account_id, name))
        return {"ok": ok}  # not ok: the endpoint answers blob_mismatch once this has committed

    def forget(self, s: Any, names: list[str], now: int) -> dict[str, Any]:
        """Delete the account's blobs `names` uploaded more than `grace` seconds ago, and its
        uploads abandoned for STALE_UPLOAD_S; which were forgotten, and which kept (too young, or
        not there), and the bytes used after."""
        if len(names) > MAX_FORGET:
            raise BadRequestError(f"forget at most {MAX_FORGET} blobs at a time")
        for name in names:
            check_name(name)
        forgotten: list[str] = []
        kept: list[str] = []
        with self.db.tx() as t:
            if t.lock_account(s.account_id) is None:
                raise UnauthorizedError("this account no longer exists")
            for name in dict.fromkeys(names):
                row = t.one(
                    "SELECT created FROM blobs WHERE account_id=? AND name=?", (s.account_id, name)
                )
                if row is None or now - int(row[0]) < self.grace:
                    kept.append(name)
                    continue
                t.run("DELETE FROM blobs WHERE account_id=? AND name=?", (s.account_id, name))
                t.run("DELETE FROM blob_parts WHERE account_id=? AND name=?", (s.account_id, name))
                forgotten.append(name)
            stale = t.all(
                "SELECT name FROM blob_parts p WHERE account_id=? AND NOT EXISTS (SELECT 1 FROM "
                "blobs b WHERE b.account_id = p.account_id AND b.name = p.name) GROUP BY name "
                "HAVING MAX(created) < ?",
                (s.account_id, now - STALE_UPLOAD_S),
            )
            for row in stale:
                t.run(
                    "DELETE FROM blob_parts WHERE account_id=? AND name=?", (s.account_id, row[0])
                )
            used = self._used(t, s.account_id)
        return {"forgotten": forgotten, "kept": kept, "used": used}

    def part(self, s: Any, name: str, idx: int) -> bytes:
        check_name(name)
        with self.db.tx(write=False) as t:
            row = t.one(
                "SELECT p.data FROM blobs b JOIN blob_parts p ON p.account_id = b.account_id "
                "AND p.name = b.name WHERE b.account_id=? AND b.name=? AND p.idx=?",
                (s.account_id, name, idx),
            )
        if row is None:
            raise NotFoundError("no such blob part")
        return bytes(row[0])


class BlobMismatchError(BadRequestError):
    code = "blob_mismatch"
