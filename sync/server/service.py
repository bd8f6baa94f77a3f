"""What the account server does, without HTTP: the app (app.py) only maps requests to these calls.

Every method validates its input and raises a typed ApiError; nothing here ever receives a
password, the Account Key, the Vault Key or plaintext — only an SRP verifier of x_auth, KDF
salt and cost, the Vault Key wrapped under K_unlock, and encrypted envelopes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault import kdf
from vault.envelope import Envelope
from vault.errors import VaultError
from vault.kdf import KdfParams
from vault.kitcode import ALPHABET
from vault.merge import by_record, merge_into

from ..mail.server_notices import Mailer
from . import srp6a
from .blobstore import BlobStore
from .errors import (
    AccountResetError,
    BadRequestError,
    BehindError,
    ConflictError,
    DeviceRemovedError,
    GoneError,
    NotFoundError,
    PasswordChangedError,
    ProofFailedError,
    ProofRequiredError,
    RateLimitedError,
    SessionExpiredError,
    SignInFailedError,
    StaleKeysError,
    UnauthorizedError,
    WrongDeviceError,
)
from .storage import Account, Device, Session, Storage, Tx, token_hash

PLAN_DEFAULT = "free"
WRAPPED_VK_MAX = 256
MAX_PULL = 2000


@dataclass(frozen=True)
class Limit:
    """At most `count` events per `window_s` seconds."""

    count: int
    window_s: int


#: Sign-in attempts from one address for one account: a back-off that grows the longer someone
#: keeps trying (each attempt counts in every window, so the longest one tripped decides).
SIGNIN_PAIR = (Limit(5, 60), Limit(10, 900), Limit(20, 3600), Limit(40, 86400))
#: Fresh-proof challenges per account (credential changes and device removals are rare; a
#: stolen token cannot be turned into an online password-guessing oracle).
PROOF_ACCOUNT = (Limit(10, 60), Limit(30, 900), Limit(100, 86400))


@dataclass(frozen=True)
class Limits:
    """`signin_account` counts attempts from every address together (only those the per-address
    back-off let through) and never applies to a device that holds a session of the account."""

    signin_account: Limit = Limit(30, 900)
    signin_address: Limit = Limit(60, 900)
    email_account: Limit = Limit(3, 3600)
    email_address: Limit = Limit(20, 3600)
    signup_address: Limit = Limit(20, 3600)
    signin_pair: tuple[Limit, ...] = SIGNIN_PAIR
    proof_account: tuple[Limit, ...] = PROOF_ACCOUNT

    def scaled(self, factor: int) -> Limits:
        """Every count multiplied (benchmarks that drive hundreds of accounts from one address)."""

        def times(lim: Limit) -> Limit:
            return Limit(lim.count * factor, lim.window_s)

        return Limits(
            times(self.signin_account),
            times(self.signin_address),
            times(self.email_account),
            times(self.email_address),
            times(self.signup_address),
            tuple(times(lim) for lim in self.signin_pair),
            tuple(times(lim) for lim in self.proof_account),
        )


@dataclass(frozen=True)
class ServerConfig:
    """Everything an app node needs; identical on every node behind a load balancer."""

    database: str
    base_url: str = "http://127.0.0.1:8470"
    smtp_url: str | None = None
    outbox: Path = Path("outbox")
    pg_schema: str | None = None
    session_ttl_s: int = 12 * 3600  # idle: each use moves the expiry this far ahead again
    session_max_s: int = (
        30 * 24 * 3600
    )  # since sign-in, however busy; then the client signs in again
    challenge_ttl_s: int = 120
    reset_link_ttl_s: int = 3600
    setup_code_ttl_s: int = 7 * 24 * 3600
    max_body: int = 8 * 1024 * 1024
    max_small_body: int = 64 * 1024
    trust_proxy: int = 0  # proxies in front whose X-Forwarded-For entries count (rightmost first)
    threads: int = 40
    limits: Limits = field(default_factory=Limits)
    #: how long a superseded version is kept (and served) before it is deleted: devices open
    #: every version, the server cannot, so a forged "newer" one never takes the good one away
    keep_superseded_s: int = 30 * 24 * 3600
    #: attachment bytes one account may keep on the server (sync/server/blobstore.py)
    blob_quota: int = 1024 * 1024 * 1024
    #: a blob a device asks to forget is kept this long after its upload: a device uploads a
    #: file's blob before the records naming it, so a younger one may be named by records still
    #: on their way (sync/server/blobstore.py `forget`)
    blob_grace_s: int = 24 * 3600


@dataclass(frozen=True)
class Credentials:
    """Key material a device uploads (sign-up, password change, reset setup). Nothing that decrypts."""

    srp_salt: bytes
    verifier: bytes
    kdf: KdfParams
    kdf_salt: bytes
    wrapped_vk: bytes

    def __repr__(self) -> str:
        return f"Credentials(kdf={self.kdf}, <key material hidden>)"


def _now() -> int:
    return int(time.time())


def check_credentials(c: Credentials) -> None:
    if len(c.srp_salt) != srp6a.SALT_LEN:
        raise BadRequestError(f"the SRP salt must be {srp6a.SALT_LEN} bytes")
    if not 1 <= len(c.verifier) <= srp6a.GROUP_BYTES:
        raise BadRequestError("the SRP verifier has the wrong size")
    if len(c.kdf_salt) != kdf.SALT_LEN:
        raise BadRequestError(f"the KDF salt must be {kdf.SALT_LEN} bytes")
    if not 28 <= len(c.wrapped_vk) <= WRAPPED_VK_MAX:
        raise BadRequestError("the wrapped Vault Key has the wrong size")
    try:
        kdf.check_params(c.kdf)
    except VaultError as exc:
        raise BadRequestError(str(exc)) from None


def _link_gone(used: bool) -> GoneError:
    """Why a reset link fails, said plainly on the page: a used link says so (only its holder
    can learn that); an expired or unknown one says to ask again."""
    if used:
        return GoneError(
            "this reset link was already used; if you need another reset, ask for a new link"
        )
    return GoneError(
        "this reset link is not valid any more (expired or unknown); ask for a new one"
    )


def check_email(email: str) -> str:
    email = kdf.normalize_email(email)
    if not 3 <= len(email) <= 254 or "@" not in email or any(ch.isspace() for ch in email):
        raise BadRequestError("that is not an email address")
    return email


@dataclass(frozen=True)
class SignInResult:
    token: str
    server_proof: bytes
    account_id: str
    email: str
    generation: int
    epoch: int
    wrapped_vk: bytes
    kdf: KdfParams
    kdf_salt: bytes
    revision: int
    plan: str

    def __repr__(self) -> str:
        return f"SignInResult(account_id={self.account_id!r}, generation={self.generation}, epoch={self.epoch}, <hidden>)"


@dataclass(frozen=True)
class Proof:
    """A fresh SRP proof sent with the request it authorises (docs/formats.md "Fresh proof").

    `method`, `path` and `body` (the request's JSON without `proof`) are what `mac` covers."""

    challenge: str
    m: bytes
    mac: bytes
    method: str
    path: str
    body: dict[str, Any]

    def __repr__(self) -> str:
        return f"Proof({self.method} {self.path}, <hidden>)"


@dataclass(frozen=True)
class PullResult:
    envelopes: list[bytes]
    next_rev: int
    revision: int
    more: bool


class AccountService:
    def __init__(self, config: ServerConfig, storage: Storage | None = None) -> None:
        self.config = config
        self.db = storage or Storage.open(config.database, config.pg_schema, config.threads)
        self.mailer = Mailer(config.smtp_url, config.outbox)
        self._secret = self.db.server_secret()
        self.blobs = BlobStore(self.db, config.blob_quota, config.blob_grace_s)

    def close(self) -> None:
        self.db.close()

    # -- helpers ----------------------------------------------------------------------------
    def _fake(self, label: str, email: str, n: int) -> bytes:
        """Deterministic stand-ins for unknown emails: stable per email, unlinkable without the secret."""
        out = b""
        counter = 0
        while len(out) < n:
            out += hmac.new(
                self._secret, f"{label}\0{counter}\0{email}".encode(), hashlib.sha256
            ).digest()
            counter += 1
        return out[:n]

    def _limit(self, kind: str, key: str, *limits: Limit) -> None:
        """Count one event in each window; RateLimitedError naming the longest window tripped."""
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        over = [
            lim
            for lim in limits
            if self.db.hit(f"{kind}/{lim.window_s}:{digest}", lim.window_s) > lim.count
        ]
        if over:
            wait = max(lim.window_s for lim in over)
            raise RateLimitedError(
                f"too many attempts; try again in {max(1, wait // 60)} minutes", retry_after=wait
            )

    def _limit_signin(self, email: str, address: str, token: str | None) -> None:
        """Sign-in limits that cannot lock the owner out: per address overall, per (address,
        account) with a growing back-off, per account overall only for callers without a session
        of the account (a device that holds one keeps signing in wherever others hammer)."""
        limits = self.config.limits
        self._limit("signin-ip", address, limits.signin_address)
        self._limit("signin-pair", f"{address}\0{email}", *limits.signin_pair)
        if not (token and self._holds_session(token, email)):
            self._limit("signin-acct", email, limits.signin_account)

    def _holds_session(self, token: str, email: str) -> bool:
        """Whether `token` is an unrevoked session of the account of `email` that expired at most
        `session_max_s` ago (its password may have changed or the account been reset since, or it
        ran out while the device was idle: it still proves the device was let in)."""
        if len(token) > 200:
            return False
        with self.db.tx(write=False) as t:
            row = t.one(
                "SELECT 1 FROM sessions s JOIN accounts a ON a.account_id = s.account_id "
                "WHERE s.token_hash=? AND a.email=? AND s.expires>=? AND s.revoked=0",
                (token_hash(token), email, _now() - self.config.session_max_s),
            )
        return row is not None

    # -- sign-up, pre-login, sign-in --------------------------------------------------------
    def signup(
        self, email: str, account_id: str, hint: str, creds: Credentials, address: str
    ) -> None:
        email = check_email(email)
        self._limit("signup-ip", address, self.config.limits.signup_address)
        if len(account_id) != 10 or any(ch not in ALPHABET for ch in account_id):
            raise BadRequestError("the account id must be 10 characters from the Kit alphabet")
        if len(hint) > 200:
            raise BadRequestError("the password hint is too long (200 characters at most)")
        check_credentials(creds)
        self.db.create_account(
            Account(
                account_id,
                email,
                hint,
                PLAN_DEFAULT,
                1,
                1,
                creds.srp_salt,
                creds.verifier,
                creds.kdf.m_kib,
                creds.kdf.t,
                creds.kdf.p,
                creds.kdf_salt,
                creds.wrapped_vk,
                0,
                _now(),
            )
        )

    def prelogin(self, email: str) -> dict[str, Any]:
        """KDF cost and salt; for unknown (or reset) accounts, fake ones that never change."""
        email = check_email(email)
        acct = self.db.account_by_email(email)
        if acct is not None and acct.has_keys and acct.kdf_salt is not None:
            params, salt = KdfParams(acct.kdf_m, acct.kdf_t, acct.kdf_p), acct.kdf_salt
        else:
            params, salt = kdf.default_params(), self._fake("kdf-salt", email, kdf.SALT_LEN)
        return {"kdf": {"m": params.m_kib, "t": params.t, "p": params.p}, "kdf_salt": salt}

    def signin_start(
        self, email: str, a_pub: bytes, address: str, token: str | None = None
    ) -> dict[str, Any]:
        email = check_email(email)
        self._limit_signin(email, address, token)
        if not 1 <= len(a_pub) <= srp6a.GROUP_BYTES:
            raise BadRequestError("A has the wrong size")
        acct = self.db.account_by_email(email)
        if (
            acct is not None
            and acct.has_keys
            and acct.srp_salt is not None
            and acct.verifier is not None
        ):
            account_id, salt, verifier, epoch = (
                acct.account_id,
                acct.srp_salt,
                acct.verifier,
                acct.epoch,
            )
        else:  # same work and same shape of answer as a real account
            account_id, epoch = "", 0
            salt = self._fake("srp-salt", email, srp6a.SALT_LEN)
            verifier = self._fake("srp-verifier", email, srp6a.GROUP_BYTES)
        return self._open_challenge(
            email, salt, verifier, a_pub, account_id, epoch, purpose="signin", device_id=""
        )

    def _open_challenge(
        self,
        email: str,
        salt: bytes,
        verifier: bytes,
        a_pub: bytes,
        account_id: str,
        epoch: int,
        purpose: str,
        device_id: str,
    ) -> dict[str, Any]:
        """Server half of an SRP-6a exchange, kept for challenge_ttl_s: what sign-in and a fresh
        proof both start with (`purpose` keeps one from being finished as the other)."""
        b_secret = srp6a.new_server_secret()
        b_pub = srp6a.server_challenge(email, salt, verifier, a_pub, b_secret)
        if b_pub is None:
            raise BadRequestError("A is not acceptable (SRP-6a safety check)")
        challenge_id = secrets.token_urlsafe(24)
        with self.db.tx() as t:
            t.run("DELETE FROM srp_challenges WHERE expires<?", (_now(),))
            t.run(
                "INSERT INTO srp_challenges (challenge_id, account_id, epoch, bytes_a, bytes_b, "
                "expires, purpose, device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    challenge_id,
                    account_id,
                    epoch,
                    a_pub,
                    b_secret,
                    _now() + self.config.challenge_ttl_s,
                    purpose,
                    device_id,
                ),
            )
        return {"challenge": challenge_id, "srp_salt": salt, "B": b_pub}

    def signin_finish(
        self, email: str, challenge_id: str, proof: bytes, device_id: str, device_name: str
    ) -> SignInResult:
        email = check_email(email)
        _check_device(device_id, device_name)
        with self.db.tx() as t:
            row = t.one(
                "SELECT account_id, epoch, bytes_a, bytes_b, expires FROM srp_challenges "
                "WHERE challenge_id=? AND purpose='signin'",
                (challenge_id,),
            )
            t.run(  # single use
                "DELETE FROM srp_challenges WHERE challenge_id=? AND purpose='signin'",
                (challenge_id,),
            )
        if row is None or int(row[4]) < _now() or not row[0]:
            raise SignInFailedError(
                "sign-in failed: check the email, the Account Password and the Kit"
            )
        acct = self.db.account(str(row[0]))
        if (
            acct is None
            or acct.email != email
            or acct.epoch != int(row[1])
            or acct.srp_salt is None
            or acct.verifier is None
            or acct.wrapped_vk is None
            or acct.kdf_salt is None
        ):
            raise SignInFailedError(
                "sign-in failed: check the email, the Account Password and the Kit"
            )
        h_amk = srp6a.server_verify(
            email, acct.srp_salt, acct.verifier, bytes(row[2]), bytes(row[3]), proof
        )
        if h_amk is None:
            raise SignInFailedError(
                "sign-in failed: check the email, the Account Password and the Kit"
            )
        token, is_new = self._new_session(acct, device_id, device_name)
        if is_new:
            self.mailer.new_device(acct.email, device_name)
        return SignInResult(
            token,
            h_amk,
            acct.account_id,
            acct.email,
            acct.generation,
            acct.epoch,
            acct.wrapped_vk,
            KdfParams(acct.kdf_m, acct.kdf_t, acct.kdf_p),
            acct.kdf_salt,
            acct.revision,
            acct.plan,
        )

    def _new_session(self, acct: Account, device_id: str, device_name: str) -> tuple[str, bool]:
        token = secrets.token_urlsafe(32)
        now = _now()
        with self.db.tx() as t:
            known = t.one(
                "SELECT 1 FROM devices WHERE account_id=? AND device_id=?",
                (acct.account_id, device_id),
            )
            if known:
                t.run(
                    "UPDATE devices SET name=?, last_seen=? WHERE account_id=? AND device_id=?",
                    (device_name, now, acct.account_id, device_id),
                )
            else:
                t.run(
                    "INSERT INTO devices (account_id, device_id, name, created, last_seen) VALUES (?, ?, ?, ?, ?)",
                    (acct.account_id, device_id, device_name, now, now),
                )
            t.run(  # the account's sessions long past use (revoked ones are kept until then)
                "DELETE FROM sessions WHERE account_id=? AND expires<?",
                (acct.account_id, now - self.config.session_max_s),
            )
            t.run(
                "INSERT INTO sessions (token_hash, account_id, device_id, generation, epoch, created, "
                "expires, revoked, legacy) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)",
                (
                    token_hash(token),
                    acct.account_id,
                    device_id,
                    acct.generation,
                    acct.epoch,
                    now,
                    now + min(self.config.session_ttl_s, self.config.session_max_s),
                ),
            )
        return token, not known

    # -- sessions ---------------------------------------------------------------------------
    def session(self, token: str, device: str | None, any_epoch: bool = False) -> Session:
        """The session behind a bearer token sent by `device` (the X-Strongroom-Device header),
        checked against the device it was issued to, revocation, the account's generation and
        epoch, and its expiry. Only a session made before schema 3 may come without the header.
        `any_epoch`: a session from before a password change or key change still counts (only
        for fetching the key change that lets the device follow)."""
        if not token or len(token) > 200:
            raise UnauthorizedError("sign in first")
        with self.db.tx(write=False) as t:
            row = t.one(
                "SELECT s.account_id, s.device_id, s.generation, s.epoch, s.expires, a.generation, "
                "a.epoch, s.revoked, s.legacy, s.created "
                "FROM sessions s JOIN accounts a ON a.account_id = s.account_id WHERE s.token_hash=?",
                (token_hash(token),),
            )
        if row is None:
            raise UnauthorizedError("this device is signed out; sign in again")
        if int(row[7]):
            raise DeviceRemovedError(self._removed_message(str(row[0]), str(row[1])))
        legacy = bool(int(row[8]))
        if device != str(row[1]) and not (legacy and device is None):
            raise WrongDeviceError("this session belongs to another device; sign in on this device")
        if int(row[2]) != int(row[5]):
            raise AccountResetError(
                "the account was reset; sign in again and choose a new password",
                generation=int(row[5]),
            )
        if int(row[3]) != int(row[6]) and not any_epoch:
            raise PasswordChangedError(
                "the Account Password was changed on another device; enter the new password",
                epoch=int(row[6]),
            )
        if int(row[4]) < _now():
            raise SessionExpiredError("the session expired; sign in again")
        return Session(
            str(row[0]), str(row[1]), int(row[2]), int(row[3]), int(row[9]), int(row[4]), legacy
        )

    def _removed_message(self, account_id: str, device_id: str) -> str:
        with self.db.tx(write=False) as t:
            row = t.one(
                "SELECT removed_by FROM key_changes WHERE account_id=? AND removed=? "
                "ORDER BY from_epoch DESC LIMIT 1",
                (account_id, device_id),
            )
        if row is not None:
            return f"this device was removed from the account by device {row[0]}"
        return "this device was removed from the account on another device; its session is revoked"

    def key_change(self, s: Session, kid_hex: str) -> bytes:
        """The key change that moves away from the Vault Key with this key id (vault/removal.py),
        for a device that is behind it; NotFoundError when there is none."""
        try:
            kid = base64.b64encode(bytes.fromhex(kid_hex)).decode()
        except ValueError:
            raise BadRequestError("the key id must be hexadecimal") from None
        with self.db.tx(write=False) as t:
            row = t.one(
                "SELECT data FROM key_changes WHERE account_id=? AND kid_from=?",
                (s.account_id, kid),
            )
        if row is None:
            raise NotFoundError("no key change from that key")
        return bytes(row[0])

    def keep_alive(self, token: str, s: Session) -> None:
        """Slide a used session's expiry `session_ttl_s` ahead (never past `session_max_s` after
        sign-in). Written at most once per few minutes per session, outside the request's own
        transaction; legacy sessions keep their cutoff."""
        if s.legacy:
            return
        ttl = self.config.session_ttl_s
        new = min(_now() + ttl, s.created + self.config.session_max_s)
        if new - s.expires < max(1, min(300, ttl // 4)):
            return
        with self.db.tx() as t:
            t.run(
                "UPDATE sessions SET expires=? WHERE token_hash=? AND expires<? AND revoked=0",
                (new, token_hash(token), new),
            )

    def signout(self, token: str) -> None:
        with self.db.tx() as t:
            t.run("DELETE FROM sessions WHERE token_hash=?", (token_hash(token),))

    def devices(self, s: Session) -> list[Device]:
        with self.db.tx(write=False) as t:
            rows = t.all(
                "SELECT device_id, name, created, last_seen FROM devices WHERE account_id=? ORDER BY created",
                (s.account_id,),
            )
        return [Device(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]

    def remove_device(self, s: Session, device_id: str, proof: Proof | None) -> bytes | None:
        """Remove a device of the account and revoke its sessions; returns the server's proof
        (H_AMK) when one was needed. Another device than the caller needs a fresh proof; a
        device may sign itself out with its session alone."""
        h_amk = None if device_id == s.device_id else self.check_proof(s, proof)[0]
        with self.db.tx() as t:
            n = t.run(
                "DELETE FROM devices WHERE account_id=? AND device_id=?", (s.account_id, device_id)
            )
            n += self.db.revoke_device(s.account_id, device_id)
        if n == 0:
            raise NotFoundError("no such device on this account")
        return h_amk

    # -- fresh proof ------------------------------------------------------------------------
    def proof_start(self, s: Session, a_pub: bytes) -> dict[str, Any]:
        """A fresh SRP challenge for a signed-in device, against the account's current verifier:
        the first half of the proof a credential change or device removal carries."""
        self._limit("proof", s.account_id, *self.config.limits.proof_account)
        if not 1 <= len(a_pub) <= srp6a.GROUP_BYTES:
            raise BadRequestError("A has the wrong size")
        acct = self._account(s)
        if acct.srp_salt is None or acct.verifier is None:
            raise UnauthorizedError("this account has no keys; sign in again")
        return self._open_challenge(
            acct.email,
            acct.srp_salt,
            acct.verifier,
            a_pub,
            acct.account_id,
            acct.epoch,
            purpose="proof",
            device_id=s.device_id,
        )

    def check_proof(self, s: Session, proof: Proof | None) -> tuple[bytes, int]:
        """(H_AMK, the epoch proven) when `proof` answers a live challenge this device asked for
        with the account's current credentials and MACs this very request; the challenge is used
        up either way. ProofRequiredError without one, ProofFailedError otherwise."""
        if proof is None:
            raise ProofRequiredError(
                "this change needs a fresh proof of the current Account Password and Account Key "
                "(POST /v1/proof/start, then send the proof with the request); nothing was changed"
            )
        with self.db.tx() as t:
            row = t.one(
                "SELECT account_id, epoch, bytes_a, bytes_b, expires, device_id FROM srp_challenges "
                "WHERE challenge_id=? AND purpose='proof'",
                (proof.challenge,),
            )
            t.run(
                "DELETE FROM srp_challenges WHERE challenge_id=? AND purpose='proof'",
                (proof.challenge,),
            )
        failed = ProofFailedError(
            "the current Account Password and Account Key could not be confirmed; nothing was changed"
        )
        if (
            row is None
            or int(row[4]) < _now()
            or str(row[0]) != s.account_id
            or str(row[5]) != s.device_id
        ):
            raise failed
        acct = self._account(s)
        if acct.epoch != int(row[1]) or acct.srp_salt is None or acct.verifier is None:
            raise failed
        keyed = srp6a.server_verify_keyed(
            acct.email, acct.srp_salt, acct.verifier, bytes(row[2]), bytes(row[3]), proof.m
        )
        if keyed is None:
            raise failed
        try:
            mac = srp6a.bind(keyed[1], proof.method, proof.path, proof.body)
        except ValueError:
            raise failed from None
        if not hmac.compare_digest(mac, proof.mac):
            raise failed
        return keyed[0], acct.epoch

    def status(self, s: Session) -> dict[str, Any]:
        acct = self._account(s)
        with self.db.tx(write=False) as t:
            n = int(
                t.one(
                    "SELECT COUNT(DISTINCT record_id) FROM envelopes WHERE account_id=?",
                    (s.account_id,),
                )[0]
            )
        return {
            "account_id": acct.account_id,
            "email": acct.email,
            "plan": acct.plan,
            "generation": acct.generation,
            "epoch": acct.epoch,
            "revision": acct.revision,
            "records": n,
        }

    def keys(self, s: Session) -> dict[str, Any]:
        """The wrapped Vault Key and KDF salt/cost, for a device following a password change."""
        acct = self._account(s)
        return {
            "generation": acct.generation,
            "epoch": acct.epoch,
            "wrapped_vk": acct.wrapped_vk,
            "kdf": {"m": acct.kdf_m, "t": acct.kdf_t, "p": acct.kdf_p},
            "kdf_salt": acct.kdf_salt,
        }

    def _account(self, s: Session) -> Account:
        acct = self.db.account(s.account_id)
        if acct is None:
            raise UnauthorizedError("this account no longer exists")
        return acct

    # -- sync -------------------------------------------------------------------------------
    def push(self, s: Session, generation: int, epoch: int, blobs: list[bytes]) -> dict[str, int]:
        """Merge envelopes with the engine's rules; compare-and-swap on the writer's keys.

        The server cannot open envelopes, so it cannot tell a forged "newer" version from a real
        one: a version that another supersedes is kept (`superseded` = when) for the retention
        period (`keep_superseded_s`) instead of deleted, and still served to pulls, so devices —
        which open every version before merging — keep the good one. A pushed version the server
        holds as superseded is kept again from now (a device re-pushing what it trusts); one it
        no longer holds at all is stored again as superseded, with a new revision, so devices
        signing in later get it."""
        envs: list[Envelope] = []
        for raw in blobs:
            try:
                envs.append(Envelope.from_bytes(raw))
            except VaultError as exc:
                raise BadRequestError(f"an envelope is malformed: {exc}") from None
        if any(len(env.record_id) > 64 for env in envs):
            raise BadRequestError("a record id is too long")
        groups = by_record(envs)
        now = _now()
        with self.db.tx() as t:
            ids = list(groups)
            # The account row locked and the first 500 records' stored versions, in one query.
            acct, rows = t.lock_account_with_envelopes(s.account_id, ids[:500])
            if acct is None:
                raise UnauthorizedError("this account no longer exists")
            _cas(acct, s, generation, epoch)
            rev = acct.revision
            for i in range(500, len(ids), 500):  # one query per 500 records, not one per record
                chunk = ids[i : i + 500]
                rows += [
                    (bytes(r[0]), r[1])
                    for r in t.all(
                        f"SELECT body, superseded FROM envelopes WHERE account_id=? AND record_id IN ({','.join('?' * len(chunk))})",
                        [s.account_id, *chunk],
                    )
                ]
            live: list[Envelope] = []
            kept: set[tuple[str, str, bytes]] = set()  # superseded, still held
            for body, superseded in rows:
                try:
                    env = Envelope.from_bytes(body)
                except VaultError:
                    continue  # stored before its bounds were checked: merges with nothing
                if superseded is None:
                    live.append(env)
                else:
                    kept.add((env.record_id, env.vv_text, body))
            existing = by_record(live)
            drop: list[tuple[int, str, str, str, bytes]] = []
            add: list[tuple[str, str, str, int, bytes, int | None]] = []
            refresh: list[tuple[int, str, str, str, bytes]] = []
            revive: list[tuple[str, str, str, bytes]] = []
            for rid, new in groups.items():
                change = merge_into(existing.get(rid, []), new)
                # By content too: one vector may name two versions (a reused causal identity).
                drop += [(now, s.account_id, rid, e.vv_text, e.to_bytes()) for e in change.drop]
                added = {(e.vv_text, e.ciphertext) for e in change.add}
                held = {(e.vv_text, e.ciphertext) for e in existing.get(rid, [])}
                for e in change.add:
                    rev += 1
                    raw = e.to_bytes()
                    add.append((s.account_id, rid, e.vv_text, rev, raw, None))
                    if (rid, e.vv_text, raw) in kept:  # current again: one row, not two
                        revive.append((s.account_id, rid, e.vv_text, raw))
                for e in new:  # superseded on arrival: kept (again) for the retention period
                    key = (e.vv_text, e.ciphertext)
                    if key in added or key in held:
                        continue
                    added.add(key)
                    raw = e.to_bytes()
                    if (rid, e.vv_text, raw) in kept:
                        refresh.append((now, s.account_id, rid, e.vv_text, raw))
                    else:
                        rev += 1
                        add.append((s.account_id, rid, e.vv_text, rev, raw, now))
            stored = len(add)
            t.later(
                "UPDATE envelopes SET superseded=? WHERE account_id=? AND record_id=? AND vv=? "
                "AND body=? AND superseded IS NULL",
                drop,
            )
            t.later(
                "DELETE FROM envelopes WHERE account_id=? AND record_id=? AND vv=? AND body=?",
                revive,
            )
            t.later(
                "INSERT INTO envelopes (account_id, record_id, vv, rev, body, superseded) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                add,
            )
            t.later(
                "UPDATE envelopes SET superseded=? WHERE account_id=? AND record_id=? AND vv=? "
                "AND body=? AND superseded IS NOT NULL",
                refresh,
            )
            # Last, so what this push superseded or kept again (superseded = now) stays the whole
            # retention period: the account's versions superseded longer ago go.
            t.later(
                "DELETE FROM envelopes WHERE account_id=? AND superseded IS NOT NULL "
                "AND superseded<?",
                [(s.account_id, now - self.config.keep_superseded_s)],
            )
            if rev != acct.revision:
                t.later("UPDATE accounts SET revision=? WHERE account_id=?", [(rev, s.account_id)])
        return {"revision": rev, "stored": stored}

    def pull(self, s: Session, generation: int, since: int, limit: int = MAX_PULL) -> PullResult:
        """Envelopes stored after server revision `since`, oldest first, at most `limit`."""
        limit = max(1, min(limit, MAX_PULL))
        with self.db.tx(write=False) as t:
            # One statement, so one snapshot: the account's revision and the page agree.
            rows = t.all(
                "SELECT a.generation, a.epoch, a.revision, e.rev, e.body FROM accounts a "
                "LEFT JOIN envelopes e ON e.account_id = a.account_id AND e.rev > ? "
                "WHERE a.account_id = ? ORDER BY e.rev LIMIT ?",
                (since, s.account_id, limit + 1),
            )
        if not rows:
            raise UnauthorizedError("this account no longer exists")
        generation_now, epoch, revision = (int(v) for v in rows[0][:3])
        _check_keys(generation_now, epoch, s, generation, epoch)
        rows = [r for r in rows if r[3] is not None]
        more = len(rows) > limit
        rows = rows[:limit]
        next_rev = int(rows[-1][3]) if rows else max(since, 0)
        if not more:
            next_rev = max(next_rev, revision)
        return PullResult([bytes(r[4]) for r in rows], next_rev, revision, more)

    # -- password change --------------------------------------------------------------------
    def change_password(
        self,
        s: Session,
        token: str,
        epoch: int,
        new_epoch: int,
        creds: Credentials,
        proof: Proof | None,
        key_change: bytes | None = None,
        revision: int | None = None,
    ) -> tuple[int, bytes]:
        """One atomic swap of verifier, KDF salt/cost and wrapped VK, only with a fresh proof of
        the credentials it replaces; other sessions must re-authenticate. Returns the new epoch
        and the server's proof (H_AMK). Password change and Account Key rotation both come here.

        With `key_change` (a device removal: vault/removal.py, the SRKC bytes, which the server
        cannot open): in the same transaction the change is kept for the remaining devices to
        fetch, the removed device is deleted and its sessions revoked, and every envelope of the
        account is dropped (they are sealed under the Vault Key the removal replaced; the
        removing device pushes them again re-encrypted). `revision` is the server revision the
        removing device has pulled up to: when another device pushed after it, the removal is
        refused (409 behind), so no version only the server held is dropped."""
        check_credentials(creds)
        if new_epoch != epoch + 1:
            raise BadRequestError("the new epoch must be the current epoch plus one")
        change = _key_change_header(key_change, s, epoch, new_epoch)
        h_amk, proven = self.check_proof(s, proof)
        with self.db.tx() as t:
            acct = t.lock_account(s.account_id)
            if acct is None:
                raise UnauthorizedError("this account no longer exists")
            _cas(acct, s, acct.generation, epoch)
            if acct.epoch != proven:  # changed by another device since the proof
                raise StaleKeysError(
                    "the Account Password was changed on another device; enter the new password",
                    epoch=acct.epoch,
                )
            t.run(
                "UPDATE accounts SET epoch=?, srp_salt=?, verifier=?, kdf_m=?, kdf_t=?, kdf_p=?, kdf_salt=?, "
                "wrapped_vk=? WHERE account_id=? AND epoch=?",
                (
                    new_epoch,
                    creds.srp_salt,
                    creds.verifier,
                    creds.kdf.m_kib,
                    creds.kdf.t,
                    creds.kdf.p,
                    creds.kdf_salt,
                    creds.wrapped_vk,
                    s.account_id,
                    epoch,
                ),
            )
            t.run("UPDATE sessions SET epoch=? WHERE token_hash=?", (new_epoch, token_hash(token)))
            if change is not None and key_change is not None:
                if revision is None or revision != acct.revision:
                    raise BehindError(
                        "changes reached the server after this device last pulled; sync, then "
                        "remove the device again"
                    )
                removed = str(change["removed"])
                if t.one(
                    "SELECT 1 FROM key_changes WHERE account_id=? AND kid_from=?",
                    (s.account_id, change["kid_from"]),
                ):
                    raise StaleKeysError(
                        "another device changed this account's keys first", epoch=acct.epoch
                    )
                t.run(
                    "INSERT INTO key_changes (account_id, kid_from, from_epoch, removed, "
                    "removed_by, data, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        s.account_id,
                        change["kid_from"],
                        epoch,
                        removed,
                        s.device_id,
                        key_change,
                        _now(),
                    ),
                )
                t.run(
                    "DELETE FROM devices WHERE account_id=? AND device_id=?",
                    (s.account_id, removed),
                )
                t.run(
                    "UPDATE sessions SET revoked=? WHERE account_id=? AND device_id=? AND revoked=0",
                    (_now(), s.account_id, removed),
                )
                t.run("DELETE FROM envelopes WHERE account_id=?", (s.account_id,))
        return new_epoch, h_amk

    # -- hint and reset ---------------------------------------------------------------------
    def request_hint(self, email: str, address: str) -> None:
        email = check_email(email)
        self._limit("email-ip", address, self.config.limits.email_address)
        self._limit("email-acct", email, self.config.limits.email_account)
        acct = self.db.account_by_email(email)
        if acct is not None:
            self.mailer.hint(acct.email, acct.hint)

    def request_reset(self, email: str, address: str) -> None:
        email = check_email(email)
        self._limit("email-ip", address, self.config.limits.email_address)
        self._limit("email-acct", email, self.config.limits.email_account)
        acct = self.db.account_by_email(email)
        if acct is None:
            return
        token = secrets.token_urlsafe(32)
        with self.db.tx() as t:
            t.run(
                "INSERT INTO tokens (token_hash, kind, account_id, generation, expires, used) VALUES (?, 'reset', ?, ?, ?, 0)",
                (
                    token_hash(token),
                    acct.account_id,
                    acct.generation,
                    _now() + self.config.reset_link_ttl_s,
                ),
            )
        url = f"{self.config.base_url.rstrip('/')}/reset/{token}"
        self.mailer.reset_link(acct.email, url, self.config.reset_link_ttl_s // 60)

    def reset_link(self, token: str) -> Account:
        """The account an unused reset link or confirm form is for; GoneError if opened, used,
        expired, superseded or unknown."""
        with self.db.tx(write=False) as t:
            row = _reset_token(t, token)
        acct = self.db.account(str(row[0]))
        if acct is None or acct.generation != int(row[1]):
            raise _link_gone(used=True)  # the account was reset since, by another link
        return acct

    def open_reset_link(self, token: str) -> tuple[Account, str]:
        """Trade an emailed link for a confirm form token (sent in the page, posted in the body).

        The link works once: a copy of its URL left in a proxy's log, a browser's history or a
        Referer cannot open the page again or confirm the reset after the person opened it."""
        form = secrets.token_urlsafe(32)
        with self.db.tx() as t:
            row = _reset_token(t, token, kinds=("reset",))
            if t.run("UPDATE tokens SET used=2 WHERE token_hash=? AND used=0", (row[2],)) != 1:
                raise _link_gone(used=True)  # opened at the same moment elsewhere
            t.run(
                "INSERT INTO tokens (token_hash, kind, account_id, generation, expires, used) VALUES (?, 'reset-form', ?, ?, ?, 0)",
                (token_hash(form), str(row[0]), int(row[1]), int(row[3])),
            )
        return self.reset_link(form), form

    def confirm_reset(self, token: str) -> tuple[Account, str]:
        """Wipe cloud data, verifier and wrapped keys; bump the generation. Returns the setup code.

        `token` is an unopened link's or an opened link's confirm form token."""
        code = "-".join(secrets.token_hex(3).upper() for _ in range(4))
        with self.db.tx() as t:
            row = _reset_token(t, token)
            acct = t.lock_account(str(row[0]))
            if acct is None or acct.generation != int(row[1]):
                raise GoneError(
                    "this reset link is not valid any more (the account was reset since); ask for a new one"
                )
            gen = acct.generation + 1
            t.run(
                "UPDATE tokens SET used=1 WHERE account_id=? AND kind IN ('reset', 'reset-form')",
                (acct.account_id,),
            )
            t.run("DELETE FROM envelopes WHERE account_id=?", (acct.account_id,))
            t.run("DELETE FROM blobs WHERE account_id=?", (acct.account_id,))
            t.run("DELETE FROM blob_parts WHERE account_id=?", (acct.account_id,))
            # Sessions stay (they now fail with "account reset", which devices must be told); devices go.
            t.run("DELETE FROM devices WHERE account_id=?", (acct.account_id,))
            t.run("DELETE FROM srp_challenges WHERE account_id=?", (acct.account_id,))
            t.run(
                "UPDATE accounts SET generation=?, epoch=1, srp_salt=NULL, verifier=NULL, kdf_salt=NULL, "
                "wrapped_vk=NULL WHERE account_id=?",
                (gen, acct.account_id),
            )
            t.run(
                "INSERT INTO tokens (token_hash, kind, account_id, generation, expires, used) VALUES (?, 'setup', ?, ?, ?, 0)",
                (
                    token_hash(_norm_code(code)),
                    acct.account_id,
                    gen,
                    _now() + self.config.setup_code_ttl_s,
                ),
            )
        self.mailer.reset_done(acct.email)
        return acct, code

    def setup_info(self, email: str, code: str, address: str) -> dict[str, Any]:
        """Account id and new generation for a reset account, given its setup code (not consumed)."""
        email = check_email(email)
        self._limit_signin(email, address, None)
        acct, _ = self._setup_token(email, code)
        return {"account_id": acct.account_id, "generation": acct.generation}

    def _setup_token(self, email: str, code: str) -> tuple[Account, bytes]:
        acct = self.db.account_by_email(email)
        h = token_hash(_norm_code(code))
        with self.db.tx(write=False) as t:
            row = t.one(
                "SELECT account_id, generation, expires, used FROM tokens WHERE token_hash=? AND kind='setup'",
                (h,),
            )
        if (
            acct is None
            or row is None
            or str(row[0]) != acct.account_id
            or int(row[1]) != acct.generation
            or int(row[3])
            or int(row[2]) < _now()
            or acct.has_keys
        ):
            raise GoneError("this setup code is not valid (wrong, used or expired)")
        return acct, h

    def complete_reset(
        self, email: str, code: str, generation: int, creds: Credentials, address: str
    ) -> None:
        """Install the new keys made in the app after a reset; the setup code is used up."""
        email = check_email(email)
        self._limit_signin(email, address, None)
        check_credentials(creds)
        acct, h = self._setup_token(email, code)
        if generation != acct.generation:
            raise StaleKeysError(
                "the keys were made for another generation of the account",
                generation=acct.generation,
            )
        with self.db.tx() as t:
            n = t.run("UPDATE tokens SET used=1 WHERE token_hash=? AND used=0", (h,))
            if n != 1:
                raise GoneError("this setup code was just used")
            t.run(
                "UPDATE accounts SET epoch=1, srp_salt=?, verifier=?, kdf_m=?, kdf_t=?, kdf_p=?, kdf_salt=?, "
                "wrapped_vk=? WHERE account_id=? AND generation=? AND verifier IS NULL",
                (
                    creds.srp_salt,
                    creds.verifier,
                    creds.kdf.m_kib,
                    creds.kdf.t,
                    creds.kdf.p,
                    creds.kdf_salt,
                    creds.wrapped_vk,
                    acct.account_id,
                    generation,
                ),
            )


def _reset_token(
    t: Tx, token: str, kinds: tuple[str, ...] = ("reset", "reset-form")
) -> tuple[Any, ...]:
    """(account_id, generation, token_hash, expires) of a live reset token, else GoneError."""
    h = token_hash(token)
    row = t.one(
        f"SELECT account_id, generation, kind, expires, used FROM tokens WHERE token_hash=? "
        f"AND kind IN ({','.join('?' * len(kinds))})",
        (h, *kinds),
    )
    if row is None or int(row[4]) or int(row[3]) < _now():
        raise _link_gone(bool(row and int(row[4])))  # opened (2) or confirmed (1): used
    return (row[0], row[1], h, row[3])


def _norm_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _key_change_header(
    data: bytes | None, s: Session, epoch: int, new_epoch: int
) -> dict[str, Any] | None:
    """The public header of a device removal's key change, checked against the request."""
    if data is None:
        return None
    from vault.errors import VaultError
    from vault.removal import read_header

    try:
        h = read_header(data)
    except VaultError as exc:
        raise BadRequestError(f"'key_change' is not a key change ({exc})") from None
    if (h["account"], h["gen"], h["from"], h["to"]) != (
        s.account_id,
        s.generation,
        epoch,
        new_epoch,
    ):
        raise BadRequestError("the key change names another account, generation or epoch")
    if h["removed"] == s.device_id:
        raise BadRequestError("a device cannot remove itself with a key change")
    return h


def _cas(acct: Account, s: Session, generation: int, epoch: int) -> None:
    _check_keys(acct.generation, acct.epoch, s, generation, epoch)


def _check_keys(
    acct_generation: int, acct_epoch: int, s: Session, generation: int, epoch: int
) -> None:
    if acct_generation != s.generation or generation != acct_generation:
        raise AccountResetError(
            "the account was reset; this device's data is kept as a backup — sign in again",
            generation=acct_generation,
        )
    if acct_epoch != s.epoch or epoch != acct_epoch:
        raise StaleKeysError(
            "the Account Password was changed on another device; enter the new password",
            epoch=acct_epoch,
        )


def _check_device(device_id: str, name: str) -> None:
    if not 1 <= len(device_id) <= 64 or not device_id.replace("-", "").replace("_", "").isalnum():
        raise BadRequestError("the device id must be 1-64 letters, digits, - or _")
    if not 1 <= len(name) <= 100:
        raise BadRequestError("the device name must be 1-100 characters")


__all__ = [
    "AccountService",
    "ConflictError",
    "Credentials",
    "Limit",
    "Limits",
    "Proof",
    "PullResult",
    "ServerConfig",
    "SignInResult",
]
