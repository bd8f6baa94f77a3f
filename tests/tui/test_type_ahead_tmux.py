"""Type-ahead in a real terminal: the real `strongroom` in a private tmux at 80×24, each flow's
keys sent with ONE `tmux send-keys` (the terminal gets them as one burst), what was stored
read back with the CLI. Before tui/typeahead.py the sign-up burst left every field empty (the
keys went to the screen before it was mounted) and nothing was created.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from clikit import REPO, account_home, cli_env, run_cli, short_runtime_dir

PW = "Tangerine-Viaduct-47-Quill"
EMAIL = "ann@example.com"
DATA = Path(__file__).resolve().parents[1] / "data" / "import"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


class Pane:
    """The app in the one pane of a tmux server of its own (-L), 80×24."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.socket = "strongroom-typeahead"
        self.conf = tmp_path / "tmux.conf"
        self.conf.write_text(
            'set -g remain-on-exit on\nset -g default-terminal "screen-256color"\n'
        )
        self.env = env

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", str(self.conf), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    def keys(self, *keys: str) -> None:
        """Every key in one send-keys: tmux writes them to the app's terminal at once."""
        self("send-keys", "-t", "app", *keys)

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "app")

    def shows(self, text: str, seconds: float = 60) -> None:
        until(lambda: text in self.screen(), seconds, f"{text!r} on screen:\n{{screen}}", self)


def until(check: Callable[[], object], seconds: float, what: str, pane: Pane | None = None) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(
                "timed out waiting for " + what.format(screen=pane.screen() if pane else "")
            )
        time.sleep(0.1)


@contextmanager
def app_in_tmux(tmp_path: Path, *first_keys: str) -> Iterator[Pane]:
    """The app on tmp_path/home in a private tmux at 80×24, started from tmp_path/work;
    `first_keys` are sent in the same breath as the app is started (typed while it starts)."""
    work = tmp_path / "work"
    home = tmp_path / "home"
    sockets = short_runtime_dir()
    server = Pane(
        tmp_path,
        cli_env(
            home,
            TMUX_TMPDIR=sockets,
            PYTHONPATH=str(REPO),
            STRONGROOM_SETTINGS=str(tmp_path / "none.toml"),
        ),
    )
    server.env.pop("TMUX", None)
    app = f"cd {work} && exec {sys.executable} -m cli --home {home}"
    server("new-session", "-d", "-s", "app", "-x", "80", "-y", "24", app)
    try:
        if first_keys:
            server.keys(*first_keys)
        yield server
    finally:
        subprocess.run(["tmux", "-L", server.socket, "kill-server"], env=server.env, check=False)
        shutil.rmtree(sockets, ignore_errors=True)


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Pane]:
    """The app on an empty home, started from a folder holding a Bitwarden export (bw.json)."""
    (tmp_path / "work").mkdir()
    shutil.copy(DATA / "bitwarden.json", tmp_path / "work" / "bw.json")
    with app_in_tmux(tmp_path) as server:
        yield server


def titles(tmp_path: Path) -> list[str]:
    """The records' titles as the CLI reads them from the home."""
    done = run_cli(cli_env(tmp_path / "home", PW), "ls", "--json")
    assert done.returncode == 0, done.stderr
    return sorted(row["title"] for row in json.loads(done.stdout))


def record(tmp_path: Path, title: str) -> str:
    """`strongroom get TITLE --json`: every field of one record, values included."""
    done = run_cli(cli_env(tmp_path / "home", PW), "get", title, "--json")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_bursts_over_tmux_land_in_order(pane: Pane, tmp_path: Path) -> None:
    pane.shows("Welcome to Strongroom")
    # sign-up: u opens the form; Tab moves on only after the email is in; y acknowledges the Kit
    pane.keys("u", EMAIL, "Tab", PW, "Tab", PW, "C-s", "y")
    pane.shows("No records yet")
    # a new record: the type field first, then title, username, password
    pane.keys("n", "Tab", "GitHub", "Tab", "ann", "Tab", "pw-1234", "C-s")
    until(lambda: titles(tmp_path) == ["GitHub"], 60, "the new record:\n{screen}", pane)
    fields = {f["name"]: f["value"] for f in json.loads(record(tmp_path, "GitHub"))["fields"]}
    assert (fields["username"], fields["password"]) == ("ann", "pw-1234")
    # lock; then unlock, search, open the match, edit its title at the end, save
    pane.keys("C-l")
    pane.shows("Strongroom is locked")
    pane.keys(PW, "Enter", "/", "git", "Enter", "Enter", "e", "End", "-2", "C-s")
    until(lambda: titles(tmp_path) == ["GitHub-2"], 60, "the edited title:\n{screen}", pane)
    # back to the list (Escape alone: Escape then a letter is how a terminal sends alt+letter)
    pane.keys("Escape")
    pane.shows("/ Search")  # the list's footer
    # import: i, the file's first letter, Tab completes it, Enter, Enter (the guessed format),
    # ctrl+s once the preview is shown
    pane.keys("i", "b", "Tab", "Enter", "Enter", "C-s")
    until(lambda: len(titles(tmp_path)) > 5, 60, "the imported records:\n{screen}", pane)
    assert "GitHub-2" in titles(tmp_path)


def test_the_password_typed_while_the_app_starts_unlocks(tmp_path: Path) -> None:
    """`strongroom` then at once the password and Enter, before anything is drawn: the keys
    wait for the lock screen, and the Enter the terminal sent as a newline (still in line mode
    then) submits it."""
    account_home(tmp_path / "home", PW)
    (tmp_path / "work").mkdir()
    with app_in_tmux(tmp_path, PW, "Enter") as server:
        server.shows("No records yet")
