"""Cloud sync client: talks to the account server (sync/server) over HTTP with httpx.

What leaves the device: the email, an SRP verifier of x_auth (sign-up, password change), SRP
ephemerals and proofs, KDF salt/cost, the Vault Key wrapped under K_unlock, and envelopes
(ids, version vectors, device ids and ciphertext). Never P, K_pw, AK, EAK, VK or a plaintext field;
tests/server/test_capture.py records every request body and proves it.

API for the CLI/TUI:

    client = CloudClient(url)
    session = client.signup(slot, keys, device_id, device_name)       # after vault.keys.create_account
    slot, keys, session = client.signin_with_kit(email, password, kit, device_id, device_name)
    CloudSync(vault, client, session).sync_now(progress=...)          # push queue, then pull
    client.change_password(session, new_slot, new_keys, current=x_auth)  # with a fresh SRP proof
    follow_password_change(vault, client, new_password, kit=None)      # another device changed it
    renew_session(vault, client, session)                             # expired: sign in again, no typing

Every request of a signed-in device carries its bearer token and its device id (the session is
bound to it, DEVICE_HEADER). A credential change or the removal of another device also carries a
fresh SRP proof made with the current x_auth whose session key MACs the request (`_proven`).

The queue of unsent changes is the local store itself: everything after the sequence number the
server last acknowledged (kept in the store), so it survives offline use and restarts.
"""

from __future__ import annotations

import base64
import binascii
import json
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from vault import intake, kdf, safejson
from vault import keys as keymod
from vault.backup import keep_as_backup  # noqa: F401  (moved to vault/backup.py; the folder sync uses it too)
from vault.envelope import Envelope
from vault.errors import (
    EpochChangedError,
    GenerationChangedError,
    KitError,
    KitReason,
    VaultError,
    WrongPasswordError,
)
from vault.intake import Refusal
from vault.kdf import KdfParams
from vault.keys import KeySlot, UnlockedKeys
from vault.kitcode import KitPayload

from .blobsync import BlobReport, ServerPlace, fetch, send, tidy
from .errors import SourceUnavailableError, SyncError
from .server import srp6a
from .tls import CA_FILE_ENV, Transport, check_server_url, trusted_context

PUSH_BATCH_BYTES = 2 * 1024 * 1024
#: The most changes a page may hold whatever was asked (the server's own cap is 2000).
MAX_PAGE = 2000
TOKEN_META = "cloud_token"
DEVICE_HEADER = "X-Strongroom-Device"  # sync/server/app.py reads it
PUSHED_META = "cloud_pushed_seq"
REV_META = "cloud_rev"
#: store meta: how far records were looked at for attachment blobs to fetch (sync/blobsync.py)
BLOB_MARKER = "sync.cloud.blobs"
#: store meta: when this device last asked the server to forget blobs nothing names
TIDY_MARKER = "sync.cloud.blobs.tidied"
#: how a sync reports files the server had no room for
QUOTA_PROBLEM = "files not sent: "
#: record id -> when this device last pushed its versions of it again (CloudSync._push_again)
REPUSHED_META = "cloud_repushed"
#: how often the good versions of a record with a recorded refusal are pushed again: well inside
#: the server's retention of superseded versions (30 days by default, `strongroom server --retain`)
REPUSH_EVERY = 24 * 3600


class CloudError(SyncError):
    """The server refused a request; `code` is the server's machine-readable reason."""

    def __init__(
        self, message: str, code: str = "", status: int = 0, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.extra = extra or {}


class CloudAuthError(CloudError):
    """Sign-in failed, or this device's session is gone (signed out, expired): sign in again."""


class CloudPasswordChangedError(CloudAuthError, EpochChangedError):
    """The Account Password was changed on another device: ask for the new one.

    Also a vault EpochChangedError (like the folder and Wi-Fi ones), so one handler asks for it."""


class CloudAccountResetError(CloudAuthError, GenerationChangedError):
    """The account was reset: keep local data as a backup, sign in again with the new password."""


class CloudBehindError(CloudError):
    """A device removal was refused: changes reached the server after this device pulled."""


class CloudDeviceRemovedError(CloudAuthError):
    """This device was removed from the account on another device (its sessions are revoked)."""


class CloudSessionExpiredError(CloudAuthError):
    """The session ran out (unused for hours, or past its longest life): an unlocked device signs
    in again by itself with its own keys (`renew_session`)."""


class CloudProofError(CloudAuthError):
    """The server did not accept the fresh proof of the current credentials: nothing changed."""


class CloudRateLimitedError(CloudError):
    """Too many attempts; `retry_after` seconds to wait."""


class CloudServerUnavailableError(SourceUnavailableError):
    """The server cannot be reached or answered with a server error."""


_CODES: dict[str, type[CloudError]] = {
    "signin_failed": CloudAuthError,
    "unauthorized": CloudAuthError,
    "session_expired": CloudSessionExpiredError,
    "wrong_device": CloudAuthError,
    "device_removed": CloudDeviceRemovedError,
    "proof_required": CloudProofError,
    "proof_failed": CloudProofError,
    "password_changed": CloudPasswordChangedError,
    "stale_keys": CloudPasswordChangedError,
    "behind": CloudBehindError,
    "account_reset": CloudAccountResetError,
    "rate_limited": CloudRateLimitedError,
}


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _unb64(v: Any) -> bytes:
    try:
        return base64.b64decode(str(v), validate=True)
    except (binascii.Error, ValueError):
        raise CloudError("the server sent malformed data") from None


@dataclass(frozen=True)
class CloudSession:
    """A signed-in device. The token grants access to ciphertext only; still never shown."""

    token: str = field(repr=False)
    account_id: str
    email: str
    device_id: str
    generation: int
    epoch: int
    plan: str = "free"

    def __repr__(self) -> str:
        return (
            f"CloudSession(account_id={self.account_id!r}, device_id={self.device_id!r}, "
            f"generation={self.generation}, epoch={self.epoch}, <token hidden>)"
        )


@dataclass(frozen=True)
class SignIn:
    """What the server returns after SRP: the session and the key material to open VK."""

    session: CloudSession
    wrapped_vk: bytes
    kdf: KdfParams
    kdf_salt: bytes
    revision: int


def credentials(email: str, slot: KeySlot, x_auth: bytes) -> dict[str, Any]:
    """The upload for sign-up, password change or reset setup: verifier + wrapped VK, nothing that decrypts."""
    srp_salt, verifier = srp6a.new_verifier(kdf.normalize_email(email), x_auth)
    p = slot.kit.params
    return {
        "srp_salt": _b64(srp_salt),
        "verifier": _b64(verifier),
        "kdf": {"m": p.m_kib, "t": p.t, "p": p.p},
        "kdf_salt": _b64(slot.kit.salt),
        "wrapped_vk": _b64(slot.wrapped_vk),
    }


def _why_unreachable(exc: BaseException) -> str:
    """The transport error's class, or what was wrong with the server's certificate."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"its certificate is not trusted ({cause.verify_message}); if your own CA "
                f"signed it, give the CA's PEM file with --ca-file or {CA_FILE_ENV}"
            )
        cause = cause.__cause__ or cause.__context__
    return exc.__class__.__name__


class CloudClient:
    """HTTP calls to one server. `capture` (tests) receives every request body sent.

    TransportSettingError before any connection when `url` is plain http to another machine
    (unless `transport.insecure_http`) or a CA file cannot be read (sync/tls.py)."""

    def __init__(
        self,
        url: str,
        timeout: float = 30.0,
        capture: Callable[[str, bytes], None] | None = None,
        *,
        transport: Transport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        transport = transport or Transport()
        check_server_url(self.url, transport)
        hooks: dict[str, list[Callable[..., Any]]] = {}
        if capture is not None:

            def hook(request: httpx.Request) -> None:
                capture(str(request.url), request.read())

            hooks["request"] = [hook]
        # Certificates are loaded only for https (80 ms per client otherwise, on every sync); plain
        # http has no TLS to verify (loopback, or behind a TLS-terminating proxy on the same host).
        verify: Any = (
            trusted_context(transport.ca_file) if self.url.startswith("https://") else False
        )
        self._http = httpx.Client(
            base_url=self.url, timeout=timeout, event_hooks=hooks, verify=verify
        )

    def __repr__(self) -> str:
        return f"CloudClient({self.url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CloudClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ----------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        token: str | None = None,
        device: str | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if device is not None:
            headers[DEVICE_HEADER] = device
        try:
            resp = self._http.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise CloudServerUnavailableError(
                f"cannot reach the server {self.url}: {_why_unreachable(exc)}"
            ) from None
        if resp.status_code >= 500:
            raise CloudServerUnavailableError(
                f"the server {self.url} failed ({resp.status_code}); try again later"
            )
        try:
            data = safejson.loads(resp.content)
        except ValueError:
            raise CloudError(
                f"the server {self.url} sent an unexpected answer ({resp.status_code})",
                status=resp.status_code,
            ) from None
        if resp.status_code >= 400:
            code = str(data.get("error", "")) if isinstance(data, dict) else ""
            message = (
                str(data.get("message", "request refused"))
                if isinstance(data, dict)
                else "request refused"
            )
            cls = _CODES.get(code, CloudError)
            raise cls(message, code, resp.status_code, data if isinstance(data, dict) else {})
        return data

    def raw(
        self, session: CloudSession, method: str, path: str, content: bytes | None = None
    ) -> bytes:
        """A request whose body or answer is raw bytes (attachment blob parts), as the device;
        an error answer becomes the same typed error as `call`'s."""
        headers = {"Authorization": f"Bearer {session.token}", DEVICE_HEADER: session.device_id}
        try:
            resp = self._http.request(method, path, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise CloudServerUnavailableError(
                f"cannot reach the server {self.url}: {_why_unreachable(exc)}"
            ) from None
        if resp.status_code >= 500:
            raise CloudServerUnavailableError(
                f"the server {self.url} failed ({resp.status_code}); try again later"
            )
        if resp.status_code >= 400:
            try:
                data = safejson.loads(resp.content)
            except ValueError:
                data = {}
            data = data if isinstance(data, dict) else {}
            cls = _CODES.get(str(data.get("error", "")), CloudError)
            raise cls(
                str(data.get("message", "request refused")),
                str(data.get("error", "")),
                resp.status_code,
                data,
            )
        return resp.content

    def _as(
        self, session: CloudSession, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Any:
        """A request as the signed-in device: its token and the device id it is bound to."""
        return self.call(method, path, body, session.token, session.device_id)

    def _proven(
        self,
        session: CloudSession,
        x_auth: bytes,
        method: str,
        path: str,
        body: dict[str, Any],
    ) -> Any:
        """A request that changes credentials or removes a device: a fresh SRP exchange with the
        current `x_auth` (POST /v1/proof/start), its proof M and a MAC of this request under the
        exchange's key in `proof`; the server proves itself back (M2) with the answer."""
        login = srp6a.ClientLogin(kdf.normalize_email(session.email), x_auth)
        ch = self._as(session, "POST", "/v1/proof/start", {"A": _b64(login.a_pub)})
        m = login.proof(_unb64(ch["srp_salt"]), _unb64(ch["B"]))
        if m is None:
            raise CloudError("the server's proof challenge is invalid")
        mac = srp6a.bind(login.session_key(), method, path, body)
        proof = {"challenge": str(ch["challenge"]), "M": _b64(m), "mac": _b64(mac)}
        d = self._as(session, method, path, body | {"proof": proof})
        if not login.server_is_genuine(_unb64(d.get("M2", ""))):
            raise CloudAuthError(
                "the server could not prove it holds this account's verifier; not trusting it"
            )
        return d

    # -- accounts -----------------------------------------------------------------------------
    def prelogin(self, email: str) -> tuple[KdfParams, bytes]:
        d = self.call("POST", "/v1/prelogin", {"email": kdf.normalize_email(email)})
        k = d["kdf"]
        return KdfParams(int(k["m"]), int(k["t"]), int(k["p"])), _unb64(d["kdf_salt"])

    def signup(
        self, slot: KeySlot, keys: UnlockedKeys, device_id: str, device_name: str
    ) -> CloudSession:
        """Create the account on the server (keys made on this device), then sign in."""
        self.create_account(slot, keys)
        return self.catch_up_epoch(
            self.signin(slot.email, keys.x_auth, device_id, device_name).session, slot, keys
        )

    def create_account(self, slot: KeySlot, keys: UnlockedKeys) -> None:
        """Only the sign-up request: verifier, KDF salt/cost and wrapped VK of this device's keys."""
        self.call(
            "POST",
            "/v1/signup",
            {
                "email": slot.email,
                "account_id": slot.account_id,
                "hint": slot.hint,
                "credentials": credentials(slot.email, slot, keys.x_auth),
            },
        )

    def catch_up_epoch(
        self, session: CloudSession, slot: KeySlot, keys: UnlockedKeys
    ) -> CloudSession:
        """The server starts every account at epoch 1; a local account whose password was already
        changed (epoch N: `sync cloud URL` on an older account) is brought to epoch N with the same
        credentials, so its Kits and sessions agree with the server. Idempotent."""
        if session.epoch >= keys.epoch:
            return session
        creds = credentials(slot.email, slot, keys.x_auth)
        for epoch in range(session.epoch, keys.epoch):  # same credentials: x_auth proves each step
            self._proven(
                session,
                keys.x_auth,
                "POST",
                "/v1/password",
                {"epoch": epoch, "new_epoch": epoch + 1, "credentials": creds},
            )
        return CloudSession(
            session.token,
            session.account_id,
            session.email,
            session.device_id,
            session.generation,
            keys.epoch,
            session.plan,
        )

    def signin(
        self,
        email: str,
        x_auth: bytes,
        device_id: str,
        device_name: str,
        held_token: str | None = None,
    ) -> SignIn:
        """SRP-6a: prove knowledge of x_auth, check the server's proof, get a session.

        `held_token`, a session this device holds (even one a password change made stale), lets
        the server tell the owner's device from strangers hammering the account's sign-in."""
        email = kdf.normalize_email(email)
        login = srp6a.ClientLogin(email, x_auth)
        ch = self.call(
            "POST",
            "/v1/signin/start",
            {"email": email, "A": _b64(login.a_pub)},
            token=held_token,
        )
        proof = login.proof(_unb64(ch["srp_salt"]), _unb64(ch["B"]))
        if proof is None:
            raise CloudError("the server's sign-in challenge is invalid")
        d = self.call(
            "POST",
            "/v1/signin/finish",
            {
                "email": email,
                "challenge": ch["challenge"],
                "M": _b64(proof),
                "device_id": device_id,
                "device_name": device_name,
            },
        )
        if not login.server_is_genuine(_unb64(d["M2"])):
            raise CloudAuthError(
                "the server could not prove it holds this account's verifier; not trusting it"
            )
        k = d["kdf"]
        session = CloudSession(
            str(d["token"]),
            str(d["account_id"]),
            str(d["email"]),
            device_id,
            int(d["generation"]),
            int(d["epoch"]),
            str(d.get("plan", "free")),
        )
        return SignIn(
            session,
            _unb64(d["wrapped_vk"]),
            KdfParams(int(k["m"]), int(k["t"]), int(k["p"])),
            _unb64(d["kdf_salt"]),
            int(d["revision"]),
        )

    def signin_with_kit(
        self, email: str, password: str, kit: KitPayload, device_id: str, device_name: str
    ) -> tuple[KeySlot, UnlockedKeys, CloudSession]:
        """A new device: password + Kit → x_auth → SRP → wrapped VK → keys and a key slot."""
        params, salt = self.prelogin(email)
        if salt != kit.salt:
            raise KitError(
                KitReason.OUTDATED,
                "the server holds newer keys for this email, made by a password "
                "change or an account reset: use the latest Kit (or this is not this account's Kit)",
            )
        ak, k_pw = keymod.open_account_key(kit, password)
        signed = self.signin(email, keymod.auth_secret(kit, ak, k_pw), device_id, device_name)
        s = signed.session
        keymod.check_kit_against(kit, s.account_id, s.generation, s.epoch)
        keys = keymod.open_vault_key(kit, ak, k_pw, signed.wrapped_vk)
        return KeySlot(s.email, kit, signed.wrapped_vk), keys, s

    def signout(self, session: CloudSession) -> None:
        self._as(session, "POST", "/v1/signout", {})

    def status(self, session: CloudSession) -> dict[str, Any]:
        return dict(self._as(session, "GET", "/v1/account"))

    def devices(self, session: CloudSession) -> list[dict[str, Any]]:
        return list(self._as(session, "GET", "/v1/devices")["devices"])

    def remove_device(self, session: CloudSession, device_id: str, x_auth: bytes) -> None:
        """Remove a device from the account and revoke its sessions, proven with the current
        `x_auth` (this device itself: `signout`)."""
        if device_id == session.device_id:
            self._as(session, "DELETE", f"/v1/devices/{device_id}", {})
        else:
            self._proven(session, x_auth, "DELETE", f"/v1/devices/{device_id}", {})

    def change_password(
        self,
        session: CloudSession,
        new_slot: KeySlot,
        new_keys: UnlockedKeys,
        *,
        current: bytes,
        key_change: bytes | None = None,
        revision: int | None = None,
    ) -> CloudSession:
        """Swap verifier + wrapped VK + epoch in one server operation (after keymod.change_password
        or rotate_account_key), proven with `current`, the x_auth of the keys being replaced.
        `key_change`: a device removal's SRKC bytes (vault/removal.py), carried in the same
        compare-and-swap: the server keeps it, revokes the removed device and drops the
        envelopes sealed under the replaced key; `revision`, the server revision this device
        pulled up to, must be the server's (else CloudBehindError: sync, then again)."""
        body: dict[str, Any] = {
            "epoch": session.epoch,
            "new_epoch": new_keys.epoch,
            "credentials": credentials(session.email, new_slot, new_keys.x_auth),
        }
        if key_change is not None:
            body["key_change"] = _b64(key_change)
            body["revision"] = revision or 0
        self._proven(session, current, "POST", "/v1/password", body)
        return CloudSession(
            session.token,
            session.account_id,
            session.email,
            session.device_id,
            session.generation,
            new_keys.epoch,
            session.plan,
        )

    def key_change(self, session: CloudSession, kid: str) -> bytes | None:
        """The key change moving away from the Vault Key with key id `kid` (base64), if the
        server holds one (a device removal made elsewhere); the session may predate it."""
        try:
            d = self._as(session, "GET", f"/v1/keychange/{base64.b64decode(kid).hex()}")
        except CloudError as exc:
            if exc.status == 404:
                return None
            raise
        return _unb64(d.get("key_change", ""))

    def request_hint(self, email: str) -> None:
        self.call("POST", "/v1/hint", {"email": kdf.normalize_email(email)})

    def request_reset(self, email: str) -> None:
        self.call("POST", "/v1/reset/request", {"email": kdf.normalize_email(email)})

    def reset_setup_info(self, email: str, code: str) -> tuple[str, int]:
        """(account id, new generation) of a reset account, given its setup code (not used up)."""
        info = self.call(
            "POST", "/v1/reset/setup-info", {"email": kdf.normalize_email(email), "code": code}
        )
        return str(info["account_id"]), int(info["generation"])

    def complete_reset(
        self, email: str, code: str, password: str, hint: str, device_id: str, device_name: str
    ) -> tuple[KeySlot, UnlockedKeys, CloudSession]:
        """After the reset page: new AK and VK made here for the new generation, then sign in."""
        email = kdf.normalize_email(email)
        account_id, generation = self.reset_setup_info(email, code)
        slot, keys = keymod.create_account(email, password, hint)
        # Same account id and the server's new generation: re-wrap fresh keys for them.
        kit, wvk, x_auth = keymod.wrap(
            password, keys.ak, keys.vk, account_id, generation, 1, slot.kit.params
        )
        slot = KeySlot(email, kit, wvk, hint)
        self.call(
            "POST",
            "/v1/reset/complete",
            {
                "email": email,
                "code": code,
                "generation": generation,
                "credentials": credentials(email, slot, x_auth),
            },
        )
        signed = self.signin(email, x_auth, device_id, device_name)
        return (
            slot,
            UnlockedKeys(account_id, generation, 1, keys.ak, keys.vk, x_auth),
            signed.session,
        )

    # -- sync -----------------------------------------------------------------------------------
    def push(self, session: CloudSession, envelopes: list[Envelope]) -> int:
        """Upload envelopes in batches; returns the server revision after the last batch."""
        return self.push_counted(session, envelopes)[0]

    def push_counted(self, session: CloudSession, envelopes: list[Envelope]) -> tuple[int, int]:
        """`push`, also returning how many versions the server stored (each took a revision)."""
        rev = stored = 0
        for batch in _batches(envelopes):
            d = self._as(
                session,
                "POST",
                "/v1/sync/push",
                {
                    "generation": session.generation,
                    "epoch": session.epoch,
                    "envelopes": [_b64(e.to_bytes()) for e in batch],
                },
            )
            rev, stored = int(d["revision"]), stored + int(d.get("stored", 0))
        return rev, stored

    def pull(
        self,
        session: CloudSession,
        since: int,
        limit: int = 2000,
        refused: list[Refusal] | None = None,
    ) -> Iterator[tuple[list[Envelope], int, int]]:
        """Pages of (envelopes, cursor after this page, server revision) changed after `since`.

        An envelope whose bytes are malformed or out of bounds is added to `refused` (with its
        reason) and the rest go on; without that list it is a CloudError."""
        while True:
            d = self._as(
                session,
                "POST",
                "/v1/sync/pull",
                {"generation": session.generation, "since": since, "limit": limit},
            )
            try:
                raws = [_unb64(e) for e in d["envelopes"]]
                since, revision, more = int(d["next"]), int(d["revision"]), bool(d["more"])
            except (KeyError, TypeError, ValueError):
                raise CloudError("the server sent a malformed page of changes") from None
            if len(raws) > max(limit, MAX_PAGE):
                raise CloudError(f"the server sent {len(raws)} changes for a page of {limit}")
            envs, bad = intake.parse(raws, "cloud")
            if bad and refused is None:
                raise CloudError(f"the server sent a damaged record envelope: {bad[0].reason}")
            if refused is not None:
                refused += bad
            yield envs, since, revision
            if not more:
                return


def _batches(envs: list[Envelope]) -> Iterator[list[Envelope]]:
    batch: list[Envelope] = []
    size = 0
    for env in envs:
        n = len(env.ciphertext) * 4 // 3 + 200
        if batch and size + n > PUSH_BATCH_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(env)
        size += n
    if batch or not envs:
        yield batch


@dataclass(frozen=True)
class CloudReport:
    received: int
    sent: int
    revision: int
    #: versions the server sent that this device refused (they did not open: vault/intake.py)
    refused: int = 0
    #: good versions sent again for records whose server copy this device refused
    repushed: int = 0
    #: attachment blobs sent and fetched (sync/blobsync.py)
    blobs: BlobReport = field(default_factory=BlobReport)


class CloudSync:
    """One device's cloud sync: push everything after the acknowledged sequence, then pull."""

    def __init__(
        self, vault: Any, client: CloudClient, session: CloudSession | None = None
    ) -> None:
        self.vault = vault
        self.client = client
        self.session = session or load_session(vault)

    def sync_now(self, progress: Callable[[int, int], None] | None = None) -> CloudReport:
        """`progress(done, total)` is called per downloaded page (first sync of a large vault).

        An expired session is renewed with the device's own keys and the sync run again; a
        device removal made elsewhere is followed first (nothing typed), then the sync runs."""
        try:
            return self._sync(progress)
        except CloudSessionExpiredError:
            if not self.vault.unlocked:
                raise
            self.session = renew_session(self.vault, self.client, self.session)
        except CloudPasswordChangedError:
            if not self.vault.unlocked or not self._follow_key_changes():
                raise
        return self._sync(progress)

    def _follow_key_changes(self) -> bool:
        """Follow every key change the server holds from this device's keys (a device removal:
        the new keys are wrapped to this device); True when the keys moved. The server dropped
        the envelopes sealed under the old key only once the removing device had pulled all of
        them (its `revision`), so what this device pushed is in the remover's re-push; what it
        has not pushed yet was re-encrypted in place and goes out as usual."""
        from vault import removal

        moved = False
        while True:
            data = self.client.key_change(self.session, removal.key_id(self.vault.keys))
            if data is None:
                break
            try:
                change = removal.open_change(data, self.vault.keys)
            except (VaultError, ValueError) as exc:
                raise CloudError(
                    f"the server's key change for this device's keys does not open ({exc}); "
                    "it was damaged or forged: nothing was changed here"
                ) from None
            removal.follow(self.vault, change, data)
            moved = True
        if moved:
            self.session = renew_session(self.vault, self.client, self.session)
        return moved

    def _sync(self, progress: Callable[[int, int], None] | None) -> CloudReport:
        store = self.vault.store
        s = self.session
        if (s.account_id, s.generation) != (self.vault.slot.account_id, self.vault.slot.generation):
            raise CloudAccountResetError(
                "this device's keys belong to another generation of the account", "account_reset"
            )
        blobs = BlobReport()
        place = ServerPlace(self.client, s)
        self._blobs(lambda: send(self.vault, place, blobs), blobs)
        pushed = int(store.get_meta(PUSHED_META) or b"0")
        top = store.max_seq()
        pending = store.changes_since(pushed)
        if pending:
            self.client.push(s, pending)
        store.set_meta(PUSHED_META, str(top).encode())
        since = int(store.get_meta(REV_META) or b"0")
        received = refused = 0
        bad: list[Refusal] = []
        for envs, cursor, revision in self.client.pull(s, since, refused=bad):
            # One write transaction: when nothing local was pending, the marker moves past what
            # this page stored (not echoed back) and past nothing else — a write by another
            # process waits for the commit and lands after the marker, still pending.
            with store.transaction() as db:
                before = store.max_seq()
                took = self.vault.take_in(envs, "cloud", bad)
                received += len(took.changed)
                refused += len(took.refused)
                bad.clear()
                if before == int(store.get_meta(PUSHED_META) or b"0"):
                    store.set_meta(PUSHED_META, str(store.max_seq()).encode(), db)
                store.set_meta(REV_META, str(cursor).encode(), db)
            since = cursor
            if progress is not None:
                progress(cursor, revision)
        repushed = self._push_again()
        self._blobs(lambda: fetch(self.vault, place, BLOB_MARKER, blobs), blobs)
        full = any(p.startswith(QUOTA_PROBLEM) for p in blobs.problems)
        self._blobs(lambda: tidy(self.vault, place, TIDY_MARKER, blobs, now=full), blobs)
        if full and blobs.forgotten:  # space came back: the files that did not fit, again
            blobs.problems = [p for p in blobs.problems if not p.startswith(QUOTA_PROBLEM)]
            self._blobs(lambda: send(self.vault, place, blobs), blobs)
        self.vault.update_settings(last_sync=time.time(), last_sync_seq=store.max_seq())
        return CloudReport(received, len(pending), since, refused, repushed, blobs)

    @staticmethod
    def _blobs(step: Callable[[], None], report: BlobReport) -> None:
        """Attachment bytes beside the records: a full quota is said, and the records still sync."""
        try:
            step()
        except CloudError as exc:
            if exc.code != "quota_exceeded":
                raise
            report.problems.append(f"{QUOTA_PROBLEM}{exc}")

    def _push_again(self) -> int:
        """Send again this device's versions of the records the server offered a refused version
        of: a forged "newer" version or tombstone made the server supersede the good one, which it
        keeps only `--retain` days (30 by default) from its last push, so the server holds it
        again after this sync and a device signing in later gets it. Once for each refusal (new,
        or offered again), then once every REPUSH_EVERY while it is recorded, not on every sync;
        `strongroom sync status --clear-refused` forgets refusals, and so ends this."""
        store = self.vault.store
        refused = store.refused_records("cloud")
        try:
            done = {
                str(k): int(v)
                for k, v in safejson.loads(store.get_meta(REPUSHED_META) or b"{}").items()
            }
        except (ValueError, TypeError, AttributeError):
            done = {}  # unreadable: push them all once more
        now = int(time.time())
        due = [
            rid
            for rid, at in refused.items()
            if rid not in done or at > done[rid] or now - done[rid] >= REPUSH_EVERY
        ]
        again = [env for rid in due for env in store.versions(rid)]
        if again:
            self.client.push(self.session, again)
        kept = {rid: at for rid, at in done.items() if rid in refused}
        store.set_meta(REPUSHED_META, json.dumps(kept | dict.fromkeys(due, now)).encode())
        return len(again)


def client_for(cfg: dict[str, Any]) -> CloudClient:
    """A client for the server in this device's cloud sync settings, with its TLS settings."""
    return CloudClient(str(cfg.get("server", "")), transport=Transport.from_settings(cfg))


def save_session(vault: Any, session: CloudSession) -> None:
    """Remember the session in the device's store (it grants access to ciphertext only)."""
    vault.store.set_meta(
        TOKEN_META,
        json.dumps(
            {
                "token": session.token,
                "account_id": session.account_id,
                "email": session.email,
                "device_id": session.device_id,
                "generation": session.generation,
                "epoch": session.epoch,
                "plan": session.plan,
            }
        ).encode(),
    )


def load_session(vault: Any) -> CloudSession:
    raw = vault.store.get_meta(TOKEN_META)
    if raw is None:
        raise CloudAuthError(
            "this device is not signed in to the server; `strongroom sync cloud URL` signs it in "
            "with its own keys",
            "unauthorized",
        )
    d = safejson.loads(raw)
    return CloudSession(
        d["token"],
        d["account_id"],
        d["email"],
        d["device_id"],
        int(d["generation"]),
        int(d["epoch"]),
        d.get("plan", "free"),
    )


def with_renewal(
    vault: Any,
    client: CloudClient,
    session: CloudSession,
    call: Callable[[CloudSession], CloudSession],
) -> CloudSession:
    """`call(session)`, and once more with a renewed session (`renew_session`) if the server
    says this one expired: a credential change made after hours of idle works at once."""
    try:
        return call(session)
    except CloudSessionExpiredError:
        return call(renew_session(vault, client, session))


def renew_session(vault: Any, client: CloudClient, expired: CloudSession) -> CloudSession:
    """Sign in again as the same device with the unlocked vault's own x_auth (nothing typed) after
    the session expired; the new session is saved. A password changed on another device meanwhile
    is CloudPasswordChangedError (ask for it, as a sync would); a reset, CloudAccountResetError."""
    slot: KeySlot = vault.slot
    try:
        signed = client.signin(
            slot.email, vault.keys.x_auth, expired.device_id, _device_name(vault), expired.token
        )
    except CloudAuthError as exc:
        if exc.code != "signin_failed":
            raise
        _, salt = client.prelogin(slot.email)
        if salt != slot.kit.salt:
            raise CloudPasswordChangedError(
                "the Account Password was changed on another device; enter the new password",
                "password_changed",
                exc.status,
            ) from None
        raise
    s = signed.session
    if (s.account_id, s.generation) != (slot.account_id, slot.generation):
        raise CloudAccountResetError(
            "this device's keys belong to another generation of the account", "account_reset"
        )
    save_session(vault, s)
    return s


def follow_password_change(
    vault: Any, client: CloudClient, new_password: str, kit: KitPayload | None = None
) -> CloudSession:
    """Another device changed the password: sign in with the new one, open the new wrapped VK.

    Needs AK: from the unlocked vault, else from `kit` (the new Kit). The old session is replaced.
    """
    slot: KeySlot = vault.slot
    params, salt = client.prelogin(slot.email)
    if kit is not None:
        ak, k_pw = keymod.open_account_key(kit, new_password)
    elif vault.unlocked:
        ak, k_pw = vault.keys.ak, kdf.derive_password_key(new_password, salt, params)
    else:
        raise SyncError(
            "unlock with the previous password (or give the new Kit) to adopt the new password"
        )
    provisional = keymod.seal_kit(
        slot.account_id, slot.generation, slot.epoch, params, salt, ak, k_pw
    )
    held: str | None = None
    try:
        held_session = load_session(vault)  # the same device on the server, not a new one
        device, held = held_session.device_id, held_session.token
    except CloudAuthError:
        device = vault.device
    try:
        signed = client.signin(
            slot.email,
            keymod.auth_secret(provisional, ak, k_pw),
            device,
            _device_name(vault),
            held_token=held,
        )
    except CloudAuthError:
        raise WrongPasswordError(
            "the new Account Password was not accepted by the server"
        ) from None
    s = signed.session
    new_kit = keymod.seal_kit(s.account_id, s.generation, s.epoch, params, salt, ak, k_pw)
    keys = keymod.open_vault_key(new_kit, ak, k_pw, signed.wrapped_vk)
    vault.replace_slot(KeySlot(slot.email, new_kit, signed.wrapped_vk, slot.hint), keys)
    save_session(vault, s)
    return s


def _device_name(vault: Any) -> str:
    import platform

    return str(vault.settings().get("device_name") or platform.node() or "device")[:100]
