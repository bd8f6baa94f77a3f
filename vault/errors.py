"""One exception family for the vault layer.

Messages are written for a person and never contain secrets; the CLI and TUI show them as-is.
"""

from __future__ import annotations

import enum


class VaultError(Exception):
    """Base of every error raised by `vault/`."""


class FormatError(VaultError):
    """Bytes that are not a well-formed Strongroom structure (wrong magic, truncated, …)."""


class UnsupportedVersionError(FormatError):
    """A known structure with a format version this build cannot read."""


class BoundsError(FormatError):
    """A well-formed structure with a value outside its limits (a clock, a counter, a size, a
    count): refused where the bytes are parsed, before any of it is stored or compared."""


class TamperError(VaultError):
    """Authenticated decryption failed: the data was changed, swapped or the key is wrong."""


class KdfParamsError(VaultError):
    """Key-derivation parameters outside the allowed floor/ceiling (refused before any KDF)."""


class WrongPasswordError(VaultError):
    """The Account Password did not open this account's keys."""


class NoAccountError(VaultError):
    """No account exists on this device yet."""


class AccountExistsError(VaultError):
    """An account already exists on this device."""


class LockedError(VaultError):
    """The vault is locked; unlock first."""


class NotFoundError(VaultError):
    """No record matched."""


class AmbiguousError(VaultError):
    """A query matched several records; `candidates` holds (id, title) pairs."""

    def __init__(self, message: str, candidates: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.candidates = candidates


class InvalidInputError(VaultError):
    """A value the user gave is not acceptable (unknown template, bad field, …)."""


class KitReason(enum.Enum):
    """Why an Authentication Kit was rejected; the CLI prints the value, the TUI shows it."""

    OTHER_ACCOUNT = "this Kit belongs to a different account"
    OUTDATED = (
        "this Kit is outdated: the Account Password was changed or the Account Key rotated "
        "after it was made"
    )
    PASSWORD_CHANGED = "this Kit is outdated: the Account Password was changed after it was made"
    ROTATED = "this Kit was replaced by an Account Key rotation: use the Kit made then"
    BEFORE_RESET = "this Kit was issued before an account reset"
    REPLACED = "this Kit was replaced when a device was removed from the account"
    NEWER = "this Kit is newer than this device's keys: sync this device or sign in again"
    NOT_STRONGROOM = "this is not a Strongroom code"
    TYPO = "the typed code has a typo (its check characters do not match)"
    NO_QR = "no QR code was found in the image"
    UNREADABLE = "the file could not be read as an image or PDF"


class KitError(VaultError):
    """An Authentication Kit that cannot be used, with the exact reason."""

    def __init__(self, reason: KitReason, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(
            f"Invalid Authentication Kit: {reason.value}" + (f" ({detail})" if detail else "")
        )


class EpochChangedError(VaultError):
    """The account's password was changed on another device; the new password is needed."""


class GenerationChangedError(VaultError):
    """The account was reset elsewhere; this device must sign in again."""


class FileSecretNeededError(VaultError):
    """An import file is protected by its own password (a KeePass database, a password-protected
    Bitwarden export) and none was given: the front end asks for it and reads the file again."""

    def __init__(self, message: str, *, key_file: bool = False) -> None:
        super().__init__(message)
        #: Whether a key file can open it too (KeePass), so the front end offers one.
        self.key_file = key_file


class WrongFileSecretError(VaultError):
    """The password (or key file) given for an import file does not open it."""
