"""Helpers shared by the Wi-Fi tests (a plain module: conftest is not importable by name)."""

from __future__ import annotations

from pathlib import Path

from vault.records import new_record
from vault.vault import Vault

LOOPBACK = ["127.0.0.1"]
PW = "wifi sync password"


def device_like(vault: Vault, home: Path) -> Vault:
    """A second device of the same account (as a sign-in would make), starting empty."""
    return Vault.adopt(home, vault.slot, vault.keys, [])


def titles(vault: Vault) -> list[str]:
    return sorted(s.title for s in vault.summaries())


def add_notes(vault: Vault, prefix: str, n: int) -> None:
    for i in range(n):
        vault.add(new_record("note", f"{prefix} {i:04d}", notes=f"secret body {prefix} {i}"))
