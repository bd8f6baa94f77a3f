"""Password strength: zxcvbn's 0–4 score with a label, the estimated guesses and advice.

Also the exact entropy of generated secrets, where zxcvbn (which guesses at human patterns)
would under- or over-rate a truly random string.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

LABELS = ("very weak", "weak", "fair", "strong", "very strong")
MAX_CHECKED = 100  # zxcvbn's matching grows fast with length; 100 characters are plenty to judge
_OLD_ZXCVBN_LIMIT = 72  # zxcvbn releases without `max_length` refuse anything longer


@dataclass(frozen=True)
class Strength:
    score: int
    label: str
    guesses_log10: float
    crack_time_display: str
    warning: str
    suggestions: tuple[str, ...]

    @property
    def crack_time(self) -> str:
        """Short name kept for callers written before `crack_time_display`."""
        return self.crack_time_display


@cache
def _zxcvbn() -> tuple[Any, bool]:
    """The zxcvbn function, imported on first use (it loads large dictionaries), and whether it takes max_length."""
    from zxcvbn import zxcvbn

    return zxcvbn, "max_length" in inspect.signature(zxcvbn).parameters


def estimate(password: str, user_inputs: Iterable[str] = ()) -> Strength:
    """How guessable `password` is; `user_inputs` (email, title, …) count as known to an attacker.

    Only the first 100 characters are examined so a pasted novel cannot freeze the UI.
    """
    if not password:
        return Strength(0, LABELS[0], 0.0, "instant", "", ("Add a password.",))
    fn, has_max = _zxcvbn()
    inputs = [s for s in user_inputs if s]
    if has_max:
        r = fn(password[:MAX_CHECKED], user_inputs=inputs, max_length=MAX_CHECKED)
    else:  # pragma: no cover - older zxcvbn
        r = fn(password[:_OLD_ZXCVBN_LIMIT], user_inputs=inputs)
    score = max(0, min(4, int(r["score"])))
    feedback = r.get("feedback") or {}
    return Strength(
        score,
        LABELS[score],
        float(r["guesses_log10"]),
        str(r["crack_times_display"]["offline_slow_hashing_1e4_per_second"]),
        str(feedback.get("warning") or ""),
        tuple(str(s) for s in feedback.get("suggestions") or ()),
    )


def entropy_bits(length: int, alphabet_size: int) -> float:
    """Entropy of `length` symbols drawn uniformly from `alphabet_size` (generated secrets only)."""
    if length <= 0 or alphabet_size <= 1:
        return 0.0
    return length * math.log2(alphabet_size)
