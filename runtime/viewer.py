"""Open a record's file with the system's viewer (the app's files screen, `o`).

A viewer reads a file, so the plaintext has to be one for a while. The copy goes into a folder of
its own (0700, the file 0600) in memory-backed storage, `$XDG_RUNTIME_DIR` or else `/dev/shm`, never
onto a disk, and is deleted when the app locks or quits; a copy left by a crash is deleted by the
next app that opens a file (its folder names a process that is gone), or by a reboot. Where no
viewer can show anything (no `xdg-open`/`open`, or no graphical session, as over SSH) the app says
so and offers to save the file instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vault.attachments import Attachment
    from vault.vault import Vault

PREFIX = "strongroom-open-"
#: How long to wait for the opener's answer (xdg-open hands the file over and exits).
OPENER_WAIT_S = 10.0


class NoViewerError(Exception):
    """No system viewer can show a file here; the message says why, for the person."""


def opener() -> str:
    """The system's opener program, or NoViewerError saying why there is none."""
    name = "open" if sys.platform == "darwin" else "xdg-open"
    found = shutil.which(name)
    if found is None:
        raise NoViewerError(f"no system viewer here ({name} is not installed)")
    graphical = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if sys.platform != "darwin" and not graphical:
        raise NoViewerError("no graphical session here (over SSH or on a console)")
    return found


def memory_folder() -> Path:
    """Where a plaintext copy may go: memory-backed and this user's own."""
    for raw in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if not raw:
            continue
        path = Path(raw)
        with contextlib.suppress(OSError):
            if path.is_dir() and os.access(path, os.W_OK | os.X_OK):
                return path
    raise NoViewerError("no memory-backed folder for a temporary copy ($XDG_RUNTIME_DIR, /dev/shm)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(root: Path) -> None:
    """Delete copies whose app is gone (it crashed before it could)."""
    with contextlib.suppress(OSError):
        for entry in root.iterdir():
            if not entry.name.startswith(PREFIX):
                continue
            pid = entry.name[len(PREFIX) :].split("-", 1)[0]
            with contextlib.suppress(OSError):
                if pid.isdigit() and not _alive(int(pid)) and entry.stat().st_uid == os.getuid():
                    shutil.rmtree(entry, ignore_errors=True)


class OpenedCopies:
    """The plaintext copies this app handed to a viewer, deleted together by `clear`."""

    def __init__(self) -> None:
        self.folder: Path | None = None

    def write(self, vault: Vault, att: Attachment) -> Path:
        """The file's bytes in a private copy (0600 in a 0700 folder), checked in full first."""
        from vault import attachstore

        if self.folder is None or not self.folder.is_dir():
            root = memory_folder()
            sweep(root)
            self.folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
        target = self.folder / att.name
        attachstore.save_to(vault, att, target)
        return target

    def clear(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def show(path: Path) -> None:
    """Hand `path` to the system's opener; NoViewerError when it says it could not."""
    program = opener()
    proc = subprocess.Popen(
        [program, str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the app's terminal and signals are not the viewer's
    )
    try:
        code = proc.wait(timeout=OPENER_WAIT_S)
    except subprocess.TimeoutExpired:  # the opener runs the viewer itself: it is showing it
        threading.Thread(target=proc.wait, name="viewer-reaper", daemon=True).start()
        return
    if code != 0:
        raise NoViewerError(
            f"{Path(program).name} could not open it (exit {code}: "
            "no application for this kind of file?)"
        )
