"""The committed screenshots (made by screenshots/make_screenshots.py) show demo paths under ~/,
never the temporary folder they were made in, and the README shows the 160×48 one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_screenshots_show_demo_paths_only() -> None:
    shots = sorted((ROOT / "screenshots").glob("*.svg"))
    assert shots
    for svg in shots:
        text = svg.read_text(encoding="utf-8").replace("&#160;", " ")
        assert not re.search(r"/tmp/|/var/folders/|tmp[a-z0-9_]{8}", text), svg.name


def test_readme_gallery_has_the_wide_screenshot() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "screenshots/wide.svg" in readme
    wide = (ROOT / "screenshots" / "wide.svg").read_text(encoding="utf-8")
    assert "Records" in wide and "Record" in wide  # the two panels' titles
