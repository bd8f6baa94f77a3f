"""The actor a store's writes count under in version vectors, never reused by another store.

A vector entry (actor → counter) names one write per counter. A store put back from a copy would
count again from where the copy was, and a cloned home would count on beside the original: two
different versions under one vector, which every merge takes for the same one. So each store
checks at open that it is the store that last wrote as its actor, here, and takes a fresh actor
id when it cannot be sure:

- the store remembers where its actor belongs (the home's resolved path and the host name): a
  home copied or moved elsewhere, or to another machine, is another store;
- a small mark file beside the store (`vault.actor`, not part of the `vault.db*` files) holds
  the actor and the store's change counter after its last local write: a store whose counter is
  behind the mark was rolled back (put back from a copy) after it wrote, and one without a mark
  (a store file copied on its own, or made by an older Strongroom) cannot show it was not.

A fresh actor costs one more entry in the vectors of records written after it; being wrong the
other way would lose edits, so every doubt mints one. A new device's first actor is its device id.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store

MARK_NAME = "vault.actor"
ACTOR_META = "actor"
WHERE_META = "actor_where"


def _where(home: Path) -> bytes:
    here = {"home": str(home.resolve()), "host": platform.node()}
    return json.dumps(here, sort_keys=True).encode()


def _mark(home: Path) -> tuple[str, int] | None:
    try:
        actor, seq = (home / MARK_NAME).read_text(encoding="ascii").split()
        return actor, int(seq)
    except (OSError, ValueError, UnicodeError):
        return None


def note_write(home: Path, actor: str, seq: int) -> None:
    """After a local write: the mark that tells a later open this store was not rolled back.

    Not fsynced: a mark lost in a crash only makes the next open take a fresh actor."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    try:
        fd = os.open(home / MARK_NAME, flags, 0o600)
        try:
            os.write(fd, f"{actor} {seq}\n".encode("ascii"))
        finally:
            os.close(fd)
    except OSError:
        pass  # an unwritable mark only means a fresh actor at the next open


def establish(store: Store, home: Path, device: str) -> str:
    """A new store: its device id is its first actor."""
    adopt(store, home, device)
    return device


def checked_actor(store: Store, home: Path, device: str) -> str:
    """This store's actor, or a fresh one when the store may be a copy of one that wrote as it."""
    raw = store.get_meta(ACTOR_META)
    actor = raw.decode() if raw else device
    mark = _mark(home)
    if (
        store.get_meta(WHERE_META) == _where(home)
        and mark is not None
        and mark[0] == actor
        and store.max_seq() >= mark[1]
    ):
        return actor
    fresh = f"{device}.{os.urandom(4).hex()}"
    adopt(store, home, fresh)
    return fresh


def adopt(store: Store, home: Path, actor: str) -> None:
    with store.transaction() as db:
        store.set_meta(ACTOR_META, actor.encode(), db)
        store.set_meta(WHERE_META, _where(home), db)
        note_write(home, actor, store.max_seq())
