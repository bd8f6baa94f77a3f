"""Attachment blobs between this device and a place that keeps blobs (a sync folder's
`<AccountID>/blobs/`), after the records themselves have synced.

Up: every blob here that the other side lacks (the names tell: blobs are content-addressed and
immutable, so no file is ever read twice or rewritten). Down: the blobs named by records that
changed since the last exchange, when small enough (setting `attachment_auto_mb`); a larger one is
fetched when first asked for (`fetch_if_missing`). A blob comes down only once it opens in full
under the file key its authenticated record carries (and carries its name), so a changed blob is
refused, reported, and never stored.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from vault import attachstore
from vault.attachments import Attachment
from vault.blobs import BlobDir, check_address
from vault.errors import FormatError, TamperError

from .errors import SourceUnavailableError, SyncError

#: blob names in one request to forget them (the server's limit)
MAX_FORGET = 500
#: Attachments up to this size come down with every sync; larger ones on first ask.
DEFAULT_AUTO_MB = 16
BLOBS = "blobs"


@dataclass
class BlobReport:
    sent: int = 0
    received: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    #: blobs the place was asked to forget and did (no version names them: `tidy`)
    forgotten: int = 0
    #: blobs refused (did not match their record): "<blob>: <reason>"
    problems: list[str] = field(default_factory=list)


def mirrors(vault: Any) -> tuple[BlobDir, ...]:
    """Where a new file's blob is also written, in the same pass, as it is added: the sync
    folder's `<AccountID>/blobs/` when this device syncs through a folder it has synced with (the
    next sync then finds the file there and copies nothing). Nothing for the other methods, whose
    copies go over a network, nor for a folder not there now (the sync says why)."""
    cfg = vault.settings().get("sync")
    if not isinstance(cfg, dict) or cfg.get("method") != "folder" or not cfg.get("folder"):
        return ()
    from .mssb import account_dir as folder_account_dir

    account_dir = folder_account_dir(Path(str(cfg["folder"])), vault.slot.account_id)
    return (folder_blobs(account_dir),) if account_dir.is_dir() else ()


def add_file(vault: Any, record_id: str, path: Path, name: str | None = None) -> Attachment:
    """`attachstore.add`, with the file written to the sync folder in the same pass (`mirrors`):
    the CLI's `attach add` and the app's files screen."""
    return attachstore.add(vault, record_id, path, name, mirrors(vault))


def fetch_mb(vault: Any) -> int:
    """Files up to this many MiB come down with every sync (setting `attachment_auto_mb`)."""
    return attachstore.setting_mb(vault, "attachment_auto_mb", DEFAULT_AUTO_MB)


def auto_bytes(vault: Any) -> int:
    return fetch_mb(vault) * 1024 * 1024


def folder_blobs(account_dir: Path) -> BlobDir:
    return BlobDir(account_dir / BLOBS)


class Place(Protocol):
    """Where blobs are kept besides this device: a sync folder, the account server."""

    def names(self) -> set[str]: ...

    def put(self, name: str, src: BinaryIO) -> None: ...

    def reader(self, name: str) -> contextlib.AbstractContextManager[BinaryIO]: ...

    def forget(self, names: list[str]) -> list[str]:
        """Delete these blobs, each only when it was stored more than a grace period ago (its
        records may still be on their way); those that went."""
        ...


#: a place keeps a blob at least this long after it came, however unnamed: a device sends a
#: file's blob before the records that name it (the server applies its own, the same by default)
FORGET_GRACE_S = 24 * 3600


class FolderPlace:
    """`<AccountID>/blobs/` in a sync folder: each blob written once, temp + rename."""

    def __init__(self, remote: BlobDir, grace: float = FORGET_GRACE_S) -> None:
        self.remote = remote
        self.grace = grace
        remote.sweep()

    def names(self) -> set[str]:
        return self.remote.names()

    def put(self, name: str, src: BinaryIO) -> None:
        self.remote.copy_in(src, name)

    def reader(self, name: str) -> contextlib.AbstractContextManager[BinaryIO]:
        return self.remote.open(name)

    def forget(self, names: list[str]) -> list[str]:
        """The folder's blobs `names` removed, each once its file is `grace` seconds old (by its
        change time here: when it was written or downloaded into this folder, which a sync
        client's copy of the writer's modification time does not move back)."""
        cutoff = time.time() - self.grace
        gone = []
        for name in names:
            with contextlib.suppress(OSError):
                path = self.remote.path(name)
                if path.lstat().st_ctime < cutoff:
                    path.unlink()
                    gone.append(name)
        return gone

    def copy_checked(
        self, name: str, into: BlobDir, check: Callable[[BinaryIO], None], report: BlobReport
    ) -> bool:
        """The folder's blob `name` copied into this device once `check` passes. A blob that fails
        is damaged for good (its name is its content's address and blobs are written once, temp +
        rename): it is taken out of the folder (when still the file read), so a device holding it
        sends it again at its next sync, instead of every device failing on it forever."""
        try:
            with self.remote.open(name) as src:
                seen = os.fstat(src.fileno()).st_ino
                try:
                    into.copy_in(src, name, check)
                    return True
                except TamperError as exc:
                    problem = f"{name[:12]}: {exc}"
        except FileNotFoundError:  # removed since it was listed: wanted again next time
            return False
        with contextlib.suppress(OSError):
            if os.stat(self.remote.path(name)).st_ino == seen:
                self.remote.remove(name)
                problem += "; the folder's damaged copy was removed (a device that has the file sends it again)"
        report.problems.append(problem)
        return False


class ServerPlace:
    """The account server's blob endpoints (sync/server/blobstore.py): uploads in 4 MiB parts,
    resumed where the server holds parts already, visible only once committed."""

    PART = 4 * 1024 * 1024

    def __init__(self, client: Any, session: Any) -> None:
        self.client, self.session = client, session
        self._sizes: dict[str, int] | None = None

    def names(self) -> set[str]:
        d = self.client._as(self.session, "GET", "/v1/blobs")
        self._sizes = {str(k): int(v) for k, v in dict(d.get("blobs") or {}).items()}
        return set(self._sizes)

    def put(self, name: str, src: BinaryIO) -> None:
        size = src.seek(0, 2)
        parts = max(1, -(-size // self.PART))
        for attempt in range(2):  # a mismatch drops the upload on the server: send it all again
            held = set() if attempt else set(self._status(name).get("parts") or [])
            for idx in range(parts):
                if idx in held:
                    continue  # resumed: the server has this part from an interrupted upload
                src.seek(idx * self.PART)
                self.client.raw(
                    self.session, "PUT", f"/v1/blobs/{name}/parts/{idx}", src.read(self.PART)
                )
            try:
                self.client._as(
                    self.session,
                    "POST",
                    f"/v1/blobs/{name}/commit",
                    {"size": size, "parts": parts},
                )
                return
            except SyncError as exc:
                if getattr(exc, "code", "") != "blob_mismatch" or attempt:
                    raise

    def forget(self, names: list[str]) -> list[str]:
        """Ask the server to delete these blobs, MAX_FORGET at a time; it keeps those uploaded
        within its grace period (sync/server/blobstore.py `forget`). A server without the call
        (older than this client) forgets nothing."""
        gone: list[str] = []
        for at in range(0, max(len(names), 1), MAX_FORGET):  # none: still drops stale uploads
            try:
                d = self.client._as(
                    self.session, "POST", "/v1/blobs/forget", {"names": names[at : at + MAX_FORGET]}
                )
            except SyncError as exc:
                if getattr(exc, "status", None) in (404, 405):
                    return gone
                raise
            said = d.get("forgotten") if isinstance(d, dict) else None
            if isinstance(said, list):  # anything else from a server: nothing was forgotten
                gone.extend(n for n in said if isinstance(n, str))
        return gone

    def _status(self, name: str) -> dict[str, Any]:
        return dict(self.client._as(self.session, "GET", f"/v1/blobs/{name}"))

    @contextlib.contextmanager
    def reader(self, name: str) -> Iterator[BinaryIO]:
        size = (self._sizes or {}).get(name)
        if size is None:
            size = int(self._status(name).get("size") or 0)
        yield _PartsReader(self, name, size)  # type: ignore[misc]


class _PartsReader:
    """A blob on the server read part by part (one part in memory at a time)."""

    def __init__(self, place: ServerPlace, name: str, size: int) -> None:
        self._place, self._name, self._size = place, name, size
        self._idx, self._buf = 0, b""

    def read(self, n: int = -1) -> bytes:
        while (n < 0 or len(self._buf) < n) and self._idx * ServerPlace.PART < self._size:
            self._buf += self._place.client.raw(
                self._place.session, "GET", f"/v1/blobs/{self._name}/parts/{self._idx}"
            )
            self._idx += 1
        n = len(self._buf) if n < 0 else n
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def send(vault: Any, place: Place, report: BlobReport) -> None:
    """Every blob here that `place` lacks, sent (before the records that name them are published,
    so a device that reads a record mostly finds its file already there)."""
    local = attachstore.blob_dir(vault)
    local.sweep()
    for name in sorted(local.names() - place.names()):
        try:
            with local.open(name) as src:
                check_address(src, name)  # our own copy changed on disk: never spread it
                place.put(name, src)
                report.bytes_sent += src.seek(0, 2)
        except TamperError:
            report.problems.append(f"{name[:12]}: this device's copy is damaged; not sent")
            continue
        except FileNotFoundError:  # collected since listed: no version here names it any more
            continue
        report.sent += 1


#: how often a device looks for blobs no version names where it syncs (`tidy`)
TIDY_EVERY_S = 24 * 3600


def tidy(vault: Any, place: Place, marker: str, report: BlobReport, *, now: bool = False) -> None:
    """Ask `place` to forget the blobs no version held here names (a file removed and its
    history pruned, a purged record), so its space comes back; call it only right after a full
    sync, when this device holds every version the place has. At the first sync after such a
    change here or received, else once every TIDY_EVERY_S (`marker`: the store meta key of the
    last time), or `now` (the place said it is full). Nothing when a
    version here cannot be read (what it names is unknown). The place keeps what came within its
    grace period, and a device whose version names a forgotten blob still holds it and sends it
    again (blobs are sent before the records naming them)."""
    last = float(vault.store.get_meta(marker) or b"0")
    released = attachstore.released_at(vault) >= last  # a purge or a prune since the last time
    if not (now or released) and 0 <= time.time() - last < TIDY_EVERY_S:
        return
    named = attachstore.named_blobs(vault)
    if named is None:
        return
    asked = sorted(place.names() - named)
    gone = set(place.forget(asked)) & set(asked)  # a place cannot make this device drop others
    report.forgotten += len(gone)
    vault.store.set_meta(marker, str(time.time()).encode())
    # this device's copies go too, or its next sync would send them straight back; with the usual
    # safety age of a blob here, whatever the place's grace (a place's word alone never removes a
    # blob another process sealed a moment ago, before the edit naming it was saved)
    attachstore.collect_garbage(vault, only=gone)


def fetch(vault: Any, place: Place, marker: str, report: BlobReport) -> None:
    """The blobs that records changed since the last fetch name, when small enough, each kept only
    once it opens in full under its record's key; `marker` is the store meta key remembering how
    far records were looked at and which blobs (of which records) are still wanted."""
    local = attachstore.blob_dir(vault)
    theirs = place.names()
    limit = auto_bytes(vault)
    seq, want = wanted(vault, marker)
    still: dict[str, str] = {}
    for name, (rid, att) in want.items():
        if att.size > limit or name not in theirs:
            still[name] = rid  # large (on first ask) or not there yet (another device's next sync)
            continue
        check = attachstore.checker(vault, att)
        if isinstance(place, FolderPlace):
            if not place.copy_checked(name, local, check, report):
                still[name] = rid
                continue
        else:
            try:
                with place.reader(name) as src:
                    local.copy_in(src, name, check)
            except TamperError as exc:
                report.problems.append(f"{name[:12]}: {exc}")
                still[name] = rid
                continue
        report.received += 1
        report.bytes_received += att.size
    remember(vault, marker, seq, still)


def wanted(vault: Any, marker: str) -> tuple[int, dict[str, tuple[str, Attachment]]]:
    """(the local change counter, read first; blob name → (record id, attachment)) for the files
    this device lacks that records changed since the last exchange name, plus those still wanted
    from before (found again in their record's versions)."""
    local = attachstore.blob_dir(vault)
    seq = vault.store.max_seq()
    raw = vault.store.get_meta(marker)
    saved: dict[str, Any] = json.loads(raw) if raw else {}
    before = {str(k): str(v) for k, v in dict(saved.get("want") or {}).items()}
    out: dict[str, tuple[str, Attachment]] = {}
    envs = list(vault.store.changes_since(int(saved.get("seq", 0))))
    for rid in set(before.values()):
        envs += vault.store.versions(rid)
    for env in envs:
        if env.deleted:
            continue
        try:
            rec = vault.cipher.open(env)
        except (TamperError, FormatError):
            continue
        if rec is not None:
            for a in rec.attachments:
                if not local.has(a.blob):
                    out[a.blob] = (env.record_id, a)
    return seq, out


def remember(vault: Any, marker: str, seq: int, still: dict[str, str]) -> None:
    """Records up to `seq` were looked at; `still` (blob → record id) is wanted next time."""
    vault.store.set_meta(marker, json.dumps({"seq": seq, "want": still}).encode())


def fetch_if_missing(vault: Any, att: Attachment) -> bool:
    """Bring the blob of `att` to this device from the sync method that keeps blobs (folder or
    account server), if it is not here yet; True when it had to. BlobMissingError when the
    method does not have it (yet)."""
    local = attachstore.blob_dir(vault)
    if local.has(att.blob):
        return False
    place = place_for(vault)
    if place is not None and att.blob in place.names():
        with place.reader(att.blob) as src:
            local.copy_in(src, att.blob, attachstore.checker(vault, att))
        return True
    raise attachstore.BlobMissingError(att)


def place_for(vault: Any) -> Place | None:
    """Where this device's sync method keeps blobs; None for Wi-Fi (peers stream them) or none."""
    cfg = vault.settings().get("sync") or {}
    if cfg.get("method") == "folder":
        from .mssb import account_dir

        folder = Path(cfg["folder"])
        if not folder.is_dir():
            raise SourceUnavailableError(f"the sync folder {folder} is missing")
        return FolderPlace(folder_blobs(account_dir(folder, vault.slot.account_id)))
    if cfg.get("method") == "cloud":
        from .cloud import client_for, load_session

        return ServerPlace(client_for(cfg), load_session(vault))
    return None
