"""Devices for server tests: a real vault home per device, linked through the real client."""

from __future__ import annotations

from pathlib import Path

from sync.cloud import CloudClient, CloudSession, CloudSync, save_session
from vault import keys as keymod
from vault.records import new_record
from vault.vault import Vault

PASSWORD = "correct horse battery staple"


def sign_up(
    url: str, home: Path, email: str = "alice@example.com", client: CloudClient | None = None
) -> tuple[Vault, CloudSession]:
    vault = Vault.create(home, email, PASSWORD, hint="horses")
    client = client or CloudClient(url)
    session = client.signup(vault.slot, vault.keys, vault.device, "laptop")
    save_session(vault, session)
    return vault, session


def sign_in(
    url: str,
    home: Path,
    email: str,
    kit: object,
    password: str = PASSWORD,
    client: CloudClient | None = None,
) -> tuple[Vault, CloudSession]:
    client = client or CloudClient(url)
    device = "dev" + home.name[-6:].replace("-", "").replace(".", "")
    slot, keys, session = client.signin_with_kit(email, password, kit, device, "phone")  # type: ignore[arg-type]
    vault = Vault.adopt(home, slot, keys, [])
    save_session(vault, session)
    CloudSync(vault, client, session).sync_now()
    return vault, session


def add_login(vault: Vault, title: str, password: str = "hunter2") -> str:
    rec = new_record(
        "login", title, {"username": "me", "password": password, "url": "https://example.com"}
    )
    return vault.add(rec).id


def titles(vault: Vault) -> set[str]:
    return {s.title for s in vault.summaries() if not getattr(s, "deleted", False)}


__all__ = ["PASSWORD", "add_login", "keymod", "sign_in", "sign_up", "titles"]
