"""One exception family for the sync layer (CLI exit code 4 unless noted)."""

from __future__ import annotations


class SyncError(Exception):
    """A sync source is unreachable, missing, obsolete or misbehaving."""


class ObsoleteSyncFileError(SyncError):
    """The sync file belongs to an older generation of the account (an account reset happened)."""


class SourceUnavailableError(SyncError):
    """Folder missing, server or peer unreachable."""
