"""Where this device's data lives, and keeping it owner-only.

Tiny (os and pathlib only) so the CLI's agent fast path can import it cheaply. The home holds the
Encrypted Account Key, the wrapped Vault Key, the email and the cloud session token: every file
Strongroom keeps there is created 0600 in 0700 folders, and `make_private` puts back any looser
mode it finds on open (a copy, a restore, an older version, a umask), returning one line per fix
for the front end to show. vault/ never prints.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
_OTHERS = 0o077  # any permission for the group or other users

#: What Strongroom keeps in a home (the store and SQLite's companions, backups, the mail outbox,
#: sign-in staging folders): the only entries `make_private` touches, so a home pointed at a
#: folder shared with other things never has those changed.
_OURS = ("vault.db", "backups", "outbox", ".signin-")


def default_home() -> Path:
    """STRONGROOM_HOME, else the platform's user data dir."""
    env = os.environ.get("STRONGROOM_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("strongroom", appauthor=False))


def create_private_file(path: Path) -> None:
    """Create `path` empty and owner-only unless it exists; never through a symlink.

    SQLite then opens it as it is, and makes its -wal and -shm files with the same mode.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    except FileExistsError:
        return
    os.close(fd)


def make_private(home: Path) -> list[str]:
    """Create `home` (0700), or make it and what Strongroom keeps in it owner-only again.

    Returns one sentence per path whose mode was too open (fixed, or not fixable: another
    user's file), for the CLI's stderr and the app's notifications; empty when all was private.
    Symbolic links are neither followed nor changed.
    """
    home.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    fixes = make_owner_only(home)
    try:
        entries = [Path(e.path) for e in os.scandir(home) if e.name.startswith(_OURS)]
    except OSError:
        return fixes
    for path in entries:
        fixes += make_owner_only(path)
        if path.is_dir() and not path.is_symlink():
            for folder, dirs, files in os.walk(path):  # does not descend into symlinked folders
                for name in dirs + files:
                    fixes += make_owner_only(Path(folder, name))
    return fixes


def make_owner_only(path: Path) -> list[str]:
    """Drop group/other permissions from `path` (not a symlink's target); a sentence saying so,
    if there were any to drop."""
    try:
        st = path.lstat()
    except OSError:
        return []  # gone meanwhile
    mode = st.st_mode & 0o777
    if not mode & _OTHERS or stat.S_ISLNK(st.st_mode):
        return []
    kind = "folder" if stat.S_ISDIR(st.st_mode) else "file"
    try:
        path.chmod(mode & ~_OTHERS)
    except OSError as exc:
        return [
            f"the {kind} {path} is open to other users ({mode:04o}) and could not be made "
            f"private: {exc.strerror or exc}"
        ]
    return [
        f"the {kind} {path} was open to other users ({mode:04o}); it is now {mode & ~_OTHERS:04o}"
    ]
