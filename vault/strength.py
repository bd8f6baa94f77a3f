"""Password strength (zxcvbn): a 0–4 score with a label, the estimated guesses and advice."""

from __future__ import annotations

from dataclasses import dataclass

LABELS = ("very weak", "weak", "fair", "strong", "very strong")
MAX_CHECKED = 100  # zxcvbn is quadratic in length; beyond this a password is strong anyway


@dataclass(frozen=True)
class Strength:
    score: int
    guesses_log10: float
    crack_time: str
    warning: str
    suggestions: tuple[str, ...]

    @property
    def label(self) -> str:
        return LABELS[self.score]


def estimate(password: str, user_inputs: tuple[str, ...] = ()) -> Strength:
    if not password:
        return Strength(0, 0.0, "instant", "", ("Add a password.",))
    from zxcvbn import zxcvbn

    r = zxcvbn(password[:MAX_CHECKED], user_inputs=list(user_inputs))
    feedback = r.get("feedback", {})
    return Strength(int(r["score"]), float(r["guesses_log10"]),
                    str(r["crack_times_display"]["offline_slow_hashing_1e4_per_second"]),
                    str(feedback.get("warning") or ""), tuple(feedback.get("suggestions") or ()))
