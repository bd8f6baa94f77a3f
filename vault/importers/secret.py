"""An import file's own secret: the password of a KeePass database or of a password-protected
Bitwarden export, and a KeePass key file.

It is none of the vault's secrets: the front end gets it from the person (environment variable,
hidden prompt, masked field; never argv) and hands it to the read with `using`. Readers that
need one call `current()`; without one they raise FileSecretNeededError, so the front end asks
and reads again. A context variable, so the readers' one-argument signature stays as it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

#: A key file larger than this is not a key file (KeePass's are at most a few KiB; any file may
#: serve as one, but we refuse to hash a whole video because a path was mistyped).
MAX_KEY_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class FileSecret:
    """What the person gave to open one file; `password` None means none was given."""

    password: str | None = field(default=None, repr=False)
    key_file: bytes | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # never the values
        return (
            f"FileSecret(password={'set' if self.password is not None else None}, "
            f"key_file={'set' if self.key_file is not None else None})"
        )

    @property
    def given(self) -> bool:
        return self.password is not None or self.key_file is not None


_SECRET: ContextVar[FileSecret | None] = ContextVar("import_file_secret", default=None)


@contextlib.contextmanager
def using(secret: FileSecret | None) -> Iterator[None]:
    """Readers run inside see `secret` through `current()`."""
    token = _SECRET.set(secret)
    try:
        yield
    finally:
        _SECRET.reset(token)


def current() -> FileSecret:
    """The secret given for the file being read (empty when none was)."""
    return _SECRET.get() or FileSecret()
