"""One exception family for the sync layer (CLI exit code 4 unless noted)."""

from __future__ import annotations


class SyncError(Exception):
    """A sync source is unreachable, missing, obsolete or misbehaving."""


class ObsoleteSyncFileError(SyncError):
    """The sync file belongs to an older generation of the account (an account reset happened)."""


class SourceUnavailableError(SyncError):
    """Folder missing, server or peer unreachable."""


class NotASyncFileError(SyncError):
    """Truncated, garbage or tampered bytes where a data.mssb file was expected."""


class ForeignSyncFileError(SyncError):
    """A well-formed sync file that belongs to another account."""


class SyncFileVersionError(SyncError):
    """A sync file written by a newer Strongroom (unknown format version)."""


class TransportSettingError(SyncError):
    """A server address or TLS setting that cannot be used as given (plain http to another
    machine, an unreadable CA file): fix the command or setting (CLI exit 2), nothing was sent."""
