"""A copied password leaves the clipboard: in a real tmux, and on a real X display (issue 18,
item 2).

The real app runs in a pane of a private tmux server with `set-clipboard on`, driven with
send-keys; what tmux holds is read with list-buffers/show-buffer. Before, the "clear" was an
empty OSC 52 payload, which tmux ignores: the password stayed in a paste buffer, also after
quitting. On a desktop (Xvfb + xclip, the app outside tmux) the system clipboard is used and
read back, so what the user copied since is left alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from clikit import REPO, account_home, cli_env, short_runtime_dir

from vault.records import new_record
from vault.vault import Vault

PW = "tmux clipboard password"
SECRET = "gh-secret-in-tmux"
CLEAR_SECONDS = 2

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


class Tmux:
    """A tmux server of its own (-L, in a folder of its own): the app in one pane, kept after it
    exits."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.socket = "strongroom-test"
        self.conf = tmp_path / "tmux.conf"
        self.conf.write_text(
            "set -g set-clipboard on\n"
            "set -g remain-on-exit on\n"
            'set -g default-terminal "screen-256color"\n'
        )
        self.env = env

    def __call__(self, *args: str, check: bool = True) -> str | None:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", str(self.conf), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0 or not check, (args, done.stderr)
        return done.stdout if done.returncode == 0 else None

    def buffers(self) -> dict[str, str]:
        """Every paste buffer's text (one deleted between listing and reading is left out)."""
        names = (self("list-buffers", "-F", "#{buffer_name}") or "").split()
        shown = {name: self("show-buffer", "-b", name, check=False) for name in names}
        return {name: text for name, text in shown.items() if text is not None}

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "app") or ""


def until(what: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@contextmanager
def app_in_tmux(tmp_path: Path, outside_tmux: bool = False, **env: str) -> Iterator[Tmux]:
    """The app on a vault holding one login, in a private tmux; `outside_tmux`: the app is not
    told it runs in tmux (as in a desktop terminal), so only a desktop clipboard is left to it."""
    github = new_record("login", "GitHub", {"username": "ann", "password": SECRET})
    home = account_home(tmp_path / "home", PW, github)
    vault = Vault.open(home)
    vault.unlock(PW)
    vault.update_settings(clipboard_seconds=CLEAR_SECONDS)
    vault.close()
    sockets = short_runtime_dir()  # the socket's path must fit in ~104 bytes
    server = Tmux(tmp_path, cli_env(home, TMUX_TMPDIR=sockets, **env))
    server.env.pop("TMUX", None)  # a tmux of its own, even when the tests run inside one
    python = f"env -u TMUX {sys.executable}" if outside_tmux else sys.executable
    app = f"cd {REPO} && exec {python} -m cli --home {home}"
    server("new-session", "-d", "-s", "app", "-x", "100", "-y", "30", app)
    try:
        yield server
    finally:
        subprocess.run(["tmux", "-L", server.socket, "kill-server"], env=server.env, check=False)
        shutil.rmtree(sockets, ignore_errors=True)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with app_in_tmux(tmp_path) as server:
        yield server


def open_github(tmux: Tmux) -> None:
    until(lambda: "Account Password" in tmux.screen())
    tmux("send-keys", "-t", "app", "-l", PW)
    tmux("send-keys", "-t", "app", "Enter")
    until(lambda: "GitHub" in tmux.screen())
    tmux("send-keys", "-t", "app", "Enter")  # the only record: its detail, the password chosen
    until(lambda: "Copy user" in tmux.screen())  # the footer of the detail screen


def copy_password(tmux: Tmux) -> None:
    tmux("send-keys", "-t", "app", "c")
    until(lambda: SECRET in tmux.buffers().values())


def test_the_copied_password_leaves_tmux_after_the_clipboard_seconds(tmux: Tmux) -> None:
    open_github(tmux)
    copy_password(tmux)
    until(lambda: SECRET not in tmux.buffers().values(), seconds=CLEAR_SECONDS + 10)
    tmux("set-buffer", "-b", "mine", "copied by the user since")
    copy_password(tmux)
    tmux("set-buffer", "-b", "later", "copied by the user after the secret")
    until(lambda: SECRET not in tmux.buffers().values(), seconds=CLEAR_SECONDS + 10)
    kept = tmux.buffers()  # the user's own copies stay, before and after ours
    assert kept["mine"] == "copied by the user since"
    assert kept["later"] == "copied by the user after the secret"


def test_quitting_and_locking_take_the_password_back(tmux: Tmux) -> None:
    open_github(tmux)
    copy_password(tmux)
    tmux("send-keys", "-t", "app", "C-l")  # lock
    until(lambda: "Strongroom is locked" in tmux.screen())
    assert SECRET not in tmux.buffers().values()
    open_github(tmux)
    copy_password(tmux)
    tmux("send-keys", "-t", "app", "C-q")  # quit at once, long before the clipboard seconds
    until(lambda: tmux("display", "-p", "-t", "app", "#{pane_dead}") == "1\n")
    assert SECRET not in tmux.buffers().values()


# -- a desktop: the system clipboard (xclip on Xvfb), read back before it is cleared -----------


@contextmanager
def x_display() -> Iterator[str]:
    """A virtual X display (Xvfb) of its own: its name (":N")."""
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", "1", "-nolisten", "tcp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert xvfb.stdout is not None
        yield f":{xvfb.stdout.readline().decode().strip()}"
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


def x_clipboard(display: str, text: str | None = None) -> str:
    """The X clipboard's text; with `text`, what the user copies there first."""
    env = {**os.environ, "DISPLAY": display}
    xclip = ["xclip", "-selection", "clipboard"]
    if text is not None:
        subprocess.run(xclip, input=text.encode(), env=env, check=True, timeout=10)
    out = subprocess.run([*xclip, "-o"], env=env, capture_output=True, timeout=10)
    return out.stdout.decode() if out.returncode == 0 else ""


@pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xclip")), reason="needs Xvfb, xclip"
)
def test_on_a_desktop_the_system_clipboard_is_cleared_only_while_it_holds_the_password(
    tmp_path: Path,
) -> None:
    with x_display() as display, app_in_tmux(tmp_path, outside_tmux=True, DISPLAY=display) as tmux:
        open_github(tmux)
        tmux("send-keys", "-t", "app", "c")
        until(lambda: x_clipboard(display) == SECRET)
        assert SECRET not in tmux.buffers().values()  # the desktop's clipboard, not OSC 52
        until(lambda: x_clipboard(display) == "", seconds=CLEAR_SECONDS + 10)
        tmux("send-keys", "-t", "app", "c")
        until(lambda: x_clipboard(display) == SECRET)
        x_clipboard(display, "the user copied this since")
        time.sleep(CLEAR_SECONDS + 1)  # past the clipboard seconds: what the user copied stays
        assert x_clipboard(display) == "the user copied this since"
