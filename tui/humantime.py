"""Times as people read them: "3 days ago" in lists and views, the full date on request."""

from __future__ import annotations

import time

MINUTE, HOUR, DAY = 60, 3600, 86400


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'} ago"


def ago(ts: float, now: float | None = None) -> str:
    """ "just now", "5 minutes ago", "3 hours ago", "yesterday", "12 days ago", then the date
    ("14 Nov", or "14 Nov 2023" in another year). A time ahead of the clock reads "just now"."""
    now = time.time() if now is None else now
    d = now - ts
    if d < MINUTE:
        return "just now"
    if d < HOUR:
        return _plural(int(d // MINUTE), "minute")
    if d < DAY:
        return _plural(int(d // HOUR), "hour")
    if d < 2 * DAY:
        return "yesterday"
    if d < 45 * DAY:
        return _plural(int(d // DAY), "day")
    then, today = time.localtime(ts), time.localtime(now)
    return time.strftime("%d %b" if then.tm_year == today.tm_year else "%d %b %Y", then).lstrip("0")


def full(ts: float) -> str:
    """The whole date and time, local, with its zone: "30 Nov 2026, 02:40 UTC"."""
    return time.strftime("%d %b %Y, %H:%M %Z", time.localtime(ts)).lstrip("0")
