"""`strongroom sync serve` with folder sync, as a person runs it: a real CLI process, real folders,
real watchdog events. It runs the app's runners (runtime/runners.py) and prints what they do."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from clikit import cli_env, run_cli

PW = "serve password"


def ok(home: Path, *args: str) -> str:
    r = run_cli(cli_env(home, PW), *args, cwd=home.parent)
    assert r.returncode == 0, f"{args}: {r.stderr}"
    return r.stdout


class Serve:
    """A running `sync serve`; its stderr lines are collected as they come."""

    def __init__(self, home: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "sync", "serve"],
            env=cli_env(home, PW),
            cwd=home.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, what: Callable[[str], bool], seconds: float = 30.0) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if what(line):
                    return line
            assert self.proc.poll() is None, f"serve ended: {self.lines}"
            time.sleep(0.1)
        raise AssertionError(f"never said it; said: {self.lines}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self._reader.join(timeout=5)
        return code


def test_a_deleted_sync_folder_is_waited_for_not_created_again(tmp_path: Path) -> None:
    home, folder = tmp_path / "a", tmp_path / "Dropbox"
    folder.mkdir()
    account = ok(home, "signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path)).strip()
    ok(home, "add", "note", "--title", "Kept here")
    ok(home, "sync", "folder", str(folder))
    shutil.rmtree(folder)  # the share is unmounted (or the folder deleted)
    serve = Serve(home)
    try:
        said = serve.wait_for(lambda line: "is missing" in line)
        assert str(folder) in said and "waiting" in said and "not mounted" in said
        time.sleep(1.5)  # a watcher would have made it by now
        assert not folder.exists()  # never made behind the user's back
        folder.mkdir()  # the share is mounted again
        serve.wait_for(lambda line: line.startswith(f"Watching {folder}"))
        serve.wait_for(lambda line: "snapshot written" in line)
        assert (folder / account / "data.mssb").is_file()
        assert sum("is missing" in line for line in serve.lines) == 1  # said once, not per look
    finally:
        code = serve.stop()
    assert code == 0, serve.lines


def test_serve_says_in_words_what_it_merged_and_wrote(tmp_path: Path) -> None:
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "Dropbox"
    folder.mkdir()
    account = ok(a, "signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path)).strip()
    ok(a, "sync", "folder", str(folder))
    kit = tmp_path / f"Strongroom-Authentication-Kit-{account}.png"
    ok(b, "signin", "--email", "ann@example.com", "--kit", str(kit), "--folder", str(folder))
    serve = Serve(a)
    try:
        serve.wait_for(lambda line: line.startswith(f"Watching {folder}"))
        ok(b, "add", "note", "--title", "From B")
        ok(b, "sync", "now")  # B replaces data.mssb; A's serve merges it
        said = serve.wait_for(lambda line: "1 record updated here" in line)
        assert said.startswith("Synced (folder): ")
        assert "From B" in ok(a, "ls")
        ok(a, "add", "note", "--title", "From A")  # a local change is pushed by the serve
        serve.wait_for(lambda line: "0 records updated here; changes written" in line)
        ok(b, "sync", "now")
        assert "From A" in ok(b, "ls")
    finally:
        code = serve.stop()
    assert code == 0, serve.lines
    assert not any("FolderReport" in line or "Report(" in line for line in serve.lines)
