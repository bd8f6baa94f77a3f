"""Number settings with bounds (security times, retention), and the settings file's
`[security]` numbers, which win over the values the vault keeps. Light on imports: the app
reads the file when it starts, before any screen needs the Settings screen's module."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vault.errors import InvalidInputError

if TYPE_CHECKING:
    from .app import StrongroomApp

DEFAULT_AUTO_LOCK_MIN = 5
DEFAULT_CLIPBOARD_SECONDS = 30
#: Minutes after the Account Password was last typed (or a secret last shown) before showing,
#: copying a secret or exporting asks for it again.
DEFAULT_REAUTH_MIN = 5


@dataclass(frozen=True)
class NumberSetting:
    """A whole-number setting in the vault's (non-secret) settings, with its allowed range."""

    key: str
    question: str
    unit: str
    low: int
    high: int
    default: int
    zero: str = "never"  # what 0 means
    shown: str = "after {n} {unit}"  # how a value reads in the overview
    units: str = ""  # the plural when it is not unit + "s"
    label: str = ""  # what the saved notice calls it, when not the key's words
    saved: str = ""  # the notice once saved, a sentence ({n}, {unit})
    saved_zero: str = ""  # the notice once 0 is saved

    def parse(self, text: str) -> int:
        """The typed value, or InvalidInputError saying exactly what is allowed."""
        units = self.units or self.unit + "s"
        allowed = f"a whole number of {units} from {self.low} to {self.high} (0 = {self.zero})"
        typed = text.strip()
        if not re.fullmatch(r"-?[0-9]+", typed):
            raise InvalidInputError(f"{typed!r} is not {allowed}" if typed else f"Type {allowed}.")
        value = int(typed)
        if not self.low <= value <= self.high:
            raise InvalidInputError(f"{value} is out of range: give {allowed}")
        return value

    def current(self, app: StrongroomApp) -> int:
        """The settings file's value, else the stored one; the default when none (or an unusable
        one) is stored."""
        return app.number_setting(self.key, self.default)

    def notice(self, value: int) -> str:
        """What the app says once `value` is saved: a sentence, its unit agreeing with it."""
        if value == 0 and self.saved_zero:
            return self.saved_zero
        if self.saved:
            return self.saved.format(n=value, unit=self.unit + ("" if value == 1 else "s"))
        return f"Saved: {self.label or self.key.replace('_', ' ')} {self.describe(value)}."

    def describe(self, value: int) -> str:
        if value == 0:
            return self.zero
        return self.shown.format(n=value, unit=self.unit + ("" if value == 1 else "s"))


def _security_settings() -> tuple[NumberSetting, NumberSetting, NumberSetting]:
    return (
        NumberSetting(
            "auto_lock_minutes",
            "Lock after how many idle minutes? (0 = never)",
            "minute",
            0,
            24 * 60,
            DEFAULT_AUTO_LOCK_MIN,
            saved="Saved: the app locks after {n} idle {unit}.",
            saved_zero="Saved: the app never locks by itself.",
        ),
        NumberSetting(
            "clipboard_seconds",
            "Clear a copied value after how many seconds? (0 = never)",
            "second",
            0,
            3600,
            DEFAULT_CLIPBOARD_SECONDS,
            saved="Saved: copied values are cleared after {n} {unit}.",
            saved_zero="Saved: copied values are never cleared.",
        ),
        NumberSetting(
            "reauth_minutes",
            "Ask for the Account Password again before showing, copying a secret or exporting, "
            "once it was last typed (or a secret last shown) how many minutes ago? (0 = never)",
            "minute",
            0,
            24 * 60,
            DEFAULT_REAUTH_MIN,
            saved="Saved: the Account Password is asked for again once it was last typed more than {n} {unit} ago.",
            saved_zero="Saved: the Account Password is not asked for again.",
        ),
    )


AUTO_LOCK, CLIPBOARD, REAUTH = _security_settings()
#: The numbers the settings file's [security] table may set (they win over the app's own).
FILE_NUMBERS = {s.key: s for s in (AUTO_LOCK, CLIPBOARD, REAUTH)}


def read_file_numbers(path: Path | None) -> tuple[dict[str, int], list[str]]:
    """The settings file's [security] numbers that are good, and one message per bad entry (a
    file that cannot be read or parsed is reported with the keymap; here it is just empty)."""
    import tomllib

    if path is None:
        return {}, []
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("security")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}, []
    if table is None:
        return {}, []
    if not isinstance(table, dict):
        return {}, [f"[security] in {path} must be a table of name = number; ignored"]
    good: dict[str, int] = {}
    problems = []
    for key, value in table.items():
        setting = FILE_NUMBERS.get(key)
        if setting is None:
            names = ", ".join(FILE_NUMBERS)
            problems.append(
                f"[security] in {path}: no setting {key!r} (there are {names}); ignored"
            )
            continue
        try:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInputError(f"{value!r} is not a whole number")
            good[key] = setting.parse(str(value))
        except InvalidInputError as exc:
            problems.append(f"[security] {key} in {path}: {exc}; ignored")
    return good, problems
