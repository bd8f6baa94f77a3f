"""Shared by the record-list tests: a small vault with every kind of filter target, keys-only
driving, and waiting for the list (it loads and searches in workers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pilotkit import typed, until

from tui.app import StrongroomApp
from tui.screens.records import RecordListScreen
from tui.widgets.record_list import RecordList
from vault.records import Field, Record
from vault.templates import FieldKind
from vault.vault import Vault

PW = "list test password"
SIZE = (100, 30)
T0 = 1_700_000_000.0
S, T = FieldKind.SECRET, FieldKind.TEXT

#: (id, type, title, fields, tags, favourite, modified offset in seconds)
ROWS: list[tuple[str, str, str, list[tuple[str, FieldKind, str]], tuple[str, ...], bool, int]] = [
    (
        "0000000000000001",
        "login",
        "Amazon",
        [("username", T, "ann"), ("password", S, "amz-pw")],
        ("shopping",),
        False,
        5,
    ),
    (
        "0000000000000002",
        "bank-account",
        "Bank of Mars",
        [("bank", T, "Mars Bank")],
        ("finance",),
        True,
        1,
    ),
    (
        "0000000000000003",
        "login",
        "GitHub",
        [("username", T, "ann"), ("password", S, "gh-pw"), ("Recovery code", S, "rc-7781-4410")],
        ("work",),
        True,
        9,
    ),
    (
        "0000000000000004",
        "login",
        "Gmail",
        [("username", T, "ann@gmail.com"), ("password", S, "gm-pw")],
        ("work", "personal"),
        False,
        3,
    ),
    ("0000000000000005", "passport", "Passport", [], (), False, 7),
    ("0000000000000006", "wifi", "Wi-Fi at home", [], ("personal",), False, 2),
    ("0000000000000007", "note", "Door codes", [], (), False, 8),
]
TITLES = sorted((r[2] for r in ROWS), key=str.lower)


def record(
    rid: str,
    type_: str,
    title: str,
    fields: list[tuple[str, FieldKind, str]],
    tags: tuple[str, ...] = (),
    favorite: bool = False,
    offset: int = 0,
) -> Record:
    return Record(
        rid,
        type_,
        title,
        tuple(Field(n, k, v) for n, k, v in fields),
        tags=tags,
        favorite=favorite,
        created=T0,
        modified=T0 + offset,
    )


def make_home(home: Path, extra: list[Record] | None = None) -> Path:
    v = Vault.create(home, "ann@example.com", PW)
    for row in ROWS:
        v.add(record(*row))
    for rec in extra or []:
        v.add(rec)
    v.close()
    return home


async def unlocked_list(pilot: Any, app: StrongroomApp) -> RecordList:
    """Unlock with the keyboard; the list once every row is loaded."""
    await until(pilot, lambda: bool(app.screen.query("#password")), what="the password field")
    await typed(pilot, PW)
    await pilot.press("enter")
    await until(
        pilot,
        lambda: isinstance(app.screen, RecordListScreen) and app.screen.index is not None,
        what="the record list",
    )
    lst = app.screen.query_one(RecordList)
    await until(pilot, lambda: len(lst.rows) >= len(ROWS), what="every row")
    return lst


def titles(lst: RecordList) -> list[str]:
    return [r.title for r in lst.rows]


def text_of(app: StrongroomApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())
