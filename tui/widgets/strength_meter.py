"""Live strength of a new Account Password (sign-up, change password): one widget for both."""

from __future__ import annotations

from textual.widgets import Static

from vault.strength import estimate


def strength_line(password: str) -> str:
    """`Strength: ███░░ strong  <advice>`; empty for an empty password."""
    if not password:
        return ""
    s = estimate(password)
    bar = "█" * (s.score + 1) + "░" * (4 - s.score)
    return f"Strength: {bar} {s.label}  {s.warning}"


class StrengthMeter(Static):
    """Call `show(password)` on every change of the password field it sits under."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id, markup=False)  # zxcvbn's advice may quote the password's '['

    def show(self, password: str) -> None:
        self.update(strength_line(password))
