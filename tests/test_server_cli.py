"""`strongroom server` starts the real account server with one command (SQLite by default)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from clikit import free_port


def test_server_command_serves_the_api(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli",
            "server",
            "--db",
            str(tmp_path / "s.db"),
            "--port",
            str(port),
            "--outbox",
            str(tmp_path / "outbox"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
        cwd=tmp_path,
    )
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/openapi.json", timeout=2
                ) as r:
                    body = json.load(r)
                break
            except OSError:
                time.sleep(0.1)
        assert body is not None and "paths" in body
        assert (tmp_path / "s.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
