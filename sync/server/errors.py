"""Typed errors of the account server: each one is an HTTP status plus a stable machine code.

The API answers every failure as `{"error": code, "message": text}` so clients (sync/cloud.py)
can map codes back to typed exceptions; messages are for a person and never hold secrets.
"""

from __future__ import annotations

from ..errors import SyncError


class ApiError(SyncError):
    """A request the server refuses; `status` and `code` travel to the client."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message, **self.extra}


class BadRequestError(ApiError):
    """Malformed JSON, missing or ill-typed fields, bad envelope bytes."""


class UnauthorizedError(ApiError):
    status = 401
    code = "unauthorized"


class SignInFailedError(ApiError):
    """Wrong proof, unknown email or no verifier: one answer for all of them."""

    status = 401
    code = "signin_failed"


class SessionExpiredError(UnauthorizedError):
    code = "session_expired"


class PasswordChangedError(UnauthorizedError):
    """The session predates a password change: sign in again with the new password."""

    code = "password_changed"


class AccountResetError(UnauthorizedError):
    """The account was reset after this session began."""

    code = "account_reset"


class WrongDeviceError(UnauthorizedError):
    """The token was sent by another device than the one it was issued to (or without one)."""

    code = "wrong_device"


class DeviceRemovedError(UnauthorizedError):
    """The device's sessions were revoked: it was removed from the account (or signed out)."""

    code = "device_removed"


class ForbiddenError(ApiError):
    status = 403
    code = "forbidden"


class ProofRequiredError(ForbiddenError):
    """A credential change or device removal sent no fresh SRP proof."""

    code = "proof_required"


class ProofFailedError(ForbiddenError):
    """The fresh SRP proof was wrong, expired, used, or made for another request."""

    code = "proof_failed"


class NotFoundError(ApiError):
    status = 404
    code = "not_found"


class ConflictError(ApiError):
    status = 409
    code = "conflict"


class BehindError(ConflictError):
    """A device removal from a device that has not pulled every change the server holds: the
    changes would be dropped with the old-key envelopes; sync, then try again."""

    code = "behind"


class StaleKeysError(ConflictError):
    """Compare-and-swap on (generation, epoch) failed: the writer's keys are out of date."""

    code = "stale_keys"


class AccountExistsError(ConflictError):
    code = "account_exists"


class GoneError(ApiError):
    """A reset link that was used, expired or never existed."""

    status = 410
    code = "link_invalid"


class TooLargeError(ApiError):
    status = 413
    code = "too_large"


class RateLimitedError(ApiError):
    status = 429
    code = "rate_limited"


class StorageError(SyncError):
    """The database is unreachable, or its schema is newer than this build."""
