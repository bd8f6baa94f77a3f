"""`Vault`: one device's account and records, the single entry point for the CLI, TUI and sync."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import identity
from . import keys as keymod
from .envelope import Envelope, RecordCipher
from .errors import (
    AccountExistsError,
    AmbiguousError,
    FormatError,
    InvalidInputError,
    LockedError,
    NoAccountError,
    NotFoundError,
    TamperError,
    VaultError,
)
from .history import HISTORY_DAYS, HISTORY_KEEP, TRASH_DAYS, Step, find_step, steps
from .home import default_home as default_home
from .home import make_private
from .index import Head, Summary, SummaryIndex
from .intake import Intake, Refusal, admit
from .kdf import KdfParams
from .keys import KeySlot, UnlockedKeys
from .merge import (
    RecordState,
    covers,
    first_version,
    join,
    next_version,
    state,
    survivors,
    version_beside,
)
from .rebase import rebase
from .records import Record, Version, now, prune_versions, revise, with_history_of
from .trash import expired, kept_out

DB_NAME = "vault.db"
#: Why a key slot changed on this device (Vault.key_changes): what `kit --check` tells apart.
PASSWORD_CHANGE, KEY_ROTATION = "password", "rotation"
KEY_CHANGES_META = "key_changes"
MAX_KEY_CHANGES = 100
#: add_many stores this many sealed versions at a time (inside its one transaction).
ADD_BATCH = 2_000
#: add_many of at least this many records into a store no larger builds the record index once,
#: after its inserts (Store.record_index_deferred).
BULK_INDEX_MIN = 5_000


@dataclass(frozen=True)
class Detail:
    """A record as shown: the winner, and the concurrent versions while in conflict.

    `seen` is the join of the vectors of every version it was read from: an edit of this record
    passes the Detail to `Vault.update` as its base, and what `seen` does not cover arrived later.
    """

    record: Record
    conflict: bool
    others: tuple[Record, ...]
    seen: Mapping[str, int]
    #: the device that wrote the version shown, and those that wrote `others` (same order)
    device: str = ""
    other_devices: tuple[str, ...] = ()
    #: moved to the trash on another device while edited on one: the edit is shown, out of
    #: the trash, and the record stays in conflict until an edit or `trash restore` resolves it
    kept_from_trash: bool = False


class Vault:
    def __init__(self, home: Path, store: Any, slot: KeySlot, device: str) -> None:
        from .store import Store

        self.home = home
        self.store: Store = store
        self.slot = slot
        self.device = device
        #: the id this store's writes count under in version vectors (vault/identity.py)
        self.actor = device
        self._keys: UnlockedKeys | None = None
        self._cipher: RecordCipher | None = None
        self._index: SummaryIndex | None = None
        #: Paths in the home that were open to other users when this vault was opened, now made
        #: owner-only: one sentence each, for the front end to show (CLI stderr, app notification).
        self.permission_fixes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Vault(home={str(self.home)!r}, account={self.slot.account_id!r}, unlocked={self.unlocked})"

    # -- lifecycle --------------------------------------------------------------------------
    @staticmethod
    def exists(home: Path) -> bool:
        path = home / DB_NAME
        if not path.exists():
            return False
        from .store import Store

        store = Store(path)
        try:
            return store.get_meta("slot") is not None
        finally:
            store.close()

    @classmethod
    def _store_for(cls, home: Path) -> tuple[Any, list[str]]:
        """The home made owner-only (created 0700, looser modes fixed) and its store opened."""
        from .store import Store

        fixes = make_private(home)
        return Store(home / DB_NAME), fixes

    @classmethod
    def create(
        cls, home: Path, email: str, password: str, hint: str = "", params: KdfParams | None = None
    ) -> Vault:
        """Sign up on this device: new account, unlocked at once."""
        if cls.exists(home):
            raise AccountExistsError(f"an account already exists in {home}")
        slot, keys = keymod.create_account(email, password, hint, params)
        return cls.adopt(home, slot, keys, [])

    @classmethod
    def adopt(
        cls,
        home: Path,
        slot: KeySlot,
        keys: UnlockedKeys,
        envelopes: Iterable[Envelope],
        source: str = "local",
        refused: Iterable[Refusal] = (),
        device: str | None = None,
    ) -> Vault:
        """Link this device to an account (sign-up, or sign-in from a sync source `source`;
        `refused`: what that source sent that did not even parse, kept aside). `device`: the id
        a cloud sign-in gave the server, so the server and the device list name it alike."""
        if cls.exists(home):
            raise AccountExistsError(f"an account already exists in {home}")
        store, fixes = cls._store_for(home)
        device = device or os.urandom(4).hex()
        with store.transaction() as db:
            store.set_meta("slot", slot.to_bytes(), db)
            store.set_meta("device", device.encode(), db)
        vault = cls(home, store, slot, device)
        vault.permission_fixes = tuple(fixes)
        vault.actor = identity.establish(store, home, device)
        vault._set_keys(keys)
        vault.take_in(envelopes, source, refused)
        vault._ensure_device_key()  # its entry in the device list goes out with its first sync
        return vault

    @classmethod
    def open(cls, home: Path) -> Vault:
        """Open this device's vault, locked."""
        if not (home / DB_NAME).exists():
            raise NoAccountError(f"no account on this device ({home}); sign up or sign in first")
        store, fixes = cls._store_for(home)
        raw, device = store.get_meta("slot"), store.get_meta("device")
        if raw is None or device is None:
            store.close()
            raise NoAccountError(f"no account on this device ({home}); sign up or sign in first")
        vault = cls(home, store, KeySlot.from_bytes(raw), device.decode())
        vault.permission_fixes = tuple(fixes)
        vault.actor = identity.checked_actor(store, home, vault.device)
        return vault

    def close(self) -> None:
        self.lock()
        self.store.close()

    def another_connection(self) -> Vault:
        """This vault again on a new SQLite connection, unlocked with the same keys.

        A connection belongs to the thread that uses it: one used by the UI thread and a worker
        at once fails ("cannot start a transaction within a transaction"). Every thread other than
        the opener's (workers, sync runners, the agent's clients) takes its own with this and
        closes it when done. LockedError when this vault is locked.
        """
        keys = self.keys
        twin = type(self).open(self.home)
        try:
            twin.unlock_with_keys(keys)
        except BaseException:
            twin.close()
            raise
        return twin

    @contextlib.contextmanager
    def own_connection(self) -> Iterator[Vault]:
        """`another_connection()` for one block of work, closed after it."""
        twin = self.another_connection()
        try:
            yield twin
        finally:
            twin.close()

    @property
    def unlocked(self) -> bool:
        return self._keys is not None

    @property
    def keys(self) -> UnlockedKeys:
        if self._keys is None:
            raise LockedError("the vault is locked")
        return self._keys

    @property
    def cipher(self) -> RecordCipher:
        if self._cipher is None:
            raise LockedError("the vault is locked")
        return self._cipher

    def _set_keys(self, keys: UnlockedKeys) -> None:
        self._keys = keys
        self._cipher = RecordCipher(keys.account_id, keys.subkey("records"))
        self._index = SummaryIndex(self.store, self._cipher, keys.subkey("index"))

    def unlock(self, password: str) -> None:
        """One KDF run; WrongPasswordError if the password is not this account's."""
        self._set_keys(keymod.unlock(self.slot, password))
        self._ensure_device_key()

    def _ensure_device_key(self) -> None:
        """A home from before device keys gets its key pair at its first unlock (nothing else
        changes; its entry in the device list is written at its next sync)."""
        if self.store.get_meta("device_key") is None:
            from . import devices

            devices.ensure_key(self)

    def unlock_with_keys(self, keys: UnlockedKeys) -> None:
        """Adopt keys unlocked elsewhere (the agent); they must belong to this account and epoch,
        or be the keys a device removal made or followed here moved away from (vault/removal.py)."""
        current = (self.slot.account_id, self.slot.generation, self.slot.epoch)
        if (keys.account_id, keys.generation, keys.epoch) != current:
            from .removal import keys_after

            moved = keys_after(self.store, keys) if keys.epoch < self.slot.epoch else None
            if moved is None or (moved.account_id, moved.generation, moved.epoch) != current:
                raise LockedError("those keys are not this device's current keys")
            keys = moved
        self._set_keys(keys)
        self._ensure_device_key()

    def lock(self) -> None:
        self._keys = None
        self._cipher = None
        self._index = None

    # -- settings (not secret: auto-lock, clipboard seconds, sync method) --------------------
    def settings(self) -> dict[str, Any]:
        raw = self.store.get_meta("settings")
        return dict(json.loads(raw)) if raw else {}

    def update_settings(self, **values: Any) -> dict[str, Any]:
        with self.store.transaction():  # another process may be changing other settings
            current = self.settings() | values
            self.store.set_meta("settings", json.dumps(current, sort_keys=True).encode())
        return current

    # -- account changes --------------------------------------------------------------------
    def change_password(self, new_password: str) -> KeySlot:
        """New salt, epoch + 1, new Kit; records are not re-encrypted."""
        slot, keys = keymod.change_password(self.slot, self.keys, new_password)
        self.replace_slot(slot, keys, why=PASSWORD_CHANGE)
        return slot

    def rotate_account_key(self, password: str) -> KeySlot:
        slot, keys = keymod.rotate_account_key(self.slot, self.keys, password)
        self.replace_slot(slot, keys, why=KEY_ROTATION)
        return slot

    def key_changes(self) -> list[dict[str, Any]]:
        """The password changes and Account Key rotations made on this device, oldest first:
        {"from": epoch before, "to": epoch after, "why", "at"} (no keys). They let `kit --check`
        say why an older Kit stopped working."""
        raw = self.store.get_meta(KEY_CHANGES_META)
        try:
            found = json.loads(raw) if raw else []
        except ValueError:
            return []
        return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []

    def follow_key_change(self) -> bool:
        """Another process of this device removed a device or followed a removal: take the keys
        it moved to (from the store, sealed under the keys held here). True when they moved."""
        if self._keys is None:
            return False
        raw = self.store.get_meta("slot")
        slot = KeySlot.from_bytes(raw) if raw else self.slot
        if slot.epoch <= self._keys.epoch:
            return False
        from .removal import keys_after

        moved = keys_after(self.store, self._keys)
        if moved is None or moved.epoch != slot.epoch:
            return False
        self.slot = slot
        self._set_keys(moved)
        return True

    def replace_slot(
        self, slot: KeySlot, keys: UnlockedKeys | None, *, why: str | None = None
    ) -> None:
        """Store a new key slot (after a password change here or on another device). `why`
        (PASSWORD_CHANGE, KEY_ROTATION): a change made here, noted for `key_changes`."""
        if why is not None and slot.epoch > self.slot.epoch:
            noted = self.key_changes()[-(MAX_KEY_CHANGES - 1) :]
            noted.append({"from": self.slot.epoch, "to": slot.epoch, "why": why, "at": time.time()})
            self.store.set_meta(KEY_CHANGES_META, json.dumps(noted).encode())
        self.store.set_meta("slot", slot.to_bytes())
        self.slot = slot
        if keys is not None:
            self._set_keys(keys)
        else:
            self.lock()

    # -- records ----------------------------------------------------------------------------
    def apply(self, envelopes: Iterable[Envelope], source: str = "local") -> list[str]:
        """Merge versions from anywhere (sync, backup restore) into the store, each only once its
        AEAD opens under this account's key; returns the ids whose state changed."""
        return self.take_in(envelopes, source).changed

    def take_in(
        self, envelopes: Iterable[Envelope], source: str, refused: Iterable[Refusal] = ()
    ) -> Intake:
        """Open before merge (vault/intake.py): versions that open are merged, the rest — and
        `refused`, those whose bytes did not even parse — are kept aside in the store, counted
        by `source` and reason, and supersede nothing. LockedError when locked. `changed` names
        the user's records only (device entries change too, but are not records to report)."""
        from .devices import is_device_record

        good, bad = admit(self.cipher, envelopes, source)
        bad += list(refused)
        with self.store.transaction():
            changed = self.store.apply(good)
            if bad:
                self.store.refuse(bad)
            purged = {e.record_id for e in good if e.deleted}
            if purged and not purged.isdisjoint(changed):
                self.blobs_released()  # a purge made elsewhere: its files' bytes may go here
        return Intake([rid for rid in changed if not is_device_record(rid)], bad)

    def write_device_entry(self, record: Record) -> None:
        """Store this device's entry in the device list (vault/devices.py `touch`)."""
        from .devices import is_device_record, record_id_of

        if not is_device_record(record.id) or record.id != record_id_of(self.device):
            raise InvalidInputError("a device writes only its own entry")
        self._write(record.id, record)

    def remove_device_entry(self, device: str) -> None:
        """Tombstone a device's entry (a removal made here)."""
        from .devices import record_id_of

        rid = record_id_of(device)
        with self.store.transaction():
            if self.store.versions(rid):
                self._write(rid, None)

    def states(self) -> dict[str, RecordState]:
        return {rid: state(vs) for rid, vs in self.store.grouped().items()}

    def _open(self, env: Envelope) -> Record | None:
        return self.cipher.open(env)

    def summaries(self) -> list[Summary]:
        """Every live record, decrypted; an undecryptable one appears as `<decryption error>`.

        Served from the encrypted summary index, so only records changed since it was last
        written are decrypted.
        """
        if self._index is None:
            raise LockedError("the vault is locked")
        return [r for r in self._index.rows() if r.trashed is None]

    def trashed(self) -> list[Summary]:
        """The records in the trash (their `trashed` time set), from the summary index."""
        if self._index is None:
            raise LockedError("the vault is locked")
        return [r for r in self._index.rows() if r.trashed is not None]

    def summary_head(self) -> Head | None:
        """The first rows of the list in title order, read from a small blob (≈ 5 ms at any size):
        a screen paints them at once and loads `summaries()` after. None: call `summaries()`."""
        if self._index is None:
            raise LockedError("the vault is locked")
        return self._index.head()

    def detail(self, record_id: str) -> Detail:
        st = self._state(record_id)
        try:
            rec = self._open(st.winner)
        except (TamperError, FormatError) as exc:
            # Keep the type: callers (and tests) tell damaged data from other failures by it.
            raise type(exc)(f"record {record_id} cannot be decrypted ({exc})") from exc
        if rec is None:
            raise NotFoundError(f"no record with id {record_id}")
        shown, kept = st.winner, kept_out(self.cipher, st, rec)
        if kept is not None:
            shown, rec = kept
        others, devices = [], []
        for env in (st.winner, *st.others):
            if env is shown:
                continue
            try:
                other = self._open(env)
            except (TamperError, FormatError):
                continue
            if other is not None:
                others.append(other)
                devices.append(env.device)
        seen = join(e.vv for e in (st.winner, *st.others))
        contested = rec.trashed is None and any(o.trashed is not None for o in others)
        return Detail(
            rec, st.conflict, tuple(others), seen, shown.device, tuple(devices), contested
        )

    def record(self, record_id: str) -> Record:
        return self.detail(record_id).record

    def _state(self, record_id: str) -> RecordState:
        versions = self.store.versions(record_id)
        if not versions:
            raise NotFoundError(f"no record with id {record_id}")
        return state(versions)

    def find(self, query: str) -> str:
        """Id of the one record matching: an exact id, else a case-insensitive title substring.

        Uses the title index only (no full rows), so a lookup stays cheap at 100,000 records.
        """
        if not query.strip():
            raise InvalidInputError("give a record id or part of a title")
        if self._index is None:
            raise LockedError("the vault is locked")
        titles = self._index.titles()
        if query in titles:
            return query
        low = query.lower()
        exact = [rid for rid, title in titles.items() if title.lower() == low]
        hits = exact or [rid for rid, title in titles.items() if low in title.lower()]
        if not hits:
            raise NotFoundError(f"no record matches {query!r}")
        if len(hits) > 1:
            raise AmbiguousError(
                f"{len(hits)} records match {query!r}; use an id or a longer title",
                [(rid, titles[rid]) for rid in hits],
            )
        return hits[0]

    def find_exact(self, query: str) -> str:
        """Id of the record whose id is `query`, else whose title is exactly `query` (secret
        references: a near match must never hand out another record's secret)."""
        if self._index is None:
            raise LockedError("the vault is locked")
        titles = self._index.titles()
        if query in titles:
            return query
        hits = [rid for rid, title in titles.items() if title == query]
        if not hits:
            raise NotFoundError(f"no record has the id or exact title {query!r}")
        if len(hits) > 1:
            raise AmbiguousError(
                f"{len(hits)} records are titled {query!r}; use an id", [(r, query) for r in hits]
            )
        return hits[0]

    def read_ref(self, text: str) -> str:
        """The value a secret reference (`sr://RECORD/FIELD`, vault/refs.py) names."""
        from .refs import field_or_pseudo, parse_ref

        ref = parse_ref(text)
        rec = self.record(self.find_exact(ref.record))
        value = field_or_pseudo(rec, ref.field)
        if value is None:
            names = ", ".join(f.name for f in rec.fields) or "none"
            raise NotFoundError(
                f"{text}: {rec.display_title!r} has no field {ref.field!r} (its fields: {names})"
            )
        return value

    def search_titles(self, query: str, limit: int = 500) -> list[Summary] | None:
        """Rows whose title contains `query` (case-insensitive) or whose id is `query`, found
        through the title index; None when more than `limit` match (filter `summaries()` then)."""
        if self._index is None:
            raise LockedError("the vault is locked")
        low = query.lower()
        ids = [
            rid
            for rid, title in self._index.titles().items()
            if low in title.lower() or rid == query
        ]
        if len(ids) > limit:
            return None
        return [r for r in self._index.rows_of(ids) if r.trashed is None]

    def _write(self, record_id: str, record: Record | None) -> None:
        with self.store.transaction():
            current = self.store.versions(record_id)
            vv, hlc = next_version(current, self.actor)
            self._store_own([self._seal(record, record_id, vv, hlc)])

    def _seal(
        self, record: Record | None, record_id: str, vv: Mapping[str, int], hlc: int
    ) -> Envelope:
        """A version written here: its history pruned to the retention first (so the version
        that carries it is the same on every device)."""
        if record is None:
            self.blobs_released()  # a purge: its files and its history's may be named no more
        elif record.versions:
            keep, days = self.retention()[:2]
            kept = prune_versions(record.versions, keep, days, record.modified)
            if kept != record.versions:
                if _files_dropped(record, kept):
                    self.blobs_released()
                record = replace(record, versions=kept)
        return self.cipher.seal(record, record_id, dict(vv), hlc, self.device)

    def blobs_released(self) -> None:
        """Some attachment blob may be named by no version here any more (a purge, a file taken
        off, a previous version pruned): collect what nothing names (vault/attachstore.py
        `collect_garbage`) once the change now being written commits, or at once outside one."""
        self.store.after_commit(self._collect_blobs)

    def _collect_blobs(self) -> None:
        from .attachstore import RELEASED_META, collect_garbage

        # the change that released them is saved already: a failure here only leaves the bytes
        with contextlib.suppress(OSError, VaultError, sqlite3.Error):
            self.store.set_meta(RELEASED_META, repr(time.time()).encode())  # for the sync places
            collect_garbage(self)

    def retention(self) -> tuple[int, float, float]:
        """(versions kept, days a version is kept, days in the trash) from the settings;
        0 = no limit."""
        cfg = self.settings()
        return (
            int(cfg.get("history_keep", HISTORY_KEEP)),
            float(cfg.get("history_days", HISTORY_DAYS)),
            float(cfg.get("trash_days", TRASH_DAYS)),
        )

    def _store_own(self, envelopes: list[Envelope]) -> None:
        """Store versions written here, and mark the store's counter after them (identity.py)."""
        self.store.apply(envelopes)
        identity.note_write(self.home, self.actor, self.store.max_seq())

    def add(self, record: Record) -> Record:
        with self.store.transaction():
            if self.store.versions(record.id):
                raise VaultError(f"a record with id {record.id} already exists")
            self._write(record.id, record)
        return record

    def add_many(self, records: list[Record]) -> list[Record]:
        """Add new records in one store transaction (import): all of them, or none on error.

        An id with live versions is refused; one with only a tombstone is brought back.
        """
        fresh: list[tuple[str, str, int, str, int, bytes]] = []  # ids with nothing stored:
        revived: list[Envelope] = []  # inserted, no merge needed; ids with only a tombstone:
        seen: set[str] = set()  # merged over it
        seal, actor, device = self.cipher.seal, self.actor, self.device
        with self.store.transaction():
            # one clock reading for every new id: each is the first version of its own record
            first_vv, first_hlc = first_version(actor)
            seal_first = self.cipher.row_sealer(first_vv, first_hlc, device)
            stored = self.store.versions_of([r.id for r in records])
            # the store has at most as many versions as its counter has counted
            bulk = len(records) >= BULK_INDEX_MIN and self.store.max_seq() <= len(records)
            with self.store.record_index_deferred() if bulk else contextlib.nullcontext():
                for record in records:
                    current = stored.pop(record.id, None)
                    if record.id in seen or current is None or any(not e.deleted for e in current):
                        raise VaultError(f"a record with id {record.id} already exists")
                    seen.add(record.id)
                    if current:
                        vv, hlc = next_version(current, actor)
                        revived.append(seal(record, record.id, vv, hlc, device))
                        continue
                    fresh.append(seal_first(record))
                    if len(fresh) >= ADD_BATCH:  # still one transaction: stored in batches, so
                        self.store.insert_rows(fresh)  # 100,000 sealed versions are never all
                        fresh = []  # in memory at once
                self.store.insert_rows(fresh)
            self._store_own(revived)  # merged over their tombstones, found by the index again
        return records

    def edit(self, record_id: str, change: Callable[[Record], Record]) -> Record:
        """Read a record, `change` it and save it in one write transaction: no other writer (this
        process or another) can slip a change in between, so none is overwritten."""
        with self.store.transaction():
            base = self.detail(record_id)
            return self.update(change(base.record), base)

    def update(self, record: Record, base: Detail | None = None) -> Record:
        """Save `record`, an edit of `base` (the Detail the editor started from; None: the
        current version, read in this same transaction).

        Normally the new version supersedes every current one (this also resolves a conflict the
        editor saw); replaced secrets and the values of the concurrent versions it resolves go
        to the history. Versions that arrived after `base` are never silently superseded: they
        are merged in part by part (vault/rebase.py), and when both sides changed the same part
        (or the record was deleted meanwhile) the edit is saved beside them, as a conflict that
        keeps both values.
        """
        with self.store.transaction():
            current = self.store.versions(record.id)
            if not current:
                raise NotFoundError(f"no record with id {record.id}")
            unseen = [e for e in current if base is None or not covers(base.seen, e.vv)]
            if base is None or not unseen:
                return self._supersede(record, self.detail(record.id))
            return self._rebase(record, base, unseen)

    def _supersede(self, record: Record, current: Detail) -> Record:
        new = revise(current.record, record, current.device)
        for other, device in zip(current.others, current.other_devices, strict=True):
            new = with_history_of(new, other, device)
        self._write(record.id, new)
        return new

    def _rebase(self, record: Record, base: Detail, unseen: list[Envelope]) -> Record:
        """`record` merged with the versions its editor did not see.

        A version that has seen all the editor saw is a later change of the same base: merged in
        part by part. One that has not (it is concurrent with something the editor saw) is no
        change of that base, so no three-way merge holds for it; neither does one that is a
        delete or cannot be opened. The edit then supersedes only what its editor saw and stays
        beside the rest, as a conflict, as it does when both sides changed the same part.
        """
        merged, theirs, clean, writer = record, base.record, True, base.device
        for env in survivors(unseen):
            try:
                other = self._open(env) if covers(env.vv, base.seen) else None
            except (TamperError, FormatError):
                other = None
            if other is None:
                clean = False
                continue
            rebased = rebase(base.record, merged, other)
            merged, theirs, writer = rebased.record, other, env.device
            clean = clean and not rebased.conflicts
        if record.trashed is None and merged.trashed is not None:
            merged = replace(merged, trashed=None)  # an edit beats a delete made meanwhile
        new = revise(theirs, merged, writer)
        if clean:  # later changes of its base, all merged in: it supersedes them
            self._write(record.id, new)
            return new
        for other, device in zip(base.others, base.other_devices, strict=True):
            new = with_history_of(new, other, device)  # concurrent versions its editor saw
        vv, hlc = version_beside(
            base.seen, self.store.versions(record.id), f"{self.device}.{os.urandom(4).hex()}"
        )
        self._store_own([self._seal(new, record.id, vv, hlc)])
        return new

    def delete(self, record_id: str) -> None:
        """Purge: a tombstone that syncs (the record, its history and the trash entry gone).
        What a person's delete does is `trash`."""
        with self.store.transaction():
            self._state(record_id)
            self._write(record_id, None)

    # -- history and trash (vault/history.py, vault/trash.py) ------------------------------
    def trash(self, record_id: str) -> Record:
        """Move a record to the trash: an edit that syncs, undone by `untrash`."""
        return self.edit(record_id, lambda rec: replace(rec, trashed=now()))

    def untrash(self, record_id: str) -> Record:
        """Bring a record back from the trash, with its history (a new edit)."""
        return self.edit(record_id, lambda rec: replace(rec, trashed=None))

    def find_trashed(self, query: str) -> str:
        """Id of the one record in the trash matching an id or part of a title."""
        if not query.strip():
            raise InvalidInputError("give a record id or part of a title")
        rows = self.trashed()
        low = query.lower()
        hits = [r for r in rows if r.id == query] or [r for r in rows if r.title.lower() == low]
        hits = hits or [r for r in rows if low in r.title.lower()]
        if not hits:
            raise NotFoundError(f"nothing in the trash matches {query!r}")
        if len(hits) > 1:
            raise AmbiguousError(
                f"{len(hits)} records in the trash match {query!r}; use an id or a longer title",
                [(r.id, r.title) for r in hits],
            )
        return hits[0].id

    def empty_trash(self, older_than_days: float = 0, at: float | None = None) -> list[str]:
        """Purge the records in the trash (only those past `older_than_days`, when given):
        tombstones that sync. Returns the ids purged."""
        at = now() if at is None else at
        gone = []
        with self.store.transaction():
            for row in self.trashed():
                if older_than_days and not expired(row.trashed, older_than_days, at):
                    continue
                detail = self.detail(row.id)  # the row may be stale: purge only what is trashed
                if detail.record.trashed is not None:
                    self._write(row.id, None)
                    gone.append(row.id)
        return gone

    def purge_expired(self, at: float | None = None) -> list[str]:
        """Purge what has been in the trash longer than the retention (`trash_days`); every
        device does this at each sync, so a record leaves every device alike."""
        days = self.retention()[2]
        if days <= 0 or not any(
            expired(r.trashed, days, now() if at is None else at) for r in self.trashed()
        ):
            return []
        return self.empty_trash(days, at)

    def kept_from_trash(self) -> list[Summary]:
        """Records edited on one device while moved to the trash on another: shown out of the
        trash, in conflict until an edit or `trash restore` resolves it (the user is told)."""
        return [s for s in self.summaries() if s.conflict and self.detail(s.id).kept_from_trash]

    def history(self, record_id: str) -> list[Step]:
        """Every kept version of a record (in the trash or not), oldest first, current last."""
        detail = self.detail(record_id)
        return steps(detail.record, detail.device)

    def restore_version(self, record_id: str, version: str) -> Record:
        """Save version `version` (its number or id, as `history` shows) as a new edit: the
        current one becomes a previous version, nothing is lost."""

        def back(current: Record) -> Record:
            old = find_step(current, self.detail(record_id).device, version).record
            return replace(old, history=current.history, versions=current.versions, trashed=None)

        return self.edit(record_id, back)


def _files_dropped(record: Record, kept: tuple[Version, ...]) -> bool:
    """True when the previous versions the retention drops from `record` name a file that
    neither the record nor a version it keeps still names."""
    still = {id(v) for v in kept}
    gone = {a.blob for v in record.versions if id(v) not in still for a in v.snapshot.attachments}
    if not gone:
        return False
    gone -= {a.blob for a in record.attachments}
    gone -= {a.blob for v in kept for a in v.snapshot.attachments}
    return bool(gone)
