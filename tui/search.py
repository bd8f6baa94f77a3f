"""Record search, filters and sort for the list, fast at 100,000 records.

Rows are sorted by title once; each row has one lowercase haystack (title, username, URL, tags).
A query that extends the previous one only scans the previous hits (how people type). Results
come in two steps: `matches` (exact title, then title prefix, then contains — a bisect and one
substring scan, a few ms) and `fuzzy` (rapidfuzz over the titles, for typos), which the list
appends after the first step is already on screen.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from runtime.safe_text import printable
from vault.index import Summary, title_key
from vault.templates import TEMPLATES

#: Fuzzy title matches are added when the plain matches are fewer than this.
FUZZY_BELOW = 50
FUZZY_LIMIT = 50
FUZZY_CUTOFF = 80
FUZZY_SLICE = 5_000  # titles scored per slice (≈ 1 ms each)
#: Sort keys and how the list's header names them.
SORTS = {"title": "title", "modified": "recently changed", "type": "type"}
#: The trash's sorts, its own order first: what was deleted last on top.
TRASH_SORTS = {"deleted": "recently deleted", "title": "title", "type": "type"}


@dataclass(frozen=True)
class Filters:
    """What the list shows besides the search text: the records or the trash (the records
    deleted, shown by the same list), and within either a type, a tag, favourites, a sort."""

    favorites: bool = False
    type: str | None = None  # a template key
    tag: str | None = None
    sort: str = "title"
    trash: bool = False

    @classmethod
    def of_trash(cls) -> Filters:
        """The trash as it opens: every deleted record, the last deleted first."""
        return cls(sort="deleted", trash=True)

    @property
    def narrowing(self) -> bool:
        """True when some rows of the records (or of the trash) may be hidden (sort hides none)."""
        return self.favorites or self.type is not None or self.tag is not None

    @property
    def sorts(self) -> dict[str, str]:
        """The sorts offered here (the trash has its own first one)."""
        return TRASH_SORTS if self.trash else SORTS

    def parts(self) -> list[str]:
        """What narrows or orders the rows, for people: ['Login', 'favourites', 'by type']."""
        parts = []
        if self.type is not None:
            parts.append(type_label(self.type))
        if self.tag is not None:
            parts.append(f"tagged “{printable(self.tag)}”")
        if self.favorites:
            parts.append("favourites")
        if self.sort != next(iter(self.sorts)):
            parts.append(f"by {self.sorts.get(self.sort, self.sort)}")
        return parts

    def describe(self) -> str:
        """For the header: 'Login · tag work · favourites · by recently changed', or
        'trash · Login' in the trash."""
        return " · ".join((["trash"] if self.trash else []) + self.parts())


def type_label(key: str) -> str:
    tpl = TEMPLATES.get(key)
    return tpl.label if tpl else key


def next_sort(sort: str, trash: bool = False) -> str:
    keys = list(TRASH_SORTS if trash else SORTS)
    return keys[(keys.index(sort) + 1) % len(keys)] if sort in keys else keys[0]


class SearchIndex:
    def __init__(self, rows: Sequence[Summary]) -> None:
        self.rows = sorted(rows, key=title_key)  # nearly free: the vault keeps them in this order
        self.low = [s.title.lower() for s in self.rows]  # sorted too: prefix hits are one bisect
        self.hay = [
            f"{low}\n{s.username or ''}\n{s.url or ''}\n{' '.join(s.tags)}".lower()
            for low, s in zip(self.low, self.rows, strict=True)
        ]
        self._orders: dict[str, list[int]] = {}
        self._masks: dict[Filters, bytearray] = {}
        self._last: tuple[str, list[int]] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    # -- filters and sort ---------------------------------------------------------------------
    def order(self, sort: str) -> Sequence[int]:
        """Row positions in the given sort order (computed once per sort)."""
        if sort == "title":
            return range(len(self.rows))
        order = self._orders.get(sort)
        if order is None:
            rows = self.rows
            if sort == "modified":
                order = sorted(range(len(rows)), key=lambda i: -rows[i].modified)
            elif sort == "deleted":  # the trash: the last deleted first
                order = sorted(range(len(rows)), key=lambda i: -(rows[i].trashed or 0.0))
            elif sort == "type":  # stable: titles stay in order within a type
                order = sorted(range(len(rows)), key=lambda i: type_label(rows[i].type).lower())
            else:
                raise ValueError(f"unknown sort {sort!r}")
            self._orders[sort] = order
        return order

    def _mask(self, f: Filters) -> bytearray | None:
        """1 for each row the filters let through; None when they let everything through."""
        if not f.narrowing:
            return None
        key = Filters(f.favorites, f.type, f.tag)
        mask = self._masks.get(key)
        if (
            mask is None
        ):  # searches of an old query may still run in another thread: build, then publish
            mask = bytearray(
                (not f.favorites or s.favorite)
                and (f.type is None or s.type == f.type)
                and (f.tag is None or f.tag in s.tags)
                for s in self.rows
            )
            if len(self._masks) > 8:
                self._masks = {}
            self._masks[key] = mask
        return mask

    def _ordered(self, hits: Sequence[int], f: Filters) -> Sequence[int]:
        """`hits` (title order, no repeats) kept by the filters, in the chosen sort order."""
        mask = self._mask(f)
        if mask is not None:
            hits = [i for i in hits if mask[i]]
        if f.sort == "title":
            return hits
        if len(hits) == len(self.rows):  # every row
            return self.order(f.sort)
        if len(hits) < len(self.rows) // 8:
            rank = self._rank(f.sort)
            return sorted(hits, key=rank.__getitem__)
        keep = bytearray(len(self.rows))
        for i in hits:
            keep[i] = 1
        return [i for i in self.order(f.sort) if keep[i]]

    def _rank(self, sort: str) -> list[int]:
        key = "rank-" + sort
        rank = self._orders.get(key)
        if rank is None:
            rank = [0] * len(self.rows)
            for pos, i in enumerate(self.order(sort)):
                rank[i] = pos
            self._orders[key] = rank
        return rank

    # -- search ---------------------------------------------------------------------------------
    def matches(self, query: str, f: Filters = Filters()) -> list[Summary]:
        """Exact title matches first, then titles starting with the query, then rows containing it
        anywhere (title, username, URL, tags); each group in the chosen sort order.

        Rows are in title order, so the first two groups are one slice each; only the rest is
        picked row by row (a query most titles start with costs one scan and two slices)."""
        q = query.strip().lower()
        rows = self.rows
        if not q:
            if not f.narrowing and f.sort == "title":
                return rows
            return self._pick(self._ordered(self.order(f.sort), f))
        lo = bisect_left(self.low, q)
        exact_hi = bisect_right(self.low, q, lo)
        hi = bisect_left(self.low, q + "\U0010ffff", exact_hi)
        candidates: Sequence[int] = range(len(rows))
        if self._last and q.startswith(self._last[0]):
            candidates = self._last[1]
        hay = self.hay
        hits = [i for i in candidates if q in hay[i]]  # ascending, like candidates
        self._last = (q, hits)
        # every title in [lo, hi) starts with q, so those rows are hits: the rest lies around them
        rest = hits[: bisect_left(hits, lo)] + hits[bisect_left(hits, hi) :]
        if f.sort == "title" and not f.narrowing:
            return rows[lo:hi] + self._pick(rest)
        out: list[Summary] = []
        for group in (range(lo, exact_hi), range(exact_hi, hi), rest):
            out += self._pick(self._ordered(group, f))
        return out

    def _pick(self, positions: Sequence[int]) -> list[Summary]:
        """The rows at these positions (itemgetter: one C call instead of a Python loop)."""
        if len(positions) < 2:
            return [self.rows[i] for i in positions]
        return list(itemgetter(*positions)(self.rows))

    def fuzzy(
        self,
        query: str,
        f: Filters,
        shown: Sequence[Summary],
        stop: Callable[[], bool] = lambda: False,
    ) -> list[Summary]:
        """Titles close to the query (typos), best first, that `matches` did not already give;
        empty when there are plenty of plain matches or the query is too short to judge.

        rapidfuzz holds the GIL while it scores, so it scores a slice at a time and lets the UI
        thread in between (it draws the plain matches meanwhile); `stop` abandons a stale query."""
        q = query.strip().lower()
        if len(q) < 3 or len(shown) >= FUZZY_BELOW:
            return []
        from rapidfuzz import fuzz, process

        seen = {s.id for s in shown}
        mask = self._mask(f)
        limit = FUZZY_LIMIT + len(seen)
        found: list[tuple[float, int]] = []
        for start in range(0, len(self.low), FUZZY_SLICE):
            if stop():
                return []
            part = self.low[start : start + FUZZY_SLICE]
            found += [
                (score, start + i)
                for _, score, i in process.extract(
                    q, part, scorer=fuzz.partial_ratio, limit=limit, score_cutoff=FUZZY_CUTOFF
                )
            ]
            time.sleep(0)  # give the GIL to the UI thread
        found.sort(key=lambda hit: (-hit[0], hit[1]))
        out = [
            self.rows[i]
            for _, i in found[:limit]
            if self.rows[i].id not in seen and (mask is None or mask[i])
        ]
        return out[:FUZZY_LIMIT]

    def search(self, query: str, f: Filters = Filters()) -> list[Summary]:
        """Both steps at once (Security Center, tests, one-off callers)."""
        first = self.matches(query, f)
        return first + self.fuzzy(query, f, first)

    # -- what the filter pickers offer ------------------------------------------------------------
    def type_counts(self) -> list[tuple[str, int]]:
        """(template key, records) by label."""
        counts = Counter(s.type for s in self.rows)
        return sorted(counts.items(), key=lambda kv: type_label(kv[0]).lower())

    def tag_counts(self) -> list[tuple[str, int]]:
        """(tag, records) by tag, case-insensitive."""
        counts = Counter(t for s in self.rows for t in s.tags)
        return sorted(counts.items(), key=lambda kv: (kv[0].lower(), kv[0]))
