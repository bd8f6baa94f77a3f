"""The sync method chosen for this device, shared by the CLI and the TUI: configure, sync once, status.

The choice lives in the vault's (non-secret) settings: `{"sync": {"method": "none"|"folder"|"wifi"|
"cloud", …}}`. Each method's own module does the moving; this module only dispatches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def config(vault: Any) -> dict[str, Any]:
    cfg = vault.settings().get("sync") or {"method": "none"}
    return dict(cfg)


def configure(vault: Any, method: str, **options: Any) -> dict[str, Any]:
    if method not in METHODS:
        raise SyncError(f"unknown sync method {method!r}; choose one of {', '.join(METHODS)}")
    cfg = {"method": method, **options}
    vault.update_settings(sync=cfg)
    return cfg


def sync_now(vault: Any) -> SyncOutcome:
    cfg = config(vault)
    method = cfg.get("method", "none")
    if method == "folder":
        from .folder import FolderSync

        r = FolderSync(vault, Path(cfg["folder"])).sync_now()
        bits = [f"{r.received} record(s) updated here", "file written" if r.wrote else "file already current"]
        if r.merged_copies:
            bits.append(f"merged {len(r.merged_copies)} conflicted copy(ies)")
        if r.waiting_for_download:
            bits = ["the sync file is not downloaded yet (iCloud placeholder); try again shortly"]
        return SyncOutcome("folder", r.received, r.wrote, "; ".join(bits))
    if method == "none":
        raise NoSyncMethodError("this device syncs with nothing; choose a method with `strongroom sync folder DIR`, "
                                "`sync wifi` or `sync cloud URL`")
    raise SyncError(f"the {method} sync method is not available in this build")


def status(vault: Any) -> dict[str, Any]:
    """Method, last sync, changes not yet synced, records in conflict (titles need the vault unlocked)."""
    cfg = config(vault)
    settings = vault.settings()
    last = settings.get("last_sync")
    pending = vault.store.changed_ids_since(int(settings.get("last_sync_seq", 0))) if cfg["method"] != "none" else []
    conflicts = [s for s in vault.summaries() if s.conflict]
    return {
        "method": cfg["method"],
        "folder": cfg.get("folder"),
        "server": cfg.get("server"),
        "last_sync": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last)) if last else None,
        "pending_changes": len(pending),
        "conflicts": [{"id": s.id, "title": s.title} for s in conflicts],
    }
