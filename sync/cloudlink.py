"""This device and the account server: sign up, sign in, switch to cloud, meet a reset.

The steps a person takes with the "cloud" sync method, as one function each, shared by the CLI
(tui/commands/remote.py) and the TUI; no UI here. `sync/cloud.py` speaks the protocol;
`sync/method.py` dispatches `sync now`, status and password changes. Every function leaves the
device either linked (session saved, sync method "cloud") or as it was.

    signup(home, url, email, password, hint)            -> Vault   # new account, here and on the server
    signin(home, url, email, password, kit, progress)   -> Vault   # new device: downloads the vault
    signin_after_reset(home, url, email, code, new_password, hint, progress) -> Vault
    link_existing(vault, url)                            -> CloudSession  # `sync cloud URL`
    meet_reset(vault)                                    -> Path   # backup kept, once
    kept_before_reset(vault)                             -> Path | None  # after signing in again
"""

from __future__ import annotations

import contextlib
import platform
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from vault.backup import keep_as_backup
from vault.errors import AccountExistsError, KitError, KitReason
from vault.kitcode import KitPayload
from vault.vault import DB_NAME, Vault

from .cloud import (
    PUSHED_META,
    REV_META,
    CloudAccountResetError,
    CloudAuthError,
    CloudClient,
    CloudError,
    CloudServerUnavailableError,
    CloudSession,
    CloudSync,
    save_session,
)
from .errors import SyncError
from .method import configure, note_seen
from .tls import Transport

#: `progress(done, total)`: server revisions downloaded so far, out of the server's revision.
Progress = Callable[[int, int], None]

RESET_SETTING = "cloud_reset"
KEPT_SETTING = (
    "kept_before_reset"  # on the vault that replaced one after a reset: where its records are
)


def kept_before_reset(vault: Vault) -> Path | None:
    """The backup of what this home held before it signed in again after a reset (None: nothing)."""
    raw = vault.settings().get(KEPT_SETTING)
    return Path(raw) if raw else None


class SignupIncompleteError(CloudError):
    """The server created the account, then signing this device in failed; the device keeps it."""


class AccountOnServerError(CloudAuthError):
    """`sync cloud URL`: the server holds another account for this email (or this one after a
    password change or reset elsewhere), which this device's keys do not open."""


def device_name() -> str:
    """What the server's device list and "new device signed in" email call this device."""
    return (platform.node() or "device")[:100]


def signup(
    home: Path,
    url: str,
    email: str,
    password: str,
    hint: str = "",
    *,
    transport: Transport | None = None,
) -> Vault:
    """A new account made on this device and created on the server; sync method set to cloud.

    If the server refuses (email taken, unreachable), nothing is left behind on the device. Once
    the server holds the account, the device keeps it whatever happens next (its Account Key
    exists nowhere else): a failed sign-in after that raises SignupIncompleteError.
    `transport`: TLS settings for this server (sync/tls.py), kept with it in the sync settings.
    """
    with CloudClient(url, transport=transport) as client:  # refuses a bad address first
        vault = Vault.create(home, email, password, hint=hint)
        try:
            client.create_account(vault.slot, vault.keys)
        except BaseException as exc:
            if not _created_anyway(client, vault, exc):
                vault.close()
                _remove_store(home)
                raise
        _configure(vault, url, transport)
        try:
            session = client.signin(
                vault.slot.email, vault.keys.x_auth, vault.device, device_name()
            ).session
            session = client.catch_up_epoch(session, vault.slot, vault.keys)
        except SyncError as exc:
            code, status = (
                (exc.code, exc.status) if isinstance(exc, CloudError) else ("unavailable", 0)
            )
            raise SignupIncompleteError(
                f"the account {vault.slot.account_id} was created on the server and is kept on this device, but "
                f"signing in failed ({exc}); save your Kit with `strongroom kit --png FILE`, then sign in with "
                f"`strongroom sync cloud {url}`",
                code,
                status,
            ) from None
    save_session(vault, session)
    return vault


def _created_anyway(client: CloudClient, vault: Vault, exc: BaseException) -> bool:
    """The answer to the sign-up was lost: did the server create the account all the same?"""
    if not isinstance(exc, CloudServerUnavailableError):
        return False
    try:
        _, salt = client.prelogin(vault.slot.email)
    except SyncError:  # still unreachable (CloudServerUnavailableError) or refusing
        return False
    return salt == vault.slot.kit.salt


def signin(
    home: Path,
    url: str,
    email: str,
    password: str,
    kit: KitPayload,
    progress: Progress | None = None,
    *,
    transport: Transport | None = None,
) -> Vault:
    """Link a new device (or one that met an account reset) and download the vault."""
    if _reset_met_at(home, kit.account_id) >= kit.generation:
        raise KitError(
            KitReason.BEFORE_RESET, "this device met that reset: sign in with the Kit made after it"
        )
    _check_room(home, kit.account_id, kit.generation)  # before the server hears of a sign-in
    with CloudClient(url, transport=transport) as client:
        device = secrets.token_hex(4)  # one id on the server and in the device list
        slot, keys, session = client.signin_with_kit(email, password, kit, device, device_name())
        kept = _make_room(home, slot.account_id, slot.generation)
        vault = Vault.adopt(home, slot, keys, [], device=device)
        if kept is not None:
            vault.update_settings(**{KEPT_SETTING: str(kept)})
        try:
            return _first_sync(vault, client, session, url, progress, transport)
        except BaseException:
            # No half-made home: this device held nothing of its own yet (what a reset replaced
            # is kept aside above), so signing in again starts clean.
            vault.close()
            _remove_store(home)
            raise


def signin_after_reset(
    home: Path,
    url: str,
    email: str,
    code: str,
    new_password: str,
    hint: str = "",
    progress: Progress | None = None,
    *,
    transport: Transport | None = None,
) -> Vault:
    """The setup code from the reset page: new keys for the new generation, made here."""
    with CloudClient(url, transport=transport) as client:
        _check_room(home, *client.reset_setup_info(email, code))  # before the code is used up
        device = secrets.token_hex(4)
        slot, keys, session = client.complete_reset(
            email, code, new_password, hint, device, device_name()
        )
        kept = _make_room(home, slot.account_id, slot.generation)
        vault = Vault.adopt(home, slot, keys, [], device=device)
        if kept is not None:
            vault.update_settings(**{KEPT_SETTING: str(kept)})
        return _first_sync(vault, client, session, url, progress, transport)


def link_existing(
    vault: Vault,
    url: str,
    progress: Progress | None = None,
    *,
    transport: Transport | None = None,
) -> CloudSession:
    """`sync cloud URL` on an unlocked device: use the server's copy of this account, or create it.

    What a 1Password/Bitwarden user expects when moving a local vault to an account: if the server
    already holds this account (another device moved it first), sign in with this device's keys and
    merge both; if the email is unknown there, create the account with this device's keys (the same
    Account Key, Kit and password) and upload everything. The server holding the email with other
    keys is refused (AccountOnServerError): nothing is overwritten.
    """
    slot = vault.slot
    if slot.generation != 1:
        raise AccountOnServerError(
            "this account was reset before; sign in on the server with "
            "`strongroom signin --server URL` from the reset's new Kit instead"
        )
    with CloudClient(url, transport=transport) as client:
        _, salt = client.prelogin(slot.email)
        if salt == slot.kit.salt:  # the server holds this account's current keys
            session = client.signin(
                slot.email, vault.keys.x_auth, vault.device, device_name()
            ).session
            session = client.catch_up_epoch(
                session, slot, vault.keys
            )  # an earlier move stopped half-way
        else:
            try:
                session = client.signup(slot, vault.keys, vault.device, device_name())
            except CloudError as exc:
                if exc.code != "account_exists":
                    raise
                raise AccountOnServerError(
                    f"the server {url} already has an account for {slot.email} that this device's keys do "
                    "not open (another account, or this one after a password change or reset on another "
                    "device); sign in to it from a new --home with `strongroom signin --server`"
                ) from None
        if session.account_id != slot.account_id:
            raise AccountOnServerError(
                f"the server's account for {slot.email} is {session.account_id}, "
                f"not this device's {slot.account_id}"
            )
        vault.store.set_meta(PUSHED_META, b"0")  # a new server: everything is pending, nothing seen
        vault.store.set_meta(REV_META, b"0")
        save_session(vault, session)
        _configure(vault, url, transport)
        CloudSync(vault, client, session).sync_now(progress)
    return session


def meet_reset(vault: Vault) -> Path:
    """The account was reset on the server: keep what this device holds as an encrypted backup
    (once; later calls return the same file) and remember it, so `signin` may replace this vault."""
    done = vault.settings().get(RESET_SETTING) or {}
    if done.get("generation") == vault.slot.generation and Path(done.get("backup", "")).is_file():
        return Path(done["backup"])
    path = keep_as_backup(vault)
    vault.update_settings(
        **{
            RESET_SETTING: {
                "generation": vault.slot.generation,
                "backup": str(path),
                "at": time.time(),
            }
        }
    )
    return path


def reset_error(vault: Vault, url: str, backup: Path) -> CloudAccountResetError:
    """The one message a device that met a reset shows (CLI exit 3, TUI notification)."""
    return CloudAccountResetError(
        f"the account was reset on the server, so this device can no longer sync; its records are kept in the "
        f"encrypted backup {backup} (restores with your previous password); sign in again with the new "
        f"password: strongroom signin --email {vault.slot.email} --server {url} --kit NEW-KIT "
        "(or --reset-code CODE from the reset page)",
        "account_reset",
    )


def _configure(vault: Vault, url: str, transport: Transport | None) -> None:
    """Sync with this server from now on, with the TLS settings it was reached with; this
    device's entry in the device list says so in the first sync, which follows at once."""
    configure(vault, "cloud", server=url, **(transport or Transport()).settings())
    note_seen(vault, "cloud")


def _first_sync(
    vault: Vault,
    client: CloudClient,
    session: CloudSession,
    url: str,
    progress: Progress | None,
    transport: Transport | None,
) -> Vault:
    save_session(vault, session)
    _configure(vault, url, transport)
    CloudSync(vault, client, session).sync_now(progress)
    return vault


def _check_room(home: Path, account_id: str, generation: int) -> None:
    """AccountExistsError unless the home is empty or holds this account before a reset."""
    if not Vault.exists(home):
        return
    old = Vault.open(home)
    try:
        if old.slot.account_id != account_id or old.slot.generation >= generation:
            raise AccountExistsError(
                f"this device already has an account (home {home}); use another --home"
            )
    finally:
        old.close()


def _make_room(home: Path, account_id: str, generation: int) -> Path | None:
    """An empty home, or one whose vault is this account before a reset: set that one aside (its
    records are kept as a backup first, returned), so the new generation can be linked in its place."""
    _check_room(home, account_id, generation)
    if not Vault.exists(home):
        return None
    old = Vault.open(home)
    try:
        kept = meet_reset(old)
    finally:
        old.close()
    aside = (
        home
        / "backups"
        / f"replaced-gen{old.slot.generation}-{time.strftime('%Y%m%d-%H%M%S')}.{DB_NAME}"
    )
    for suffix in ("", "-wal", "-shm"):
        src = home / f"{DB_NAME}{suffix}"
        if src.exists():
            src.replace(aside.with_name(aside.name + suffix))
    return kept


def _reset_met_at(home: Path, account_id: str) -> int:
    """The generation of this account at which this home's vault met a reset (0: none)."""
    if not Vault.exists(home):
        return 0
    vault = Vault.open(home)
    try:
        mark = vault.settings().get(RESET_SETTING) or {}
        return int(mark.get("generation", 0)) if vault.slot.account_id == account_id else 0
    finally:
        vault.close()


def _remove_store(home: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            (home / f"{DB_NAME}{suffix}").unlink()


__all__ = [
    "AccountOnServerError",
    "Progress",
    "device_name",
    "link_existing",
    "meet_reset",
    "reset_error",
    "signin",
    "signin_after_reset",
    "signup",
]
