"""Counts and durations in words, for every message a person reads ("1 record", "2 records",
"15 minutes"): one place, so no message says "1 records" or "record(s)". Pure: no UI."""

from __future__ import annotations


def plural(what: str, n: int) -> str:
    """'record' → '1 record', '2 records' ('entry' → 'entries', 'item of an unknown type' →
    'items of an unknown type'); thousands separated: '2,100 records'."""
    if n == 1:
        return f"1 {what}"
    head, sep, tail = what.partition(" of ")
    if head.endswith("y") and not head.endswith(("ay", "ey", "oy", "uy")):
        head = head[:-1] + "ies"
    elif head.endswith(("s", "x", "ch", "sh")):
        head += "es"
    else:
        head += "s"
    return f"{n:,} {head}{sep}{tail}"


_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def duration(seconds: float) -> str:
    """A length of time as people say it: '90 seconds', '15 minutes', '1 hour', '2 days' (the
    largest unit it is a whole number of; else in minutes or seconds, rounded)."""
    whole = round(seconds)
    for unit, size in _UNITS:
        if whole >= size and whole % size == 0:
            return plural(unit, whole // size)
    return plural("second", max(whole, 0))
