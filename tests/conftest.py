"""Shared fixtures. The cheap KDF profile is enabled only here, through the explicit switch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["STRONGROOM_INSECURE_TEST_KDF"] = "1"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty device home folder."""
    return tmp_path / "home"
