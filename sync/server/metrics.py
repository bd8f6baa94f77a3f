"""Request and sync counters for `GET /metrics`, in the Prometheus text format.

Counting costs no database write: each process adds to its own fixed array of float64s. With
`--workers N` the arrays are small files (one per process, named by pid) in a directory the
supervisor makes, mapped into memory; `/metrics` in any worker sums every file, so one scrape sees
the whole server whichever process answers. A worker that dies leaves its file, so totals never go
down; its replacement starts a file of its own. Without a directory (one process) the array is
plain memory.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Sequence
from pathlib import Path

#: Statuses counted by name; any other lands in "other".
STATUSES = (200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 410, 413, 422, 429, 500, 503)
#: Upper bounds (seconds) of the latency histogram's buckets; +Inf is the count.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: Plain counters, with their help text.
COUNTERS = {
    "strongroom_sync_pushes_total": "Pushes accepted (one per request that stored or merged).",
    "strongroom_sync_pulls_total": "Pulls answered (one per page).",
    "strongroom_sync_envelopes_pushed_total": "Envelope versions stored by pushes.",
    "strongroom_sync_envelopes_pulled_total": "Envelope versions sent by pulls.",
}
OTHER = "other"
_SUFFIX = ".metrics"


class Metrics:
    """Counters for one server; `routes` are the app's path templates (the label values)."""

    def __init__(self, routes: Sequence[str], directory: Path | None = None) -> None:
        self.routes = [*dict.fromkeys(routes), OTHER]
        self.directory = directory
        self._route_ix = {r: i for i, r in enumerate(self.routes)}
        self._status_ix = {s: i for i, s in enumerate(STATUSES)}
        self._n_status = len(STATUSES) + 1
        self._hist = len(self.routes) * self._n_status  # per route: buckets..., sum, count
        self._hist_width = len(BUCKETS) + 2
        self._counters = self._hist + len(self.routes) * self._hist_width
        self._counter_ix = {name: self._counters + i for i, name in enumerate(COUNTERS)}
        self.size = self._counters + len(COUNTERS)
        self._mmap: mmap.mmap | None = None
        if directory is None:
            self._values = memoryview(bytearray(self.size * 8)).cast("d")
        else:
            path = directory / f"{os.getpid()}{_SUFFIX}"
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.ftruncate(fd, self.size * 8)
                self._mmap = mmap.mmap(fd, self.size * 8)
            finally:
                os.close(fd)
            self._values = memoryview(self._mmap).cast("d")

    def observe(self, route: str, status: int, seconds: float) -> None:
        """One request answered: count it by route and status, and its latency by route."""
        r = self._route_ix.get(route, len(self.routes) - 1)
        s = self._status_ix.get(status, self._n_status - 1)
        v = self._values
        v[r * self._n_status + s] += 1
        base = self._hist + r * self._hist_width
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                v[base + i] += 1
                break
        v[base + len(BUCKETS)] += seconds
        v[base + len(BUCKETS) + 1] += 1

    def add(self, counter: str, n: int = 1) -> None:
        self._values[self._counter_ix[counter]] += n

    def totals(self) -> list[float]:
        """Every value summed over this server's processes."""
        if self.directory is None:
            return list(self._values)
        out = [0.0] * self.size
        for path in self.directory.glob(f"*{_SUFFIX}"):
            try:
                raw = path.read_bytes()
            except OSError:  # a file being made or removed at this moment
                continue
            if len(raw) != self.size * 8:
                continue
            for i, x in enumerate(memoryview(raw).cast("d")):
                out[i] += x
        return out

    def render(self) -> str:
        """The Prometheus text exposition (version 0.0.4)."""
        v = self.totals()
        lines = [
            "# HELP strongroom_http_requests_total Requests answered, by route and status.",
            "# TYPE strongroom_http_requests_total counter",
        ]
        statuses = [*map(str, STATUSES), OTHER]
        for r, route in enumerate(self.routes):
            for s, status in enumerate(statuses):
                n = v[r * self._n_status + s]
                if n:
                    lines.append(
                        f'strongroom_http_requests_total{{route="{route}",status="{status}"}} {n:.0f}'
                    )
        name = "strongroom_http_request_duration_seconds"
        lines += [
            f"# HELP {name} Time from request to the end of the response, by route.",
            f"# TYPE {name} histogram",
        ]
        for r, route in enumerate(self.routes):
            base = self._hist + r * self._hist_width
            count = v[base + len(BUCKETS) + 1]
            if not count:
                continue
            cumulative = 0.0
            for i, bound in enumerate(BUCKETS):
                cumulative += v[base + i]
                lines.append(f'{name}_bucket{{route="{route}",le="{bound}"}} {cumulative:.0f}')
            lines.append(f'{name}_bucket{{route="{route}",le="+Inf"}} {count:.0f}')
            lines.append(f'{name}_sum{{route="{route}"}} {v[base + len(BUCKETS)]:.6f}')
            lines.append(f'{name}_count{{route="{route}"}} {count:.0f}')
        for counter, help_text in COUNTERS.items():
            lines += [
                f"# HELP {counter} {help_text}",
                f"# TYPE {counter} counter",
                f"{counter} {v[self._counter_ix[counter]]:.0f}",
            ]
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        if self._mmap is not None:
            kept = list(self._values)
            self._values.release()
            self._mmap.close()
            self._mmap = None
            self._values = memoryview(bytearray(self.size * 8)).cast("d")
            for i, x in enumerate(kept):  # counted on in memory if a request is still ending
                self._values[i] = x
