"""Where the app puts a copied secret, and how it takes it back.

Chosen when the app first copies (tmux and a desktop tool can both be in use):
- tmux (the app runs inside it, `$TMUX`): the app asks its tmux server. `load-buffer -w` makes a
  paste buffer and hands it on to the outer terminal (set-clipboard). Taking it back deletes every
  buffer still holding the secret: an OSC 52 overwrite cannot, tmux keeps each one as a new buffer
  (and ignores an empty one), so the password stayed in `tmux list-buffers` after the "clear".
- a local clipboard tool (wl-copy, xclip, xsel, pbcopy) when the app runs where a display is: it is
  read back first and cleared only while it still holds the secret (something copied since stays).
- OSC 52 otherwise (over SSH, no tmux): the terminal's clipboard cannot be read, so the secret is
  overwritten with a space (`PLACEHOLDER`: an empty OSC 52 payload is ignored by tmux and others).
Under tmux the outer terminal's clipboard is overwritten likewise, while the secret is still the
newest buffer (so a later copy of the user's own is left alone).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

#: What a clipboard that cannot be emptied or read back is overwritten with.
PLACEHOLDER = " "
TOOL_SECONDS = 2.0
_CLEARING_BUFFER = "strongroom-cleared"


class Target(Protocol):
    def put(self, value: str) -> None:
        """Copy `value`."""

    def take_back(self, value: str) -> None:
        """Remove `value` if it is still there (where that can be known)."""


def _run(argv: Sequence[str], text: str | None = None) -> bytes | None:
    """A clipboard tool's stdout, None when it failed (a clipboard error never stops the app)."""
    try:
        done = subprocess.run(
            argv,
            input=None if text is None else text.encode(),
            stdout=subprocess.PIPE if text is None else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=TOOL_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout or b"") if done.returncode == 0 else None


@dataclass(frozen=True)
class Osc52:
    """The terminal's clipboard through OSC 52 (App.copy_to_clipboard): write-only."""

    write: Callable[[str], None]

    def put(self, value: str) -> None:
        self.write(value)

    def take_back(self, value: str) -> None:
        self.write(PLACEHOLDER)


@dataclass(frozen=True)
class TmuxBuffers:
    """The paste buffers of the tmux server the app runs in (and, through it, the outer terminal)."""

    tmux: str

    def put(self, value: str) -> None:
        _run([self.tmux, "load-buffer", "-w", "-"], value)

    def take_back(self, value: str) -> None:
        buffers, size = self._buffers(), len(value.encode())
        holding = [name for name, n in buffers if n == size and self._holds(name, value)]
        for name in holding:
            _run([self.tmux, "delete-buffer", "-b", name])
        if holding and buffers[0][0] in holding:  # the newest: the outer terminal holds it too
            _run([self.tmux, "load-buffer", "-b", _CLEARING_BUFFER, "-w", "-"], PLACEHOLDER)
            _run([self.tmux, "delete-buffer", "-b", _CLEARING_BUFFER])

    def _buffers(self) -> list[tuple[str, int]]:
        """(name, size in bytes) of every buffer, newest first."""
        listed = _run([self.tmux, "list-buffers", "-F", "#{buffer_size} #{buffer_name}"]) or b""
        out = []
        for line in listed.decode(errors="replace").splitlines():
            size, _, name = line.partition(" ")
            if size.isdigit() and name:
                out.append((name, int(size)))
        return out

    def _holds(self, name: str, value: str) -> bool:
        return _run([self.tmux, "show-buffer", "-b", name]) == value.encode()


@dataclass(frozen=True)
class LocalTool:
    """A clipboard program of the desktop the app runs on: it can be read back."""

    copy: tuple[str, ...]
    paste: tuple[str, ...]
    clear: tuple[str, ...] | None  # None: copy an empty text

    def put(self, value: str) -> None:
        _run(self.copy, value)

    def take_back(self, value: str) -> None:
        if _run(self.paste) != value.encode():
            return  # something else was copied since, or it cannot be read: leave it
        if self.clear:
            _run(self.clear)
        else:
            _run(self.copy, "")


def local_tool(env: Mapping[str, str], platform: str = sys.platform) -> LocalTool | None:
    """The desktop's clipboard program, if the app runs where a display is and it is installed."""
    if platform == "darwin":
        candidates = [LocalTool(("pbcopy",), ("pbpaste",), None)]
    elif env.get("WAYLAND_DISPLAY"):
        candidates = [LocalTool(("wl-copy",), ("wl-paste", "--no-newline"), ("wl-copy", "--clear"))]
    elif env.get("DISPLAY"):
        candidates = [
            LocalTool(
                ("xclip", "-selection", "clipboard"),
                ("xclip", "-selection", "clipboard", "-o"),
                None,
            ),
            LocalTool(
                ("xsel", "--clipboard", "--input"),
                ("xsel", "--clipboard", "--output"),
                ("xsel", "--clipboard", "--delete"),
            ),
        ]
    else:
        return None
    return next((tool for tool in candidates if shutil.which(tool.copy[0])), None)


class SecretClipboard:
    """The clipboard the app copies secrets to: remembers the last one to take it back."""

    def __init__(self, targets: Sequence[Target]) -> None:
        self.targets = list(targets)
        self.copied: str | None = None

    def copy(self, value: str) -> None:
        for target in self.targets:
            target.put(value)
        self.copied = value

    def clear(self) -> None:
        """Take the last copied secret back now (lock, quit, its timer)."""
        if self.copied is None:
            return
        for target in self.targets:
            target.take_back(self.copied)
        self.copied = None

    def clear_if(self, value: str) -> None:
        """The timer of one copy: only if nothing was copied after it."""
        if self.copied == value:
            self.clear()


def clipboard_for(
    osc52: Callable[[str], None], *, headless: bool, env: Mapping[str, str] = os.environ
) -> SecretClipboard:
    """tmux's buffers inside tmux, else the desktop's clipboard tool, else OSC 52. A headless app
    (tests, no terminal) only ever has OSC 52: it must not touch the tmux or desktop it runs in."""
    targets: list[Target] = []
    tmux = shutil.which("tmux") if env.get("TMUX") and not headless else None
    if tmux:
        targets.append(TmuxBuffers(tmux))
    tool = None if headless else local_tool(env)
    if tool:
        targets.append(tool)
    return SecretClipboard(targets or [Osc52(osc52)])
