"""Byte capture: no request body the client sends and no row the server stores holds a password, a key
or a plaintext field; a full dump plus the right password but the wrong Account Key opens nothing."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from sync.cloud import CloudAuthError, CloudClient, CloudSync, follow_password_change, save_session
from sync.server.runner import ServerThread
from vault import kdf
from vault import keys as keymod
from vault.envelope import Envelope
from vault.errors import KitError, TamperError
from vault.records import new_record
from vault.vault import Vault

from .helpers import PASSWORD

NEW_PASSWORD = "zebra quartz 77 lantern"
PLAIN = [
    "Bank of Zanzibar",
    "alice-login-name",
    "hunter2-xyz-SECRET",
    "zanzibar-bank.example",
    "my private note",
    "taxes-2026",
]


def _blobs(raw: bytes) -> list[bytes]:
    """The raw body plus every JSON string in it, and every base64 string decoded."""
    out = [raw]
    try:
        obj = json.loads(raw)
    except ValueError:
        return out

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                out.append(str(k).encode())
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            out.append(v.encode())
            try:
                out.append(base64.b64decode(v, validate=True))
            except (binascii.Error, ValueError):
                pass

    walk(obj)
    return out


def _secrets(vault: Vault, passwords: list[str]) -> dict[str, bytes]:
    keys = vault.keys
    kit = vault.slot.kit
    found = {
        "AK": keys.ak,
        "VK": keys.vk,
        "x_auth": keys.x_auth,
        "EAK": kit.eak,
        "records key": keys.subkey("records"),
        "Kit text": kit.to_qr_text().encode(),
        "K_pw": kdf.derive_password_key(passwords[-1], kit.salt, kit.params),
    }
    for i, p in enumerate(passwords):
        found[f"password {i}"] = p.encode()
        found[f"password {i} NFKD"] = kdf.normalize_password(p)
    for i, text in enumerate(PLAIN):
        found[f"plaintext {i}"] = text.encode()
    return found


def _assert_clean(blobs: list[bytes], secret_map: dict[str, bytes], where: str) -> None:
    for name, secret in secret_map.items():
        for b in blobs:
            assert secret not in b, f"{name} found in {where}"


def test_nothing_secret_leaves_the_device_or_is_stored(
    server: ServerThread, tmp_path: Path
) -> None:
    sent: list[tuple[str, bytes]] = []
    client = CloudClient(server.url, capture=lambda url, body: sent.append((url, body)))
    a = Vault.create(tmp_path / "a", "alice@example.com", PASSWORD, hint="")
    sa = client.signup(a.slot, a.keys, a.device, "laptop")
    save_session(a, sa)
    a.add(
        new_record(
            "login",
            PLAIN[0],
            {"username": PLAIN[1], "password": PLAIN[2], "url": f"https://{PLAIN[3]}"},
            notes=PLAIN[4],
            tags=(PLAIN[5],),
        )
    )
    CloudSync(a, client, sa).sync_now()
    first_kit = a.slot.kit
    first = _secrets(a, [PASSWORD])
    slot, keys, sb = client.signin_with_kit(
        "alice@example.com", PASSWORD, a.slot.kit, "devb", "phone"
    )
    b = Vault.adopt(tmp_path / "b", slot, keys, [])
    save_session(b, sb)
    CloudSync(b, client, sb).sync_now()
    assert {s.title for s in b.summaries()} == {PLAIN[0]}
    current = a.keys.x_auth
    new_slot = a.change_password(NEW_PASSWORD)
    sa = client.change_password(sa, new_slot, a.keys, current=current)
    follow_password_change(b, client, NEW_PASSWORD)
    CloudSync(a, client, sa).sync_now()
    assert len(sent) > 8
    secret_map = first | {k + " (new)": v for k, v in _secrets(a, [PASSWORD, NEW_PASSWORD]).items()}
    assert first_kit.eak != a.slot.kit.eak
    for url, body in sent:
        _assert_clean(_blobs(body), secret_map, f"the request to {url}")
    dump = server.app.service.db.dump()
    for table, rows in dump.items():
        cells = [v if isinstance(v, bytes) else str(v).encode() for row in rows for v in row]
        _assert_clean(cells, secret_map, f"table {table}")


def test_dump_plus_password_without_account_key_opens_nothing(
    server: ServerThread, tmp_path: Path
) -> None:
    client = CloudClient(server.url)
    a = Vault.create(tmp_path / "a", "alice@example.com", PASSWORD)
    sa = client.signup(a.slot, a.keys, a.device, "laptop")
    a.add(new_record("login", PLAIN[0], {"password": PLAIN[2]}))
    CloudSync(a, client, sa).sync_now()
    dump = server.app.service.db.dump()
    row = dump["accounts"][0]
    # column order: account_id, email, hint, plan, generation, epoch, srp_salt, verifier, kdf_m, kdf_t, kdf_p,
    # kdf_salt, wrapped_vk, ...
    account_id, generation, epoch = row[0], row[4], row[5]
    params, salt, wrapped_vk = (
        kdf.KdfParams(row[8], row[9], row[10]),
        bytes(row[11]),
        bytes(row[12]),
    )
    k_pw = kdf.derive_password_key(PASSWORD, salt, params)  # the right password
    wrong_ak = secrets.token_bytes(16)
    kit = keymod.seal_kit(account_id, generation, epoch, params, salt, wrong_ak, k_pw)
    with pytest.raises(KitError):
        keymod.open_vault_key(kit, wrong_ak, k_pw, wrapped_vk)
    with pytest.raises(CloudAuthError):
        client.signin("alice@example.com", keymod.auth_secret(kit, wrong_ak, k_pw), "x", "attacker")
    # and no key made from password + wrong AK opens a stored envelope
    from vault.envelope import RecordCipher
    from vault.keys import UnlockedKeys

    guess = UnlockedKeys(
        account_id,
        generation,
        epoch,
        wrong_ak,
        keymod._two_secret(k_pw, wrong_ak, account_id, "unlock"),
        b"",
    )
    env = Envelope.from_bytes(bytes(dump["envelopes"][0][4]))
    with pytest.raises(TamperError):
        RecordCipher(account_id, guess.subkey("records")).open(env)
