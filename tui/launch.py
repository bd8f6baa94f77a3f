"""Start the full-screen app (imported only when no command is given)."""

from __future__ import annotations

import argparse
import io
import logging
import os
from pathlib import Path


class _PrivateFileHandler(logging.FileHandler):
    """A log file only its owner reads (0600), made on the first line written."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return open(fd, "a", encoding=self.encoding or "utf-8")


def log_failures_to(home: Path) -> None:
    """The app's failure lines (tui.app report_failure: what failed and why, never a secret) go
    to HOME/app.log: a full-screen app has no stderr a person could read."""
    handler = _PrivateFileHandler(home / "app.log", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("strongroom.app")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def run_app(args: argparse.Namespace) -> int:
    from runtime.process_guard import guard_process
    from vault.vault import default_home

    guard_process()  # before it ever holds a key

    from .app import StrongroomApp
    from .keymap import settings_file

    home = Path(args.home).expanduser() if args.home else default_home()
    log_failures_to(home)
    StrongroomApp(home=home, settings_file=settings_file()).run()
    return 0
