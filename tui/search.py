"""Incremental record search: rows sorted once, one lowercase haystack per row, and narrowing —
a query that extends the previous one only scans the previous hits (how people type)."""

from __future__ import annotations

from vault.index import Summary

FUZZY_BELOW = 20  # fewer substring hits than this: add fuzzy title matches (rapidfuzz)


class SearchIndex:
    def __init__(self, rows: list[Summary]) -> None:
        self.rows = sorted(rows, key=lambda s: (s.title.lower(), s.id))
        self.hay = [f"{s.title}\n{s.username or ''}\n{s.url or ''}\n{' '.join(s.tags)}".lower() for s in self.rows]
        self._last: tuple[str, bool, list[int]] | None = None

    def search(self, query: str, *, favorites: bool = False) -> list[Summary]:
        q = query.strip().lower()
        if not q:
            return [s for s in self.rows if s.favorite] if favorites else self.rows
        candidates: range | list[int] = range(len(self.rows))
        if self._last and self._last[1] == favorites and q.startswith(self._last[0]):
            candidates = self._last[2]
        hay, rows = self.hay, self.rows
        hits = [i for i in candidates if q in hay[i] and (not favorites or rows[i].favorite)]
        self._last = (q, favorites, hits)
        out = [rows[i] for i in hits]
        if len(out) < FUZZY_BELOW and len(q) >= 3:
            from rapidfuzz import fuzz, process

            seen = set(hits)
            titles = [s.title for s in rows]
            for _, _score, i in process.extract(q, titles, scorer=fuzz.partial_ratio, limit=50, score_cutoff=85):
                if i not in seen and (not favorites or rows[i].favorite):
                    out.append(rows[i])
        return out
