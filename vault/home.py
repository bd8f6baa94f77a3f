"""Where this device's data lives; tiny so the CLI's agent fast path can import it cheaply."""

from __future__ import annotations

import os
from pathlib import Path


def default_home() -> Path:
    """STRONGROOM_HOME, else the platform's user data dir."""
    env = os.environ.get("STRONGROOM_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("strongroom", appauthor=False))
