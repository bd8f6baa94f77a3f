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

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault import attachstore
from vault.attachments import Attachment
from vault.blobs import BlobDir
from vault.errors import FormatError, TamperError

from .errors import SourceUnavailableError

#: Attachments up to this size come down with every sync; larger ones on first ask.
DEFAULT_AUTO_MB = 16
BLOBS = "blobs"


@dataclass
class BlobReport:
    sent: int = 0
    received: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    #: blobs refused (did not match their record): "<blob>: <reason>"
    problems: list[str] = field(default_factory=list)


def auto_bytes(vault: Any) -> int:
    return int(vault.settings().get("attachment_auto_mb", DEFAULT_AUTO_MB)) * 1024 * 1024


def folder_blobs(account_dir: Path) -> BlobDir:
    return BlobDir(account_dir / BLOBS)


def send(vault: Any, remote: BlobDir, report: BlobReport) -> None:
    """Every blob here that `remote` lacks, copied up (before the records that name them are
    published, so a device that reads a record mostly finds its file already there)."""
    local = attachstore.blob_dir(vault)
    local.sweep()
    remote.sweep()
    for name in sorted(local.names() - remote.names()):
        try:
            with local.open(name) as src:
                remote.copy_in(src, name)
        except TamperError:  # our own copy changed on disk: never spread it
            report.problems.append(f"{name[:12]}: this device's copy is damaged; not sent")
            continue
        report.sent += 1
        report.bytes_sent += remote.path(name).stat().st_size


def fetch(vault: Any, remote: BlobDir, marker: str, report: BlobReport) -> None:
    """The blobs that records changed since the last fetch name, when small enough, each kept only
    once it opens in full under its record's key; `marker` is the store meta key remembering how
    far records were looked at and which blobs (of which records) are still wanted."""
    local = attachstore.blob_dir(vault)
    theirs = remote.names()
    seq = vault.store.max_seq()  # read first: a record stored after it is looked at next time
    limit = auto_bytes(vault)
    still: dict[str, str] = {}
    for name, (rid, att) in _wanted(vault, marker, local).items():
        if local.has(name):
            continue
        if att.size > limit or name not in theirs:
            still[name] = rid  # large (on first ask) or not there yet (another device's next sync)
            continue
        try:
            with remote.open(name) as src:
                local.copy_in(src, name, attachstore.checker(vault, att))
        except TamperError as exc:
            report.problems.append(f"{name[:12]}: {exc}")
            still[name] = rid
            continue
        report.received += 1
        report.bytes_received += att.size
    vault.store.set_meta(marker, json.dumps({"seq": seq, "want": still}).encode())


def _wanted(vault: Any, marker: str, local: BlobDir) -> dict[str, tuple[str, Attachment]]:
    """Blob name → (record id, attachment) for the files of records changed since the last
    fetch, plus those still wanted from before (found again in their record's versions)."""
    raw = vault.store.get_meta(marker)
    saved: dict[str, Any] = json.loads(raw) if raw else {}
    before = {str(k): str(v) for k, v in dict(saved.get("want") or {}).items()}
    wanted: dict[str, tuple[str, Attachment]] = {}
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
                    wanted[a.blob] = (env.record_id, a)
    return wanted


def fetch_if_missing(vault: Any, att: Attachment) -> bool:
    """Bring the blob of `att` to this device from the sync method that keeps blobs, if it is not
    here yet; True when it had to. BlobMissingError when no method has it."""
    local = attachstore.blob_dir(vault)
    if local.has(att.blob):
        return False
    cfg = vault.settings().get("sync") or {}
    if cfg.get("method") == "folder":
        from .mssb import account_dir

        remote = folder_blobs(account_dir(Path(cfg["folder"]), vault.slot.account_id))
        if not remote.folder.parent.is_dir():
            raise SourceUnavailableError(f"the sync folder {cfg['folder']} is missing")
        if remote.has(att.blob):
            with remote.open(att.blob) as src:
                local.copy_in(src, att.blob, attachstore.checker(vault, att))
            return True
    raise attachstore.BlobMissingError(att)
