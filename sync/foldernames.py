"""Which names in an account folder are Strongroom's sync files (layout 2, docs/formats.md).

One place for the rules, used by the folder sync and by the watcher (which must wake only for
files that can carry news): `data.mssb` (the snapshot), conflicted copies of it whatever the
provider calls them, and change files in `changes/`. Temp files (leading `.`), iCloud
placeholders, set-aside files (`.merged`, `.not-merged`, `.damaged`, `data.obsolete-…`,
`data.damaged-…`) never count.
"""

from __future__ import annotations

import re
from pathlib import PurePath

SNAPSHOT = "data.mssb"
CHANGES = "changes"
CHANGE_SUFFIX = ".mslog"
DAMAGED_SUFFIX = ".damaged"
PLACEHOLDER = ".data.mssb.icloud"

#: `data<sep>….mssb`: Dropbox "data (X's conflicted copy 2026-12-07).mssb", Nextcloud "data
#: (conflicted copy …).mssb", iCloud "data 2.mssb", Google Drive "data (1).mssb", OneDrive
#: "data-DESKTOP-7Q3K.mssb", Syncthing "data.sync-conflict-….mssb".
CONFLICT_COPY = re.compile(r"^data[ .(_-].*\.mssb$", re.IGNORECASE)
_SET_ASIDE = ("data.obsolete-", "data.damaged-")


def is_snapshot_copy(name: str) -> bool:
    """A conflicted copy of data.mssb made by a sync client (never data.mssb or our set-asides)."""
    return (
        name != SNAPSHOT
        and bool(CONFLICT_COPY.match(name))
        and not name.lower().startswith(_SET_ASIDE)
    )


def is_change_file(name: str) -> bool:
    """A file in `changes/` a reader should read: anything but temp/hidden and set-aside files.

    The name is only a hint (the header says who wrote it), so a provider's copy of a change file
    ("x-000001-ab12 (1).mslog", "….sync-conflict-….mslog") is read like any other."""
    return bool(name) and not name.startswith(".") and not name.endswith(DAMAGED_SUFFIX)


def is_sync_file(relative: str | PurePath) -> bool:
    """Can a file at this path (relative to the account folder) carry another device's changes?

    For the watcher: "data.mssb", "data (1).mssb", "changes/<anything readable>" are; temp files,
    placeholders, set-aside files, account.key and anything deeper are not."""
    parts = PurePath(relative).parts
    if len(parts) == 1:
        return parts[0] == SNAPSHOT or is_snapshot_copy(parts[0])
    if len(parts) == 2 and parts[0] == CHANGES:
        return is_change_file(parts[1])
    return False


def change_file_name(writer: str, n: int, nonce: str) -> str:
    """`<writer>-<n>-<random>.mslog`: unique per write, so two writers never collide."""
    safe = re.sub(r"[^A-Za-z0-9.]", "_", writer)[:64]
    return f"{safe}-{n:06d}-{nonce}{CHANGE_SUFFIX}"
