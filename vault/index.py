"""The encrypted summary index: list rows of every live record in one AEAD blob.

Listing 100,000 records by decrypting each envelope costs seconds; this index costs one
decryption and one `marshal.loads`. It is a cache: refreshed incrementally from the store's
change sequence (only records changed since the index was written are decrypted), rewritten
lazily when that delta grows, and rebuilt from scratch when missing, stale or damaged.
`marshal` is safe here because the bytes are authenticated under a VK sub-key we wrote them with.

Next to it sits a small *head*: the first `HEAD_ROWS` rows in title order, so a list can paint its
first screenful right after unlock (≈ 5 ms) while the 100,000-row index loads in the background.
"""

from __future__ import annotations

import marshal
import sys
import threading
from typing import Any, NamedTuple

from .crypto import Sealer, associated_data
from .envelope import RecordCipher
from .errors import FormatError, TamperError
from .merge import RecordState, state
from .records import DECRYPTION_ERROR, Record
from .trash import kept_out

INDEX_VERSION = 3  # 2: rows carry `hint` (a card's last four digits); 3: `trashed`. Older: rebuilt
CACHE_KEY = "summary-index"
HEAD_KEY = "summary-head"
TITLES_KEY = "summary-titles"
#: Rows kept in the head: more than any terminal shows at once.
HEAD_ROWS = 200
#: Rewrite the stored index once this many records changed since it was written.
REWRITE_AFTER = 64
_FORMAT_TAG = f"strongroom-index-{INDEX_VERSION}-marshal-{marshal.version}-py{sys.version_info[0]}.{sys.version_info[1]}"


class Summary(NamedTuple):
    """One line of the record list (decrypted, in memory only)."""

    id: str
    title: str
    type: str
    username: str | None
    url: str | None
    tags: tuple[str, ...]
    favorite: bool
    modified: float
    conflict: bool
    error: bool = False
    hint: str | None = None  # what the list shows for a record without a username: "•••• 1111"
    trashed: float | None = None  # when it was moved to the trash; None: in the list


def hint_of(rec: Record) -> str | None:
    """A card's last four digits, masked as cards print them; None for other records."""
    number = rec.value("number") if rec.type == "credit-card" else None
    digits = "".join(c for c in number or "" if c.isdigit())
    return f"•••• {digits[-4:]}" if len(digits) >= 4 else None


def title_key(s: Summary) -> tuple[str, str]:
    """The list's default order: title, case-insensitive; the id breaks ties so it is total."""
    return s.title.lower(), s.id


class Head(NamedTuple):
    """The first rows of the list in title order; `total` is None when it is not known exactly."""

    rows: list[Summary]
    total: int | None


def summarize(rid: str, st: RecordState, cipher: RecordCipher) -> Summary | None:
    """The list row for one record state; None when deleted or a device entry (not the user's
    record: vault/devices.py); a placeholder when undecryptable."""
    if rid.startswith("device-"):
        return None
    try:
        rec = cipher.open(st.winner)
    except (TamperError, FormatError):
        return Summary(
            rid,
            DECRYPTION_ERROR,
            "unknown",
            None,
            None,
            (),
            False,
            st.winner.hlc / 1000,
            False,
            True,
        )
    if rec is None:
        return None
    kept = kept_out(cipher, st, rec)
    if kept is not None:
        rec = kept[1]
    return Summary(
        rid,
        rec.display_title,
        rec.type,
        rec.username,
        rec.url,
        rec.tags,
        rec.favorite,
        rec.modified,
        st.conflict,
        False,
        hint_of(rec),
        rec.trashed,
    )


def reseal(store: Any, account_id: str, old_key: bytes, new_key: bytes) -> None:
    """The stored index blobs moved from one index key to another (a device removal re-encrypts
    the records in place: their rows stay right, and rebuilding 100,000 rows would cost seconds).
    A blob that does not open is dropped (rebuilt when next read)."""
    old, new = Sealer(old_key), Sealer(new_key)
    for key, purpose in (
        (CACHE_KEY, "strongroom/index"),
        (HEAD_KEY, "strongroom/index-head"),
        (TITLES_KEY, "strongroom/index-titles"),
    ):
        blob = store.get_cache(key)
        if not blob:
            continue
        ad = associated_data(purpose, account_id, _FORMAT_TAG)
        try:
            store.set_cache(key, new.seal(old.open(blob, ad, "summary index"), ad))
        except TamperError:
            store.delete_cache(key)


class SummaryIndex:
    def __init__(self, store: Any, cipher: RecordCipher, key: bytes) -> None:
        self._store = store
        self._cipher = cipher
        self._sealer = Sealer(key)
        self._ad = associated_data("strongroom/index", cipher.account_id, _FORMAT_TAG)
        self._head_ad = associated_data("strongroom/index-head", cipher.account_id, _FORMAT_TAG)
        self._titles_ad = associated_data("strongroom/index-titles", cipher.account_id, _FORMAT_TAG)
        self._rows: dict[str, Summary] | None = None
        self._seq = 0
        self._stored_seq = 0
        self._lock = threading.Lock()
        self._titles: tuple[int, dict[str, str]] | None = None  # (store seq, title by id)

    def rows(self) -> list[Summary]:
        """Every current row (refreshed with whatever changed since the last call).

        Locked: the list's loader, the Security Center and sync reloads call this from worker
        threads, sometimes two at once; the dict must not change while another copies it."""
        with self._lock:
            if self._rows is None:
                self._rows, self._seq = self._load()
                self._stored_seq = self._seq
            head = self._store.max_seq()
            if head != self._seq:
                ids = self._store.changed_ids_since(self._seq) if self._seq else None
                self._refresh(ids)
                self._seq = head
            if self._rows and (
                self._seq - self._stored_seq >= REWRITE_AFTER or self._stored_seq == 0
            ):
                self._save()
            return list(self._rows.values())

    def head(self) -> Head | None:
        """The first rows in title order from the small stored head, brought up to date with what
        changed since it was written; None when there is none or too much changed (load all)."""
        blob = self._store.get_cache(HEAD_KEY)
        if not blob:
            return None
        try:
            seq, total, raw_rows = marshal.loads(
                self._sealer.open(blob, self._head_ad, "summary head")
            )
            rows = [Summary._make(r) for r in raw_rows]
            seq, total = int(seq), int(total)
        except (TamperError, ValueError, TypeError, EOFError):
            return None
        current = self._store.max_seq()
        if current == seq:
            return Head(rows, total)
        ids = self._store.changed_ids_since(seq)
        if len(ids) > REWRITE_AFTER:
            return None
        # Records outside the head were all after its last row; a changed one may now sort before
        # it, so the rows up to that last row are exact. Past it, something may be missing.
        boundary = title_key(rows[-1]) if len(rows) >= HEAD_ROWS else None
        by_id = {r.id: r for r in rows}
        for rid in ids:
            by_id.pop(rid, None)
            versions = self._store.versions(rid)
            s = summarize(rid, state(versions), self._cipher) if versions else None
            if s is not None and s.trashed is None:
                by_id[rid] = s
        fresh = sorted(by_id.values(), key=title_key)
        if boundary is None:
            return Head(fresh, len(fresh))
        return Head([r for r in fresh if title_key(r) <= boundary], None)

    def titles(self) -> dict[str, str]:
        """Title by record id for every live record: what finding one record by name needs.

        Read from a small stored blob (two flat lists: ~10 ms at 100,000 records, against ~250 ms
        for the full rows), patched with what changed since it was written; the full rows when
        they are loaded already, or when the blob is missing or too far behind (then rewritten).
        """
        with self._lock:
            current = self._store.max_seq()
            # A long-lived vault (the agent) asks on every `get`: once per store state is enough.
            if self._titles is not None and self._titles[0] == current:
                return self._titles[1]
            if self._rows is None:
                stored = self._stored_titles()
                if stored is not None:
                    self._titles = (current, stored)
                    return stored
        rows = self.rows()
        with self._lock:
            if self._rows and self._store.get_cache(TITLES_KEY) is None:
                self._save()  # a vault from before the title blob: write it once
            self._titles = (self._seq, {r.id: r.title for r in rows if r.trashed is None})
            return self._titles[1]

    def rows_of(self, ids: list[str]) -> list[Summary]:
        """Rows of just these records, decrypted from the store (a handful; not the whole list)."""
        out = []
        for rid in ids:
            versions = self._store.versions(rid)
            row = summarize(rid, state(versions), self._cipher) if versions else None
            if row is not None:
                out.append(row)
        return out

    def _stored_titles(self) -> dict[str, str] | None:
        blob = self._store.get_cache(TITLES_KEY)
        if not blob:
            return None
        try:
            seq, ids, titles = marshal.loads(
                self._sealer.open(blob, self._titles_ad, "title index")
            )
            by_id: dict[str, str] = dict(zip(ids, titles, strict=True))
            seq = int(seq)
        except (TamperError, ValueError, TypeError, EOFError):
            return None
        if self._store.max_seq() == seq:
            return by_id
        changed = self._store.changed_ids_since(seq)
        if len(changed) > REWRITE_AFTER:
            return None
        for rid in changed:
            by_id.pop(rid, None)
            versions = self._store.versions(rid)
            row = summarize(rid, state(versions), self._cipher) if versions else None
            if row is not None and row.trashed is None:
                by_id[rid] = row.title
        return by_id

    def _load(self) -> tuple[dict[str, Summary], int]:
        blob = self._store.get_cache(CACHE_KEY)
        if not blob:
            return {}, 0
        try:
            seq, raw_rows = marshal.loads(self._sealer.open(blob, self._ad, "summary index"))
            return {r[0]: Summary._make(r) for r in raw_rows}, int(seq)
        except (TamperError, ValueError, TypeError, EOFError):
            return {}, 0  # damaged or from another build: rebuild

    def _refresh(self, ids: list[str] | None) -> None:
        assert self._rows is not None
        if ids is None:  # full rebuild
            self._rows = {}
            for rid, versions in self._store.grouped().items():
                s = summarize(rid, state(versions), self._cipher)
                if s is not None:
                    self._rows[rid] = s
            return
        for rid in ids:
            versions = self._store.versions(rid)
            s = summarize(rid, state(versions), self._cipher) if versions else None
            if s is None:
                self._rows.pop(rid, None)
            else:
                self._rows[rid] = s

    def _save(self) -> None:
        """Rows go out in title order: the list's sort of the loaded rows is then nearly free."""
        assert self._rows is not None
        ordered = sorted(self._rows.values(), key=title_key)
        self._rows = {r.id: r for r in ordered}
        payload = marshal.dumps((self._seq, [tuple(r) for r in ordered]))
        self._store.set_cache(CACHE_KEY, self._sealer.seal(payload, self._ad))
        live = [
            r for r in ordered if r.trashed is None
        ]  # the list, the head and find: not the trash
        head = marshal.dumps((self._seq, len(live), [tuple(r) for r in live[:HEAD_ROWS]]))
        self._store.set_cache(HEAD_KEY, self._sealer.seal(head, self._head_ad))
        titles = marshal.dumps((self._seq, [r.id for r in live], [r.title for r in live]))
        self._store.set_cache(TITLES_KEY, self._sealer.seal(titles, self._titles_ad))
        self._stored_seq = self._seq
