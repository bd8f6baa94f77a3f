"""The sync method chosen for this device, shared by the CLI and the TUI: configure, sync once, status.

The choice lives in the vault's (non-secret) settings: `{"sync": {"method": "none"|"folder"|"wifi"|
"cloud", …}}`. Each method's own module does the moving; this module only dispatches.

For the CLI and the TUI (vault unlocked; run these in a worker thread, they do network/file IO):

    sync_now(vault, progress=None) -> SyncOutcome      # progress(done, total): a long cloud download
    status(vault) -> dict                              # method, server/folder, last_sync, pending, conflicts,
                                                       # refused versions by source and reason
    clear_refused(vault) -> int                        # forget them (`sync status --clear-refused`)
    change_password(vault, new_password, hint=None) -> KeySlot   # cloud: on the server first; write its Kit
    adopt_new_password(vault, new_password, kit=None)  # after EpochChangedError from sync_now

Signing up/in through the account server: `sync/cloudlink.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vault.words import plural

from .errors import SyncError

METHODS = ("none", "folder", "wifi", "cloud")


class NoSyncMethodError(SyncError):
    """`sync now` on a device that syncs with nothing."""


@dataclass(frozen=True)
class SyncOutcome:
    method: str
    received: int
    sent: bool
    detail: str
    #: titles of records edited on one device while moved to the trash on another: kept out
    #: of the trash (vault/trash.py), to be told
    kept_from_trash: tuple[str, ...] = ()
    #: records purged here because they were in the trash longer than its retention
    purged: int = 0


def config(vault: Any) -> dict[str, Any]:
    cfg = vault.settings().get("sync") or {"method": "none"}
    return dict(cfg)


def configure(vault: Any, method: str, **options: Any) -> dict[str, Any]:
    if method not in METHODS:
        raise SyncError(f"unknown sync method {method!r}; choose one of {', '.join(METHODS)}")
    cfg = {"method": method, **options}
    vault.update_settings(sync=cfg)
    return cfg


def sync_now(vault: Any, progress: Callable[[int, int], None] | None = None) -> SyncOutcome:
    """Sync once with the chosen method. `progress(done, total)` reports a long cloud download.

    Errors: NoSyncMethodError; SourceUnavailableError (unreachable); a vault EpochChangedError when
    the password was changed on another device (ask for it, then `adopt_new_password`); a vault
    GenerationChangedError when the account was reset (cloud: the records are first kept as an
    encrypted backup, and the message names it and says how to sign in again).
    """
    cfg = config(vault)
    method = cfg.get("method", "none")
    if method not in ("folder", "wifi", "cloud"):
        _no_method(method)
    # The trash's retention runs on every device before each sync: the tombstones go out in it.
    purged = len(vault.purge_expired())
    note_seen(vault, method)
    if method == "folder":
        from .folder import FolderSync

        r = FolderSync(vault, Path(cfg["folder"])).sync_now()
        outcome = SyncOutcome("folder", r.received, r.wrote, r.detail)
    elif method == "wifi":
        outcome = _wifi_now(vault, list(cfg.get("interfaces") or []))
    else:
        outcome = _cloud_now(vault, str(cfg.get("server", "")), progress)
    if outcome.received:  # versions from elsewhere may name files no more (a purge, a prune):
        vault.blobs_released()  # their bytes leave this device (never the folder or the server)
    kept = tuple(s.title for s in vault.kept_from_trash())
    return replace(outcome, kept_from_trash=kept, purged=purged)


def note_seen(vault: Any, method: str) -> None:
    """This device's entry in the device list, brought up to date so it rides this sync
    (vault/devices.py: only when missing, its method changed or an hour passed)."""
    from vault import devices

    devices.touch(vault, method)


def _no_method(method: str) -> None:
    if method == "none":
        raise NoSyncMethodError(
            "this device syncs with nothing; choose a method with `strongroom sync folder DIR`, "
            "`sync wifi` or `sync cloud URL`"
        )
    raise SyncError(f"the {method} sync method is not available in this build")


def status(vault: Any) -> dict[str, Any]:
    """Method, last sync, changes not yet synced, records in conflict (titles need the vault
    unlocked), and the incoming versions this device refused (vault/intake.py), by source and why."""
    cfg = config(vault)
    settings = vault.settings()
    last = settings.get("last_sync")
    since = int(settings.get("last_sync_seq", 0))
    problems = None
    if cfg["method"] == "cloud":  # the queue: everything after what the server acknowledged
        from .cloud import PUSHED_META

        since = int(vault.store.get_meta(PUSHED_META) or b"0")
    if cfg["method"] == "folder":  # everything after what the folder is known to hold
        from .folderstate import FolderState, problems_now
        from .mssb import account_dir

        if vault.store.get_meta("sync.folder.state"):
            since = FolderState.load(vault.store).published
        problems = problems_now(
            vault.store, account_dir(Path(cfg["folder"]), vault.slot.account_id)
        )
    pending = [
        rid
        for rid in (vault.store.changed_ids_since(since) if cfg["method"] != "none" else [])
        if not rid.startswith("device-")  # this device's entry in the device list: no record
    ]
    conflicts = [s for s in vault.summaries() if s.conflict]
    kept = {s.id for s in vault.kept_from_trash()} if conflicts else set()
    refused = [
        {
            "source": source,
            "reason": reason,
            "versions": n,
            "last": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
        }
        for source, reason, n, at in vault.store.refused_summary()
    ]
    return {
        "folder_problems": problems,
        "method": cfg["method"],
        "folder": cfg.get("folder"),
        "server": cfg.get("server"),
        "last_sync": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last)) if last else None,
        "pending_changes": len(pending),
        "conflicts": [{"id": s.id, "title": s.title} for s in conflicts],
        "kept_from_trash": [{"id": s.id, "title": s.title} for s in conflicts if s.id in kept],
        "account_key_in_folder": _account_key_saved(vault, cfg),
        "refused_versions": sum(r["versions"] for r in refused),
        "refused": refused,
    }


def clear_refused(vault: Any) -> int:
    """Forget the versions this device refused (`sync status --clear-refused`): the person has
    read about them. They stop counting, and cloud sync stops pushing this device's versions of
    those records again (sync/cloud.py); nothing is merged. Returns how many were forgotten."""
    return int(vault.store.clear_refused())


def _account_key_saved(vault: Any, cfg: dict[str, Any]) -> bool | None:
    """Folder sync only: is the Encrypted Account Key saved next to data.mssb (sync/folderkey.py)?"""
    if cfg.get("method") != "folder":
        return None
    from .folderkey import path_for

    return path_for(Path(cfg["folder"]), vault.slot.account_id).exists()


def wifi_interfaces(configured: list[str]) -> list[str]:
    from .wifi import lan_addresses

    interfaces = configured or lan_addresses()
    if not interfaces:
        raise SyncError(
            "no network interface to use for Wi-Fi sync; give one with --interface ADDR"
        )
    return interfaces


def _wifi_now(vault: Any, configured: list[str], timeout: float = 3.0) -> SyncOutcome:
    """Announce, find every peer of this account within `timeout`, sync with each."""
    import asyncio

    from .wifi import WifiPeer

    async def go() -> Any:
        async with WifiPeer(vault, wifi_interfaces(configured)) as peer:
            return await peer.sync_with_all(timeout=timeout)

    return wifi_outcome(asyncio.run(go()), timeout)


def wifi_outcome(report: Any, timeout: float) -> SyncOutcome:
    """A Wi-Fi `sync_with_all` report as an outcome; a password changed on a peer (ask for it)
    or no peer at all within `timeout` seconds is an error."""
    from vault.removal import DeviceRemovedError

    from .errors import SourceUnavailableError
    from .wifi import PasswordChangedElsewhereError

    for err in report.errors:
        if isinstance(err, PasswordChangedElsewhereError | DeviceRemovedError):
            raise err
    if not report.results:
        raise SourceUnavailableError(
            f"no device of this account answered on the network within {timeout:.0f} s; "
            "is another device running `strongroom sync serve` or the app?"
        )
    ok = len(report.synced)
    detail = f"{plural('peer', ok)} synced, {plural('record', report.received)} updated here, {report.sent} sent"
    if report.refused:
        detail += "; " + refused_words(report.refused, "peers")
    files_in = sum(r.files_received for r in report.results)
    files_out = sum(r.files_sent for r in report.results)
    if files_in or files_out:
        detail += f"; {plural('file', files_out)} sent, {files_in} received"
    for r in report.results:
        detail += "".join(f"; attachment {x}" for x in r.file_problems)
    if report.errors:
        detail += "; " + "; ".join(str(e) for e in report.errors[:3])
    return SyncOutcome("wifi", report.received, report.sent > 0, detail)


def _cloud_now(vault: Any, url: str, progress: Callable[[int, int], None] | None) -> SyncOutcome:
    from .cloud import CloudAccountResetError, CloudSync, client_for
    from .cloudlink import meet_reset, reset_error

    with client_for(config(vault)) as client:
        try:
            r = CloudSync(vault, client).sync_now(progress)
        except CloudAccountResetError:
            raise reset_error(vault, url, meet_reset(vault)) from None
    detail = (
        f"{plural('record', r.received)} updated here, {plural('change', r.sent)} sent to {url}"
    )
    if r.refused:
        detail += "; " + refused_words(r.refused, "the server")
    if r.blobs.sent or r.blobs.received:
        detail += f"; {plural('file', r.blobs.sent)} sent, {r.blobs.received} fetched"
    for problem in r.blobs.problems:
        detail += f"; {problem}" if problem.startswith("files ") else f"; attachment {problem}"
    return SyncOutcome("cloud", r.received, r.sent > 0, detail)


def refused_words(count: int, source: str) -> str:
    """What a sync says when it refused versions (the details are in `sync status`)."""
    return (
        f"refused {plural('version', count)} from {source}: not sealed with this account's key, "
        "or malformed (nothing was lost; see `strongroom sync status`)"
    )


def change_password(vault: Any, new_password: str, hint: str | None = None) -> Any:
    """Change the Account Password of an unlocked vault; returns the new KeySlot (write its Kit).

    Cloud: the server swaps verifier + wrapped Vault Key + epoch in one operation first (proven
    with the current credentials in the same exchange), then this device stores the new key slot (a crash in between is healed by `adopt_new_password`). If the
    server cannot be reached or refuses, nothing changes anywhere. Other methods: local only; the
    next folder/Wi-Fi sync carries the new epoch. `hint` replaces the local password hint.
    """
    from vault import keys as keymod
    from vault.vault import PASSWORD_CHANGE

    new_slot, new_keys = keymod.change_password(vault.slot, vault.keys, new_password)
    if hint is not None:
        new_slot = replace(new_slot, hint=hint)
    _swap_keys(vault, new_slot, new_keys, PASSWORD_CHANGE)
    return new_slot


def rotate_account_key(vault: Any, password: str) -> Any:
    """A new Account Key (so a new Kit), same password; returns the new KeySlot (write its Kit).

    Cloud: the server swaps the credentials first, exactly as for a password change; other
    devices then need the new Kit with the same password (`adopt_new_password(vault, pw, kit)`).
    """
    from vault import keys as keymod
    from vault.vault import KEY_ROTATION

    new_slot, new_keys = keymod.rotate_account_key(vault.slot, vault.keys, password)
    _swap_keys(vault, new_slot, new_keys, KEY_ROTATION)
    return new_slot


def _swap_keys(vault: Any, new_slot: Any, new_keys: Any, why: str) -> None:
    """Store a new key slot: on the account server first when syncing there, then on this device."""
    cfg = config(vault)
    if cfg.get("method") == "folder":
        from .folder import check_slot_current

        check_slot_current(vault, Path(cfg["folder"]))
    if cfg.get("method") == "cloud":
        from .cloud import client_for, load_session, save_session, with_renewal

        current = vault.keys.x_auth  # the server asks for a fresh proof made with it
        with client_for(cfg) as client:
            session = with_renewal(
                vault,
                client,
                load_session(vault),
                lambda s: client.change_password(s, new_slot, new_keys, current=current),
            )
        save_session(vault, session)
    vault.replace_slot(new_slot, new_keys, why=why)


def adopt_new_password(vault: Any, new_password: str, kit: Any = None, refused: Any = None) -> None:
    """After EpochChangedError from `sync_now`: take the password changed on another device.

    The vault must be unlocked with the previous password (or `kit`, the new Kit, given). Raises
    WrongPasswordError if `new_password` is not the account's new one; nothing changes then.
    `refused` is that error: over Wi-Fi it carries the key slot the newer peer handed over.
    """
    cfg = config(vault)
    method = cfg.get("method")
    offered = getattr(refused, "offered_slot", None)
    if method == "wifi" and offered is not None:
        from .wifi import adopt_offered_slot

        adopt_offered_slot(vault, offered, new_password)
        return
    if method == "cloud":
        from .cloud import client_for, follow_password_change

        with client_for(cfg) as client:
            follow_password_change(vault, client, new_password, kit)
        return
    if method == "folder":
        from . import mssb

        mssb.adopt_new_epoch(
            vault, mssb.file_path(Path(cfg["folder"]), vault.slot.account_id), new_password, kit
        )
        return
    from vault.errors import EpochChangedError

    raise EpochChangedError(
        f"the password was changed on another device, and {method} sync cannot take it here; "
        "sign in again on a new --home with the new password and Kit"
    )


@dataclass(frozen=True)
class RemovalOutcome:
    """What `remove_device` did: the new key slot (write its Kit), the versions re-encrypted,
    and what the person should know (one line each)."""

    slot: Any
    removed: str
    rekeyed: int
    notes: tuple[str, ...] = ()


def remove_device(vault: Any, device: str, password: str) -> RemovalOutcome:
    """Remove `device` from the account (vault/removal.py): new VK and Account Key, every record
    re-encrypted, the new keys wrapped to each remaining device, the key change published
    first-wins by this device's sync method before anything changes here.

    Folder: syncs first (so nothing the folder holds is left behind), writes the key change
    beside the snapshot (an exclusive create: a removal made elsewhere first refuses this one),
    then re-encrypts here and writes the snapshot under the new key. The folder's saved account
    key (opt-in) is deleted: with it, the removed device's password would open the new Kit.

    Account server: syncs first, then the key change rides the epoch compare-and-swap of
    `POST /v1/password` with a fresh proof and the server revision this device has pulled up to
    (the server keeps it, revokes the removed device's sessions and drops the old-key envelopes
    in one transaction, or answers `behind` when another device pushed meanwhile: this device
    pulls and tries again), then this device re-encrypts and pushes everything again.
    """
    from vault import removal

    cfg = config(vault)
    method = cfg.get("method", "none")
    notes: list[str] = []
    if method == "folder":
        from .folder import FolderSync, check_slot_current, publish_key_change
        from .folderkey import remove as remove_saved_key

        folder = Path(cfg["folder"])
        check_slot_current(vault, folder)
        FolderSync(vault, folder).sync_now()
        made = removal.prepare(vault, device, password)
        publish_key_change(folder, made)
        n = len(removal.commit(vault, made))
        if remove_saved_key(folder, vault.slot.account_id):
            notes.append(
                "the account key saved in the sync folder was deleted (with it, anyone who knows "
                "the password could open the new Kit); `sync folder DIR --store-key` saves it again"
            )
        try:
            FolderSync(vault, folder).sync_now()
        except SyncError as exc:
            notes.append(f"the sync folder is not rewritten yet ({exc}); run `strongroom sync now`")
        return RemovalOutcome(vault.slot, device, n, tuple(notes))
    if method == "cloud":
        return _remove_over_cloud(vault, cfg, device, password)
    if method == "wifi":
        # no shared place to publish first: the key change is kept here (sealed) and handed to
        # each peer still on the old keys when it next syncs with this device (sync/wifi)
        made = removal.prepare(vault, device, password)
        n = len(removal.commit(vault, made))
        notes.append(
            "your other devices take the new keys when they next sync over Wi-Fi while this "
            "device (or one that already took them) is reachable: keep the app or "
            "`strongroom sync serve` running"
        )
        return RemovalOutcome(vault.slot, device, n, tuple(notes))
    if method == "none":
        _no_method(method)
    raise SyncError(
        f"removing a device over {method} sync is not built yet; it works on a folder-synced "
        "account (docs/design.md)"
    )


def _remove_over_cloud(
    vault: Any, cfg: dict[str, Any], device: str, password: str
) -> RemovalOutcome:
    from vault import removal

    from .cloud import (
        PUSHED_META,
        REV_META,
        CloudBehindError,
        CloudSession,
        CloudSync,
        client_for,
        load_session,
        save_session,
        with_renewal,
    )

    with client_for(cfg) as client:
        CloudSync(vault, client).sync_now()  # every device's entry (its public key) is here
        made = removal.prepare(vault, device, password)
        current = made.old_keys.x_auth
        for attempt in range(3):  # another device pushed after our pull: pull it, then again
            CloudSync(vault, client).sync_now()
            revision = int(vault.store.get_meta(REV_META) or b"0")

            def publish(s: CloudSession, rev: int = revision) -> CloudSession:
                return client.change_password(
                    s, made.slot, made.keys, current=current, key_change=made.sealed, revision=rev
                )

            try:
                session = with_renewal(vault, client, load_session(vault), publish)
                break
            except CloudBehindError:
                if attempt == 2:
                    raise
        n = len(removal.commit(vault, made))
        vault.store.set_meta(PUSHED_META, b"0")  # the server dropped the old-key copies
        save_session(vault, session)
        notes: list[str] = []
        try:
            top = vault.store.max_seq()
            rev, stored = client.push_counted(session, vault.store.all_versions())
            vault.store.set_meta(PUSHED_META, str(top).encode())
            if rev == revision + stored:  # nothing but ours since the wipe: no need to pull it
                vault.store.set_meta(REV_META, str(rev).encode())
            CloudSync(vault, client, session).sync_now()
        except SyncError as exc:
            notes.append(
                f"the records are not all on the server yet ({exc}); run `strongroom sync now`"
            )
    return RemovalOutcome(vault.slot, device, n, tuple(notes))
