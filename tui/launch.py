"""Start the full-screen app (imported only when no command is given)."""

from __future__ import annotations

import argparse


def run_app(args: argparse.Namespace) -> int:
    from pathlib import Path

    from runtime.process_guard import guard_process
    from vault.vault import default_home

    guard_process()  # before it ever holds a key

    from .app import StrongroomApp
    from .keymap import settings_file

    home = Path(args.home).expanduser() if args.home else default_home()
    StrongroomApp(home=home, settings_file=settings_file()).run()
    return 0
