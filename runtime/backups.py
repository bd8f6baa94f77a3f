"""Backups: the folder they go to, writing a new one there, and what a folder holds.

The app's settings screen and `strongroom backup create/list` both use this, so a backup made
from either is listed by both. The writing itself is `vault.backup.create_backup` (atomic,
verified, owner-only); every file restores with `strongroom backup restore FILE`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vault.backup import default_folder
from vault.errors import InvalidInputError, VaultError

SUFFIX = ".srbk"
FOLDER_SETTING = "backup_folder"


def chosen_folder(vault: Any) -> Path:
    """The folder of the last backup written here (app or CLI), else the default one."""
    saved = vault.settings().get(FOLDER_SETTING)
    return Path(saved) if saved else default_folder(Path(vault.home))


def write_backup(vault: Any, folder: Path) -> tuple[Path, int]:
    """A new backup file in `folder` (the default folder is made on first use, owner-only);
    returns its path and the number of records. Slow (encrypts every version): call from a worker."""
    from vault.backup import create_backup, free_path

    folder = folder.expanduser()
    if folder == default_folder(Path(vault.home)):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not folder.is_dir():
        raise InvalidInputError(f"the folder {folder} does not exist")
    path = free_path(folder, "strongroom-backup-" + time.strftime("%Y%m%d-%H%M%S"), SUFFIX)
    count = create_backup(vault, path)
    vault.update_settings(**{FOLDER_SETTING: str(folder)})
    return path, count


@dataclass(frozen=True)
class BackupEntry:
    """One backup file as listed; `problem` says why its header could not be read."""

    path: Path
    created: float
    count: int
    problem: str = ""


def read_entry(path: Path) -> BackupEntry:
    """The public header only (first 64 KiB), so listing large backups stays cheap."""
    from vault.backup import parse_backup
    from vault.container import MAX_HEADER

    try:
        with path.open("rb") as f:
            head = f.read(MAX_HEADER + 9)
        header, _ = parse_backup(head)
    except (OSError, VaultError) as exc:
        return BackupEntry(path, path.stat().st_mtime if path.exists() else 0.0, 0, str(exc))
    return BackupEntry(path, header.created, header.count)


def list_backups(folder: Path) -> list[BackupEntry]:
    """Backups in `folder`, newest first; an absent folder holds none. One that cannot be read
    (not a folder, no permission) raises OSError: saying "no backups" there would mislead."""
    try:
        files = [p for p in folder.expanduser().iterdir() if p.suffix == SUFFIX and p.is_file()]
    except FileNotFoundError:
        return []
    return sorted((read_entry(p) for p in files), key=lambda e: e.created, reverse=True)
