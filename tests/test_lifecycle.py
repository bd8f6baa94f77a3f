"""Account lifecycle through the vault API, and the KDF cost guard (downgrade refusal, pinned cost)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from vault import kdf
from vault import keys as keymod
from vault.errors import KdfParamsError, KitError, KitReason, WrongPasswordError
from vault.kdf import KdfParams
from vault.kitcode import KitPayload
from vault.records import new_record
from vault.vault import Vault

PW = "lifecycle password"
PW2 = "second lifecycle password"


def _reason(
    kit: KitPayload, slot: keymod.KeySlot, generation: int | None = None
) -> KitReason | None:
    try:
        keymod.check_kit_against(kit, slot.account_id, generation or slot.generation, slot.epoch)
    except KitError as e:
        return e.reason
    return None


def test_password_change_outdates_the_old_kit(tmp_path: Path) -> None:
    v = Vault.create(tmp_path / "h", "a@example.com", PW)
    rec = v.add(new_record("login", "Kept", {"password": "kept-secret"}))
    old = v.slot
    new = v.change_password(PW2)
    assert (new.epoch, new.generation, new.account_id) == (
        old.epoch + 1,
        old.generation,
        old.account_id,
    )
    assert new.kit.to_bytes() != old.kit.to_bytes() and new.kit.salt != old.kit.salt
    assert _reason(old.kit, new) is KitReason.OUTDATED
    assert _reason(new.kit, new) is None
    assert _reason(new.kit, old) is KitReason.NEWER  # a device that has not synced the change yet
    v.close()

    v = Vault.open(tmp_path / "h")
    with pytest.raises(WrongPasswordError):
        v.unlock(PW)
    assert not v.unlocked
    v.unlock(PW2)
    assert (
        v.record(rec.id).value("password") == "kept-secret"
    )  # AK and VK kept: nothing re-encrypted
    v.close()


def test_rotating_the_account_key_issues_a_new_kit_and_retires_the_old(tmp_path: Path) -> None:
    v = Vault.create(tmp_path / "h", "r@example.com", PW)
    rec = v.add(new_record("note", "Survives rotation"))
    old, old_ak = v.slot, v.keys.ak
    with pytest.raises(WrongPasswordError):
        v.rotate_account_key(PW + "x")
    assert v.slot == old
    new = v.rotate_account_key(PW)
    assert new.kit.to_bytes() != old.kit.to_bytes() and new.kit.eak != old.kit.eak
    assert v.keys.ak != old_ak and new.epoch == old.epoch + 1
    assert _reason(old.kit, new) is KitReason.OUTDATED
    # Not only refused by its epoch: the old Kit's AK does not open the new key slot at all.
    ak, k_pw = keymod.open_account_key(old.kit, PW)
    assert ak == old_ak
    with pytest.raises(KitError):
        keymod.open_vault_key(new.kit, ak, k_pw, new.wrapped_vk)
    v.close()
    v = Vault.open(tmp_path / "h")
    v.unlock(PW)
    assert v.record(rec.id).title == "Survives rotation"
    v.close()


def test_kit_of_another_account_and_of_an_older_generation(tmp_path: Path) -> None:
    a = Vault.create(tmp_path / "a", "a@example.com", PW)
    b = Vault.create(tmp_path / "b", "b@example.com", PW)
    assert _reason(b.slot.kit, a.slot) is KitReason.OTHER_ACCOUNT
    assert _reason(a.slot.kit, b.slot) is KitReason.OTHER_ACCOUNT
    # No reset flow exists in vault/ yet (it is server-driven); a reset bumps the generation.
    assert _reason(a.slot.kit, a.slot, generation=a.slot.generation + 1) is KitReason.BEFORE_RESET
    # A foreign Kit cannot open this device's slot even with the same password.
    with pytest.raises(WrongPasswordError):
        keymod.unlock(replace(a.slot, kit=replace(b.slot.kit, account_id=a.slot.account_id)), PW)
    a.close()
    b.close()


def test_wrong_password_is_typed_and_leaves_the_vault_locked(tmp_path: Path) -> None:
    Vault.create(tmp_path / "h", "w@example.com", PW).close()
    v = Vault.open(tmp_path / "h")
    for wrong in ("", PW.upper(), PW + " ", "lifecycle passwor"):
        with pytest.raises(WrongPasswordError) as e:
            v.unlock(wrong)
        assert PW not in str(e.value) and (
            not wrong or wrong not in str(e.value)
        )  # no secret echoed
        assert not v.unlocked
    v.unlock(PW)
    v.close()


# -- KDF cost: pinned, floor and ceiling enforced before any Argon2id run ----------------------


def test_production_parameters_are_pinned() -> None:
    assert kdf.PRODUCTION == KdfParams(m_kib=64 * 1024, t=3, p=4)
    assert (kdf.FLOOR_M_KIB, kdf.FLOOR_T) == (19 * 1024, 2)
    assert (kdf.CEIL_M_KIB, kdf.CEIL_T, kdf.CEIL_P) == (1024 * 1024, 10, 16)
    assert kdf.SALT_LEN == 16 and kdf.KEY_LEN == 32
    kdf.check_params(kdf.PRODUCTION)


def test_the_spy_sees_every_argon2_run(argon2_calls: list[tuple[object, ...]]) -> None:
    """Control for the refusal tests: with acceptable parameters the spied call does happen."""
    slot, _ = keymod.create_account("a@example.com", PW)
    n = len(argon2_calls)
    assert n == 1
    with pytest.raises(WrongPasswordError):  # the spy returns a fake key
        keymod.unlock(replace(slot, kit=replace(slot.kit, params=kdf.PRODUCTION)), PW)
    assert len(argon2_calls) == n + 1 and argon2_calls[-1][:3] == (3, 65536, 4)


@pytest.mark.parametrize(
    "params",
    [
        KdfParams(19 * 1024 - 1, 3, 4),
        KdfParams(8 * 1024, 3, 4),
        KdfParams(65536, 1, 4),
        KdfParams(65536, 3, 0),
        KdfParams(1024 * 1024 + 1, 3, 4),
        KdfParams(2 * 1024 * 1024, 3, 4),
        KdfParams(65536, 11, 4),
        KdfParams(65536, 3, 17),
        KdfParams(2**32 - 1, 255, 255),
        KdfParams(0, 0, 0),
    ],
)
def test_kit_with_weakened_or_absurd_cost_is_refused_before_any_kdf(
    params: KdfParams, argon2_calls: list[tuple[object, ...]]
) -> None:
    slot = keymod.KeySlot(
        "a@example.com", KitPayload("ABCDEFGH23", 1, 1, params, bytes(16), bytes(32)), bytes(60)
    )
    forged = KitPayload.from_qr_text(slot.kit.to_qr_text())  # as if read from a QR
    with pytest.raises(KdfParamsError):
        keymod.open_account_key(forged, PW)
    with pytest.raises(KdfParamsError):
        keymod.unlock(replace(slot, kit=forged), PW)
    assert argon2_calls == [], "Argon2id ran on refused parameters"


def test_the_test_profile_is_refused_once_the_switch_is_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(kdf.TEST_SWITCH)
    assert kdf.default_params() == kdf.PRODUCTION
    with pytest.raises(KdfParamsError):
        kdf.check_params(kdf.TEST_PROFILE)


@pytest.mark.parametrize("switch", [None, "0", "true", "yes", " 1"])
def test_insecure_test_kdf_is_off_in_a_clean_process(switch: str | None) -> None:
    """Only STRONGROOM_INSECURE_TEST_KDF=1 enables the cheap profile; a new account gets production cost."""
    env = {k: v for k, v in os.environ.items() if k != kdf.TEST_SWITCH}
    if switch is not None:
        env[kdf.TEST_SWITCH] = switch
    code = (
        "from vault import kdf, keys\n"
        "print(kdf.default_params() == kdf.PRODUCTION, kdf.insecure_test_kdf_enabled())\n"
        "try:\n    kdf.check_params(kdf.TEST_PROFILE); print('accepted')\n"
        "except Exception as e: print(type(e).__name__)\n"
    )
    if switch is None:  # one real production-cost account creation (about 0.1-0.3 s)
        code += "slot, _ = keys.create_account('p@example.com', 'pw'); print(slot.kit.params == kdf.PRODUCTION)\n"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    expected = ["True", "False", "KdfParamsError"] + (["True"] if switch is None else [])
    assert out.split() == expected
