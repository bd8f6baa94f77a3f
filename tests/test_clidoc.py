"""docs/cli.md is the parser's own help; regenerate with `python3 -m cli.docgen > docs/cli.md`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    env = dict(os.environ, COLUMNS="100")
    fresh = subprocess.run(
        [sys.executable, "-m", "cli.docgen"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (ROOT / "docs" / "cli.md").read_text() == fresh, (
        "run: python3 -m cli.docgen > docs/cli.md"
    )
