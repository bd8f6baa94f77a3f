"""The checks a field's value passes when a person types it (the app's form, `add`/`edit`).

One gate for both front ends, so the app and the CLI refuse the same values with the same words.
Imports do not pass here: another manager's export is taken as it is, never refused for a date.
"""

from __future__ import annotations

import re
import time

from .errors import InvalidInputError
from .templates import FieldKind, Template

#: How far ahead a card's expiry may be: cards are issued for 3 to 5 years, some for 10.
EXPIRY_YEARS_AHEAD = 20
#: The earliest expiry year taken (an older card is of no use to keep).
EXPIRY_FIRST_YEAR = 2000
_EXPIRY = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})")


def checked_expiry(value: str, now: float | None = None) -> str:
    """A card's expiry as MM/YY or MM/YYYY (the month padded, `/` between); the reason otherwise.

    Month 01–12; the year from 2000 to 20 years after this one (two digits read as 20YY)."""
    text = value.strip()
    m = _EXPIRY.fullmatch(text)
    if m is None:
        raise InvalidInputError(
            f"the expiry date {text!r} is not a month and year: write MM/YY or MM/YYYY, e.g. 04/29"
        )
    month, year = int(m.group(1)), m.group(2)
    if not 1 <= month <= 12:
        raise InvalidInputError(
            f"the expiry date {text!r} has no month {m.group(1)}: the month is 01 to 12"
        )
    full = int(year) + (2000 if len(year) == 2 else 0)
    this_year = time.gmtime(time.time() if now is None else now).tm_year
    last = this_year + EXPIRY_YEARS_AHEAD
    if not EXPIRY_FIRST_YEAR <= full <= last:
        raise InvalidInputError(
            f"the expiry date {text!r} is in {full}: a card's expiry year is "
            f"{EXPIRY_FIRST_YEAR} to {last}"
        )
    return f"{month:02d}/{year}"


def checked_value(tpl: Template, name: str, kind: FieldKind, value: str) -> str:
    """The value to store for a typed field of a record of template `tpl` (the same value, or
    tidied: a card's expiry, an SSH key's yes/no); InvalidInputError naming what is wrong."""
    if not value:
        return value
    if kind is FieldKind.TOTP:
        from .totp import parse_totp

        parse_totp(value)  # a bad secret is refused now, not when the code is needed
        return value
    if tpl.key == "credit-card" and name.lower() == "expiry":
        return checked_expiry(value)
    if tpl.key == "ssh-key" and name.lower() == "ask":
        from .sshkeys import ask_value

        return ask_value(value)  # yes or no, never a typo that turns the question off
    return value
