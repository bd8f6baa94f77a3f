"""The opt-in saved account key (sync/folderkey.py) and a device meeting an account reset made elsewhere.

Driven as a user would: the real CLI in subprocesses, two or three device homes, one folder.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sync import folderkey, mssb
from sync.folder import FolderSync
from tests.test_folder_sync import PW, cli, ok
from vault import kdf
from vault import keys as keymod
from vault.backup import read_backup
from vault.keys import KeySlot
from vault.records import new_record
from vault.vault import Vault

EMAIL = "kim@example.com"
NEW_PW = "a brand new password 42"


@pytest.fixture
def device_a(tmp_path: Path) -> tuple[Path, Path, str]:
    a, folder = tmp_path / "a", tmp_path / "iCloud Drive"
    folder.mkdir()
    account = ok(a, "signup", "--email", EMAIL, "--kit-dir", str(tmp_path)).strip()
    ok(
        a,
        "add",
        "login",
        "--title",
        "Bank",
        "--field",
        "username=kim",
        "--field",
        "password=s3cret-Bank",
    )
    ok(a, "sync", "folder", str(folder))
    return a, folder, account


def _secrets_of(home: Path, password: str) -> list[bytes]:
    """Everything that must never reach the folder: password, K_pw, AK, VK, sub-keys, x_auth."""
    v = Vault.open(home)
    try:
        v.unlock(password)
        kit, keys = v.slot.kit, v.keys
        k_pw = kdf.derive_password_key(password, kit.salt, kit.params)
        return [
            password.encode(),
            k_pw,
            keys.ak,
            keys.vk,
            keys.x_auth,
            keys.subkey(mssb.SUBKEY),
            keys.subkey("records"),
        ]
    finally:
        v.close()


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_off_by_default_then_a_new_device_signs_in_with_the_password_alone(
    device_a: tuple[Path, Path, str], tmp_path: Path
) -> None:
    a, folder, account = device_a
    assert not (folder / account / folderkey.FILE_NAME).exists()
    assert json.loads(ok(a, "sync", "status", "--json"))["account_key_in_folder"] is False
    assert "Account key saved in the folder: no" in ok(a, "sync", "status")

    # Without a saved key, a Kit is needed: said before any password is asked for (exit 2).
    r = cli(tmp_path / "c", "signin", "--email", EMAIL, "--folder", str(folder), password=None)
    assert r.returncode == 2 and "--kit FILE" in r.stderr and "--store-key" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "c" / "vault.db").exists()

    r = cli(a, "sync", "folder", str(folder), "--store-key")
    assert r.returncode == 0 and "guess your password offline" in r.stderr
    assert json.loads(ok(a, "sync", "status", "--json"))["account_key_in_folder"] is True
    assert "Account key saved in the folder: yes" in ok(a, "sync", "status")

    r = cli(tmp_path / "c", "signin", "--email", EMAIL, "--folder", str(folder))
    assert r.returncode == 0, r.stderr
    assert ok(tmp_path / "c", "get", "Bank", "--field", "password") == "s3cret-Bank\n"

    # Byte capture of everything in the folder: no plaintext field, no key but the wrapped EAK.
    files = _folder_bytes(folder)
    assert set(files) == {f"{account}/data.mssb", f"{account}/account.key"}
    for name, data in files.items():
        for secret in (*_secrets_of(a, PW), b"s3cret-Bank", b"Bank", b"kim", EMAIL.encode()):
            assert secret not in data, name
    saved = folderkey.decode(files[f"{account}/account.key"])
    assert (
        saved == Vault.open(a).slot.kit
    )  # exactly the Kit's QR payload: only the password opens it
    assert Vault.open(a).slot.kit.eak not in files[f"{account}/data.mssb"]

    # Turning it off removes the file; new devices need the Kit again.
    ok(a, "sync", "folder", str(folder), "--no-store-key")
    assert not (folder / account / folderkey.FILE_NAME).exists()
    assert json.loads(ok(a, "sync", "status", "--json"))["account_key_in_folder"] is False
    r = cli(tmp_path / "d", "signin", "--email", EMAIL, "--folder", str(folder))
    assert r.returncode == 2 and "Authentication Kit" in r.stderr
    # Re-running `sync folder` without the flag keeps the choice.
    ok(a, "sync", "folder", str(folder), "--store-key")
    ok(a, "sync", "folder", str(folder))
    assert (folder / account / folderkey.FILE_NAME).exists()


def test_wrong_password_and_tampered_key_are_refused(
    device_a: tuple[Path, Path, str], tmp_path: Path
) -> None:
    a, folder, account = device_a
    ok(a, "sync", "folder", str(folder), "--store-key")
    key = folder / account / folderkey.FILE_NAME
    good = key.read_bytes()

    r = cli(
        tmp_path / "w",
        "signin",
        "--email",
        EMAIL,
        "--folder",
        str(folder),
        password="not the password",
    )
    assert r.returncode == 3 and "wrong Account Password" in r.stderr
    assert not (tmp_path / "w" / "vault.db").exists()

    for i in range(
        len(good)
    ):  # any flipped byte: a clear "damaged" error, never a crash or a sign-in
        bad = bytearray(good)
        bad[i] ^= 0x40
        with pytest.raises(
            folderkey.DamagedAccountKeyError, match="damaged|not a Strongroom|newer"
        ):
            folderkey.decode(bytes(bad))
    key.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    r = cli(tmp_path / "t", "signin", "--email", EMAIL, "--folder", str(folder))
    assert r.returncode == 3 and "damaged or was changed" in r.stderr and "--kit FILE" in r.stderr
    assert not (tmp_path / "t" / "vault.db").exists()
    # Edited and re-checksummed (e.g. a lowered KDF cost): the EAK's associated data refuses it.
    body = bytearray(good[:-32])
    body[5 + 14] ^= 1  # inside the Kit header (KDF memory)
    key.write_bytes(bytes(body) + hashlib.sha256(bytes(body)).digest())
    r = cli(tmp_path / "u", "signin", "--email", EMAIL, "--folder", str(folder))
    assert (
        r.returncode == 3
        and "Traceback" not in r.stderr
        and not (tmp_path / "u" / "vault.db").exists()
    )
    # The next sync of a signed-in device repairs it.
    ok(a, "sync", "now")
    assert key.read_bytes() == good


def test_after_passwd_the_saved_key_follows_the_new_password(
    device_a: tuple[Path, Path, str], tmp_path: Path
) -> None:
    a, folder, account = device_a
    ok(a, "sync", "folder", str(folder), "--store-key")
    (tmp_path / "newkit").mkdir()
    r = cli(a, "passwd", "--kit-dir", str(tmp_path / "newkit"), STRONGROOM_NEW_PASSWORD=NEW_PW)
    assert (
        r.returncode == 0 and "sync folder now carries the new password" in r.stderr
    )  # no `sync now` needed
    saved = folderkey.read(folder / account / folderkey.FILE_NAME)
    assert saved is not None and saved.epoch == 2
    r = cli(tmp_path / "old", "signin", "--email", EMAIL, "--folder", str(folder))
    assert r.returncode == 3 and "wrong Account Password" in r.stderr
    r = cli(tmp_path / "new", "signin", "--email", EMAIL, "--folder", str(folder), password=NEW_PW)
    assert r.returncode == 0, r.stderr
    assert (
        ok(tmp_path / "new", "get", "Bank", "--field", "password", password=NEW_PW)
        == "s3cret-Bank\n"
    )


def test_saved_key_older_than_the_sync_file_says_what_to_do(tmp_path: Path) -> None:
    from sync.folder import bootstrap_from_folder
    from vault.errors import KitError

    folder = tmp_path / "f"
    folder.mkdir()
    a = Vault.create(tmp_path / "a", EMAIL, PW)
    s = FolderSync(a, folder)
    s.sync_now()
    s.save_account_key(True)
    old = (folder / a.slot.account_id / folderkey.FILE_NAME).read_bytes()
    a.change_password(NEW_PW)
    s.sync_now()
    (folder / a.slot.account_id / folderkey.FILE_NAME).write_bytes(
        old
    )  # the provider has not caught up
    with pytest.raises(KitError, match="before the last password change"):
        bootstrap_from_folder(tmp_path / "b", folder, EMAIL, NEW_PW, None)
    assert not (tmp_path / "b" / "vault.db").exists()


def _reset_elsewhere(tmp_path: Path, folder: Path, account: str, password: str) -> Vault:
    """What an account reset leaves behind: generation 2 of the same account (new AK, VK, password),
    on a device that then syncs through the same folder."""
    import secrets

    kit, wvk, x_auth = keymod.wrap(
        password, secrets.token_bytes(16), secrets.token_bytes(32), account, 2, 1
    )
    slot = KeySlot(EMAIL, kit, wvk, "")
    keys = keymod.open_vault_key(kit, *keymod.open_account_key(kit, password), wvk)
    c = Vault.adopt(tmp_path / "c", slot, keys, [])
    c.add(new_record("note", "After the reset"))
    return c


def test_device_meeting_a_reset_keeps_a_backup_and_never_touches_the_newer_file(
    device_a: tuple[Path, Path, str], tmp_path: Path
) -> None:
    a, folder, account = device_a
    ok(a, "add", "note", "--title", "Written just before the reset")
    c = _reset_elsewhere(tmp_path, folder, account, NEW_PW)
    report = FolderSync(c, folder).sync_now()
    # The older file is obsolete: renamed aside, never merged.
    assert report.wrote and [n for n in report.retired if n.startswith("data.obsolete-1-")]
    assert {s.title for s in c.summaries()} == {"After the reset"}
    path = folder / account / "data.mssb"
    newer = path.read_bytes()

    r = cli(a, "sync", "now")
    assert (
        r.returncode == 3 and "reset on another device" in r.stderr and "Sign in again" in r.stderr
    )
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert path.read_bytes() == newer  # never overwritten, nothing merged into it
    kept = sorted((a / "backups").glob("before-reset-gen1-*.srbk"))
    assert len(kept) == 1 and str(kept[0]) in r.stderr
    header, _, envs = read_backup(kept[0], PW)  # opens with the password in force before the reset
    records = {e.record_id for e in envs if not e.record_id.startswith("device-")}
    assert header.generation == 1 and len(records) == 2  # beside the device list's entry
    # Meeting it again (a watcher, a second `sync now`) makes no second copy of the same state.
    assert cli(a, "sync", "now").returncode == 3
    assert sorted((a / "backups").glob("before-reset-*")) == kept
    assert path.read_bytes() == newer
    # Signing in again on this same device: a wrong password changes nothing; the right one links it to
    # the new generation, the old store kept aside; the kept records come back from the backup.
    code = c.slot.kit.to_typed_code()
    c.close()
    r = cli(
        a,
        "signin",
        "--email",
        EMAIL,
        "--code",
        code,
        "--folder",
        str(folder),
        password="not the new one",
    )
    assert r.returncode == 3 and "wrong Account Password" in r.stderr
    assert "Bank" in ok(a, "ls")  # still the old vault, untouched
    ok(a, "signin", "--email", EMAIL, "--code", code, "--folder", str(folder), password=NEW_PW)
    assert {d["title"] for d in json.loads(ok(a, "ls", "--json", password=NEW_PW))} == {
        "After the reset"
    }
    assert sorted((a / "backups").glob("replaced-gen1-*.db"))
    r = cli(a, "backup", "restore", str(kept[0]), password=NEW_PW, STRONGROOM_BACKUP_PASSWORD=PW)
    assert r.returncode == 0, r.stderr
    titles = {d["title"] for d in json.loads(ok(a, "ls", "--json", password=NEW_PW))}
    assert titles == {"After the reset", "Bank", "Written just before the reset"}
    ok(a, "sync", "now", password=NEW_PW)  # and it syncs through the folder again
    ok(tmp_path / "c", "sync", "folder", str(folder), password=NEW_PW)
    assert "Bank" in {
        d["title"] for d in json.loads(ok(tmp_path / "c", "ls", "--json", password=NEW_PW))
    }


def test_signin_on_a_device_with_an_account_is_still_refused(
    device_a: tuple[Path, Path, str], tmp_path: Path
) -> None:
    a, folder, account = device_a
    r = cli(
        a,
        "signin",
        "--email",
        EMAIL,
        "--kit",
        str(tmp_path / f"Strongroom-Authentication-Kit-{account}.png"),
        "--folder",
        str(folder),
    )
    assert r.returncode == 2 and "already has an account" in r.stderr


def test_passwd_with_the_folder_unreachable_still_changes_it_here_and_says_so(
    device_a: tuple[Path, Path, str], tmp_path: Path
) -> None:
    a, folder, _ = device_a
    folder.rename(tmp_path / "unmounted")
    r = cli(a, "passwd", "--kit-dir", str(tmp_path), STRONGROOM_NEW_PASSWORD=NEW_PW)
    assert (
        r.returncode == 0
        and "still carries the old password" in r.stderr
        and "sync now" in r.stderr
    )
    assert "Bank" in ok(a, "ls", password=NEW_PW)


def test_several_accounts_in_one_folder_the_password_picks_its_own(tmp_path: Path) -> None:
    from sync.folder import bootstrap_from_folder
    from vault.errors import WrongPasswordError

    folder = tmp_path / "shared"
    folder.mkdir()
    made = []
    for n in range(3):
        v = Vault.create(tmp_path / f"owner{n}", f"o{n}@example.com", f"password of owner {n}")
        v.add(new_record("note", f"Note of owner {n}"))
        s = FolderSync(v, folder)
        s.sync_now()
        s.save_account_key(True)
        made.append(v.slot.account_id)
    got = bootstrap_from_folder(
        tmp_path / "new", folder, "o1@example.com", "password of owner 1", None
    )
    assert got.slot.account_id == made[1] and {x.title for x in got.summaries()} == {
        "Note of owner 1"
    }
    with pytest.raises(WrongPasswordError, match="none of the 3 account keys"):
        bootstrap_from_folder(
            tmp_path / "nobody", folder, "x@example.com", "no such password", None
        )
    assert not (tmp_path / "nobody" / "vault.db").exists()
