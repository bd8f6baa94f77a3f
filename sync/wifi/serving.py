"""Which Wi-Fi announcements on the network are this home's own running peers.

A `sync now` beside a running `sync serve` (or the app) on the same home would otherwise find
that serve, sync with its own store and count it as a peer. Each running peer of a home leaves
its instance name in HOME/wifi-serving/ (one small file per peer, removed when it stops; one
left by a killed process names a dead process id and is swept); peers of the same home skip
those names. A file also holds the home's resolved path, so a copy of the home (`cp -r`: a clone
is another device) still counts the original's serve as a peer.

Nothing here is secret (a random instance name, a path, a process id); files are 0600 anyway, as
everything in the home.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from vault import safejson
from vault.durable import write_private_atomic

FOLDER = "wifi-serving"


def _entry(home: Path, name: str) -> Path:
    return home / FOLDER / hashlib.sha256(name.encode()).hexdigest()[:16]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: alive
    return True


def mark(home: Path, name: str) -> Path | None:
    """Say that this process serves `home` under the instance name `name`; the file, or None when
    the home cannot take it (the peer still works; a `sync now` beside it may count it)."""
    path = _entry(home, name)
    body = {"home": str(home.resolve()), "name": name, "pid": os.getpid()}
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        write_private_atomic(path, json.dumps(body).encode())
    except OSError:
        return None
    return path


def unmark(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()


def own_names(home: Path) -> set[str]:
    """Instance names under which a live process serves this very home."""
    names: set[str] = set()
    try:
        entries = list((home / FOLDER).iterdir())
        here = str(home.resolve())
    except OSError:
        return names
    for path in entries:
        try:
            body = safejson.loads(path.read_bytes())
            if body["home"] != here:
                continue  # copied from another home along with it
            if not _alive(int(body["pid"])):
                path.unlink()  # left by a process that was killed
                continue
            names.add(str(body["name"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return names
