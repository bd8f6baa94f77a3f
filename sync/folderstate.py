"""What this device knows about its sync folder, kept in the store's meta (`sync.folder.state`).

Lets a new process (every `strongroom sync now`) read only what is new: the snapshot it last
merged (by inode, size and mtime: data.mssb is only ever replaced by a rename), the change files
it has read, the local change counter up to which the folder holds everything (the *published*
marker), the key slot it last saw in the folder (the compare-and-swap *base*), its next change
file counter, when a layout-1 writer was last seen, and the problems of the last syncs. Local and
rebuildable: a device without it reads the folder once in full. Spec: docs/formats.md.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault import safejson

KEY = "sync.folder.state"

Stat = tuple[int, int, int]


def stat_of(path: Path) -> Stat | None:
    """(inode, size, mtime_ns) of a file, None when absent (or unreadable)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass
class Problem:
    """A folder file that was skipped: which, why, what to do. Listed while `file` exists."""

    file: str
    reason: str
    todo: str

    def to_obj(self) -> dict[str, str]:
        return {"file": self.file, "reason": self.reason, "todo": self.todo}


@dataclass
class FolderState:
    snap: Stat | None = None
    read: set[str] = field(default_factory=set)
    published: int = 0
    base: str | None = None
    n: int = 1
    legacy: float | None = None
    problems: list[Problem] = field(default_factory=list)
    #: change files of another account or generation: never merged, never deleted by us
    skip: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, store: Any) -> FolderState:
        """The saved state; any unreadable value (damaged, another version) is a fresh state."""
        raw = store.get_meta(KEY)
        if not raw:
            return cls()
        try:
            o = safejson.loads(raw)
            if not isinstance(o, dict):
                raise ValueError
            snap = o.get("snap")
            stat = None if snap is None else tuple(int(x) for x in snap)
            if stat is not None and len(stat) != 3:
                raise ValueError
            legacy = o.get("legacy")
            return cls(
                stat,
                {str(x) for x in _list(o.get("read"))},
                int(o.get("published", 0)),
                None if o.get("base") is None else str(o["base"]),
                max(1, int(o.get("n", 1))),
                None if legacy is None else float(legacy),
                [
                    Problem(str(p["file"]), str(p["reason"]), str(p["todo"]))
                    for p in _list(o.get("problems"))
                ],
                {str(x) for x in _list(o.get("skip"))},
            )
        except (ValueError, TypeError, KeyError, OverflowError):
            return cls()  # rebuildable: read the folder in full once

    def save(self, store: Any) -> None:
        store.set_meta(
            KEY,
            json.dumps(
                {
                    "v": 1,
                    "snap": list(self.snap) if self.snap else None,
                    "read": sorted(self.read),
                    "published": self.published,
                    "base": self.base,
                    "n": self.n,
                    "legacy": self.legacy,
                    "problems": [p.to_obj() for p in self.problems],
                    "skip": sorted(self.skip),
                },
                sort_keys=True,
            ).encode(),
        )


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("not a list")
    return value


def problems_now(store: Any, account_dir: Path) -> list[dict[str, str]]:
    """The recorded problems whose file is still in the folder (deleting it dismisses one)."""
    state = FolderState.load(store)
    return [p.to_obj() for p in state.problems if (account_dir / p.file).exists()]
