"""The user's own keys: the `[keymap]` table of the settings file, checked against the registry.

    # ~/.config/strongroom/settings.toml (Linux; STRONGROOM_SETTINGS names another file)
    [keymap]
    "records.new" = "a"                  # one key
    "record.copy_username" = ["u", "U"]  # or several
    "app.lock" = "ctrl+k"

An entry that names no action of the registry, or a key Textual cannot read, is reported and
left out; the rest apply (through `App.set_keymap`). A settings file that is not TOML is
reported and ignored. Nothing here stops the app from starting.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from textual.keys import Keys, _character_to_key, format_key, key_to_character

from .actions import ACTIONS

SETTINGS_ENV = "STRONGROOM_SETTINGS"
MODIFIERS = ("ctrl", "alt", "shift", "meta", "super", "hyper")
NAMED_KEYS = frozenset(
    k.value for k in Keys if "+" not in k.value and not k.value.startswith("<")
) | {"backspace", "enter", "tab", "space"}
SHOWN = {
    "escape": "Esc",
    "enter": "Enter",
    "tab": "Tab",
    "space": "Space",
    "backspace": "Backspace",
    "delete": "Del",
    "insert": "Ins",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
}


class KeyNameError(ValueError):
    """A key the app cannot read (the message says which and why)."""


def settings_file() -> Path:
    """STRONGROOM_SETTINGS, else settings.toml in the platform's user config dir."""
    env = os.environ.get(SETTINGS_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("strongroom", appauthor=False)) / "settings.toml"


def parse_key(text: str) -> str:
    """One key as Textual names it ("?" -> "question_mark", "Ctrl+K" -> "ctrl+k")."""
    raw = text.strip()
    if not raw:
        raise KeyNameError("an empty key")
    *mods, base = raw.split("+") if len(raw) > 1 else [raw]
    mods = [m.strip().lower() for m in mods]
    bad = [m for m in mods if m not in MODIFIERS]
    if bad or (not base and mods):
        raise KeyNameError(f"{raw!r} is not a key (modifiers are {', '.join(MODIFIERS)})")
    if len(base) == 1:  # "?" -> "question_mark", as Textual names the keys it reads
        base = _character_to_key(base.lower() if mods and base.isalpha() else base)
    else:
        base = base.strip().lower()
        if base not in NAMED_KEYS and key_to_character(base) is None:
            raise KeyNameError(f"{raw!r} is not a key name Strongroom knows")
    return "+".join([*mods, base])


def parse_keys(value: object) -> str:
    """A keymap value ("k", "k,ctrl+k" or ["k", "ctrl+k"]) as Textual's comma-separated keys."""
    if isinstance(value, str):
        parts = value.split(",") if value.strip() != "," else [","]
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        parts = value
    else:
        raise KeyNameError("give a key as a string, or several as a list of strings")
    return ",".join(parse_key(p) for p in parts)


@dataclass(frozen=True)
class UserKeymap:
    """The entries that apply (action id -> keys) and one message per entry left out."""

    keys: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def parse_keymap(table: object, where: str = "the settings file") -> UserKeymap:
    """Check a `[keymap]` table entry by entry: the good ones apply, each bad one is explained."""
    if not isinstance(table, dict):
        return UserKeymap(problems=[f"[keymap] in {where} must be a table of action id = key"])
    keys: dict[str, str] = {}
    problems: list[str] = []
    for action_id, value in table.items():
        if action_id not in ACTIONS:
            problems.append(
                f"[keymap] in {where}: no action is called {action_id!r} "
                "(the help screen, ?, lists every action id); ignored"
            )
            continue
        try:
            keys[action_id] = parse_keys(value)
        except KeyNameError as exc:
            problems.append(f"[keymap] {action_id} in {where}: {exc}; ignored")
    return UserKeymap(keys, problems)


def read_keymap(path: Path | None) -> UserKeymap:
    """The keymap of the settings file at `path` (none when there is no file or no table)."""
    if path is None:
        return UserKeymap()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return UserKeymap()
    except (OSError, UnicodeDecodeError) as exc:
        return UserKeymap(
            problems=[f"cannot read the settings file {path}: {exc}; no keys remapped"]
        )
    try:
        settings = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return UserKeymap(
            problems=[f"the settings file {path} is not valid TOML ({exc}); no keys remapped"]
        )
    if "keymap" not in settings:
        return UserKeymap()
    return parse_keymap(settings["keymap"], str(path))


def key_label(key: str) -> str:
    """A key as the help and the palette print it: "ctrl+r", "?", "Esc", "↑", "F1"."""
    mods, plus, base = key.rpartition("+")
    if not base:  # "ctrl++" style: the key is "+"
        mods, base = mods.rstrip("+"), "+"
    if base in SHOWN:
        shown = SHOWN[base]
    elif base[:1] == "f" and base[1:].isdigit():
        shown = base.upper()
    else:
        shown = format_key(base)  # "slash" -> "/", "question_mark" -> "?"
    return f"{mods}{plus}{shown}"


def default_key(action_id: str) -> str:
    """An action's first default key, for people to read."""
    return key_label(current_keys({}, action_id)[0])


def current_keys(keymap: dict[str, str], action_id: str) -> list[str]:
    """The keys of an action now: the user's keymap, else the registry's default."""
    keys = keymap.get(action_id) or ACTIONS[action_id].keys
    return [k.strip() for k in keys.split(",") if k.strip()]


def keys_taken(keymap: dict[str, str]) -> list[str]:
    """What a keymap takes away: a key it gives to one action that another action of the same
    screen had (Textual lets the keymap win, silently), or that an app-wide key runs first."""
    from .actions import ACTIONS, bound_classes, declared

    if not keymap:
        return []
    said: dict[tuple[str, str], str] = {}
    classes = bound_classes()
    app_first = {
        key: ident
        for ident, keys in declared(classes[0], keymap).items()
        if ident in ACTIONS and ACTIONS[ident].priority
        for key in keys
    }
    for cls in classes:
        before, after = declared(cls, {}), declared(cls, keymap)
        for ident, keys in before.items():
            for key in keys:
                if ident not in keymap and key not in after.get(ident, []):
                    taker = next((i for i, ks in after.items() if key in ks), "another action")
                    said[(ident, key)] = (
                        f"[keymap] {key_label(key)} now runs {taker}, so {ident} loses it"
                    )
        for ident in after:
            for key in keymap.get(ident, "").split(","):
                first = app_first.get(key)
                if key and first is not None and first != ident:
                    said[(ident, key)] = (
                        f"[keymap] {key_label(key)} for {ident} never reaches it: "
                        f"it is {first}'s key everywhere"
                    )
    return list(said.values())
