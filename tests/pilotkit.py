"""Driving the real app by keys in tests: typing, and waiting with a deadline.

The app loads, searches and syncs in workers, so a test waits for what a person would see
rather than sleeping a fixed time. Every wait fails with what it was waiting for and which
screen the app was on, and gives back how long it took (some tests report it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.screens.account import LockScreen
from tui.screens.records import EditRecordScreen, RecordDetailScreen, RecordListScreen


async def typed(pilot: Any, text: str) -> None:
    """Type `text` key by key, as a person would."""
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


def keys_of(text: str) -> list[str]:
    """The keys that type `text` (a space is the key "space")."""
    return [ch if ch != " " else "space" for ch in text]


def burst(pilot: Any, *keys: str) -> None:
    """Queue every key on the app at once, as a terminal delivers a fast typist's keys or
    `tmux send-keys` does: unlike Pilot.press, nothing waits for the app between two keys.
    Each key is built as Pilot builds it (names such as "tab", "ctrl+s"; one character each)."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    app = pilot.app
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        original = REPLACED_KEYS.get(key, key)
        try:
            char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        app.post_message(event)


async def until(
    pilot: Any, check: Callable[[], object], seconds: float = 10.0, what: str = ""
) -> float:
    """Keep the app running until check() holds; the seconds it took (fails after `seconds`).
    A widget check() looks for that is not there yet (a screen still composing) means not yet."""
    from textual.css.query import NoMatches

    start = time.monotonic()
    while True:
        try:
            held = check()
        except NoMatches:
            held = False
        if held:
            return time.monotonic() - start
        if time.monotonic() - start >= seconds:
            raise AssertionError(
                f"timed out after {seconds} s waiting for {what or 'the condition'}; "
                f"on {type(pilot.app.screen).__name__}"
            )
        await pilot.pause(0.05)


async def on_screen(pilot: Any, screen_type: type, seconds: float = 10.0) -> float:
    """Wait until the app shows a `screen_type` screen; the seconds it took.

    Then let the new screen finish mounting (its Header among others): a test that switches
    screens again at once would otherwise race Textual's own mount handlers."""
    took = await until(
        pilot, lambda: isinstance(pilot.app.screen, screen_type), seconds, screen_type.__name__
    )
    await pilot.pause(0.05)
    await pilot.pause()
    return took


async def unlock(pilot: Any, password: str) -> None:
    """From the lock screen, type the password and wait for the record list."""
    await on_screen(pilot, LockScreen)
    await typed(pilot, password)
    await pilot.press("enter")
    await on_screen(pilot, RecordListScreen)


async def edit_first_record(pilot: Any, password: str) -> None:
    """Unlock, open the list's first record and its edit form."""
    await unlock(pilot, password)
    await pilot.press("enter")
    await on_screen(pilot, RecordDetailScreen)
    await pilot.press("e")
    await on_screen(pilot, EditRecordScreen)


def one_login_home(home: Path, password: str) -> Path:
    """A device home holding one account with one login ("GitHub", user ann), locked."""
    from vault.records import new_record
    from vault.vault import Vault

    v = Vault.create(home, "ann@example.com", password)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret"}))
    v.close()
    return home
