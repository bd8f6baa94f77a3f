"""What the screens ask of the vault, in one place: account state, records, and a search index.

Screens never hold a Vault of their own: they ask this service, so locking in one place
forgets the keys everywhere. The slow calls (`create`, `unlock`, `index`) are meant for
Textual thread workers; they touch no widget. The search index is built once per change of
the records (sorting and lower-casing 100,000 rows costs ~0.1 s) so that a keystroke only
scans precomputed strings (~7 ms at 100,000 records).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vault.errors import LockedError
from vault.index import Summary
from vault.records import Record
from vault.vault import Detail, Vault

#: Fuzzy title matches are added when a query this long finds fewer than FUZZY_BELOW rows.
FUZZY_MIN_QUERY = 3
FUZZY_BELOW = 20
FUZZY_LIMIT = 50
FUZZY_CUTOFF = 80

SORTS: dict[str, Callable[[Summary], Any]] = {
    "title": lambda s: (s.title.lower(), s.id),
    "modified": lambda s: (-s.modified, s.title.lower()),
    "type": lambda s: (s.type, s.title.lower()),
}


@dataclass(frozen=True)
class Filter:
    """What the list shows: a query plus the type/tag/favourite filters and the sort order."""

    query: str = ""
    favorites: bool = False
    type: str | None = None
    tag: str | None = None
    sort: str = "title"


class SearchIndex:
    """Rows pre-sorted and pre-lower-cased for filtering as you type.

    Immutable once built, so a worker thread can filter while the UI thread paints.
    Substring matches over title, username, URL and tags come first (in sort order), then,
    for short result lists, fuzzy title matches by rapidfuzz (typos: "gihtub" finds GitHub).
    """

    def __init__(self, rows: Sequence[Summary]) -> None:
        self.total = len(rows)
        self._orders: dict[str, list[Summary]] = {"title": sorted(rows, key=SORTS["title"])}
        self._hay: dict[str, str] = {
            s.id: "\n".join((s.title, s.username or "", s.url or "", "\n".join(s.tags))).lower()
            for s in rows
        }
        self.types = sorted({s.type for s in rows})
        self.tags = sorted({t for s in rows for t in s.tags})
        self.favorites = sum(1 for s in rows if s.favorite)

    def ordered(self, sort: str) -> list[Summary]:
        if sort not in SORTS:
            sort = "title"
        if sort not in self._orders:
            self._orders[sort] = sorted(self._orders["title"], key=SORTS[sort])
        return self._orders[sort]

    def filter(self, f: Filter) -> list[Summary]:
        pool = self.ordered(f.sort)
        if f.favorites or f.type or f.tag:
            pool = [s for s in pool if (not f.favorites or s.favorite) and (not f.type or s.type == f.type)
                    and (not f.tag or f.tag in s.tags)]
        q = f.query.strip().lower()
        if not q:
            return pool
        hay = self._hay
        hits = [s for s in pool if q in hay[s.id]]
        if len(hits) < FUZZY_BELOW and len(q) >= FUZZY_MIN_QUERY:
            from rapidfuzz import fuzz, process

            seen = {s.id for s in hits}
            titles = [s.title.lower() for s in pool]
            for _, _, i in process.extract(q, titles, scorer=fuzz.partial_ratio, processor=None,
                                           limit=FUZZY_LIMIT, score_cutoff=FUZZY_CUTOFF):
                if pool[i].id not in seen:
                    hits.append(pool[i])
                    seen.add(pool[i].id)
        return hits


class VaultService:
    """The app's one vault: open (locked) or unlocked, plus the search index of its records."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._vault: Vault | None = None
        self._index: SearchIndex | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"VaultService(home={str(self.home)!r}, unlocked={self.unlocked})"

    # -- account state ----------------------------------------------------------------------
    def exists(self) -> bool:
        return Vault.exists(self.home)

    def opened(self) -> Vault:
        """The vault of this device, possibly locked (its email and hint are readable)."""
        if self._vault is None:
            self._vault = Vault.open(self.home)
        return self._vault

    @property
    def unlocked(self) -> bool:
        return self._vault is not None and self._vault.unlocked

    @property
    def vault(self) -> Vault | None:
        """The unlocked vault, or None while locked."""
        return self._vault if self.unlocked else None

    def create(self, email: str, password: str, hint: str = "") -> Vault:
        """Create the account (runs the KDF: call from a worker). Leaves it unlocked."""
        vault = Vault.create(self.home, email, password, hint=hint)
        self.adopt(vault)
        return vault

    def adopt(self, vault: Vault) -> None:
        """Take an unlocked vault made elsewhere (sign-in on a new device)."""
        with self._lock:
            if self._vault is not None and self._vault is not vault:
                self._vault.close()
            self._vault = vault
            self._index = None

    def unlock(self, password: str) -> SearchIndex:
        """Derive the keys (slow: call from a worker) and build the list's index before the first paint."""
        self.opened().unlock(password)
        return self.index()

    def lock(self) -> None:
        """Forget the keys and every decrypted row."""
        with self._lock:
            self._index = None
            if self._vault is not None:
                self._vault.lock()

    def _unlocked(self) -> Vault:
        vault = self.vault
        if vault is None:
            raise LockedError("Strongroom is locked")
        return vault

    # -- records ----------------------------------------------------------------------------
    def index(self) -> SearchIndex:
        """The search index of the current records (rebuilt after a change)."""
        with self._lock:
            if self._index is None:
                self._index = SearchIndex(self._unlocked().summaries())
            return self._index

    def summaries(self) -> list[Summary]:
        return self._unlocked().summaries()

    def detail(self, record_id: str) -> Detail:
        return self._unlocked().detail(record_id)

    def record(self, record_id: str) -> Record:
        return self._unlocked().record(record_id)

    def find(self, query: str) -> str:
        return self._unlocked().find(query)

    def add(self, record: Record) -> Record:
        saved = self._unlocked().add(record)
        self._changed()
        return saved

    def update(self, record: Record) -> Record:
        saved = self._unlocked().update(record)
        self._changed()
        return saved

    def delete(self, record_id: str) -> None:
        self._unlocked().delete(record_id)
        self._changed()

    def changed_elsewhere(self) -> None:
        """Records arrived by sync: the next `index()` reads them."""
        self._changed()

    def settings(self) -> dict[str, Any]:
        vault = self.vault
        return vault.settings() if vault is not None else {}

    def _changed(self) -> None:
        with self._lock:
            self._index = None
