"""Account lifecycle, downgrade refusal, crash safety and no plaintext at rest."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from vault import kdf
from vault import keys as keymod
from vault.errors import KdfParamsError, KitError, KitReason, WrongPasswordError
from vault.kdf import KdfParams
from vault.records import new_record
from vault.vault import Vault

PW = "lifecycle password"


def test_kit_reasons_after_password_change_reset_and_for_other_accounts() -> None:
    slot, keys = keymod.create_account("a@example.com", PW)
    old_kit = slot.kit
    new_slot, new_keys = keymod.change_password(slot, keys, "second password")
    assert new_slot.epoch == 2 and new_keys.ak == keys.ak and new_keys.vk == keys.vk
    with pytest.raises(KitError) as e:
        keymod.check_kit_against(old_kit, new_slot.account_id, new_slot.generation, new_slot.epoch)
    assert e.value.reason is KitReason.OUTDATED
    keymod.check_kit_against(new_slot.kit, new_slot.account_id, new_slot.generation, new_slot.epoch)
    with pytest.raises(WrongPasswordError):
        keymod.unlock(new_slot, PW)
    assert keymod.unlock(new_slot, "second password").vk == keys.vk

    other, _ = keymod.create_account("b@example.com", PW)
    with pytest.raises(KitError) as e:
        keymod.check_kit_against(other.kit, slot.account_id, slot.generation, slot.epoch)
    assert e.value.reason is KitReason.OTHER_ACCOUNT
    with pytest.raises(KitError) as e:  # a Kit of generation 1 after a reset to generation 2
        keymod.check_kit_against(old_kit, slot.account_id, 2, 1)
    assert e.value.reason is KitReason.BEFORE_RESET

    rotated, rkeys = keymod.rotate_account_key(new_slot, new_keys, "second password")
    assert rotated.kit.to_bytes() != new_slot.kit.to_bytes() and rkeys.ak != keys.ak
    with pytest.raises(KitError) as e:
        keymod.check_kit_against(new_slot.kit, rotated.account_id, rotated.generation, rotated.epoch)
    assert e.value.reason is KitReason.OUTDATED


@pytest.mark.parametrize("params", [KdfParams(8 * 1024, 3, 4), KdfParams(65536, 1, 4), KdfParams(2 * 1024 * 1024, 3, 4),
                                    KdfParams(65536, 11, 4), KdfParams(65536, 3, 17)])
def test_kit_with_weakened_or_absurd_cost_is_refused_before_any_kdf(params: KdfParams,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    slot, _ = keymod.create_account("a@example.com", PW)
    forged = replace(slot.kit, params=params)

    def no_kdf(*args: object, **kw: object) -> bytes:
        raise AssertionError("Argon2id ran on refused parameters")

    monkeypatch.setattr(kdf, "argon2id", no_kdf)
    monkeypatch.setattr(kdf, "derive_password_key", no_kdf)
    with pytest.raises(KdfParamsError):
        keymod.open_account_key(forged, PW)
    with pytest.raises(KdfParamsError):
        keymod.unlock(replace(slot, kit=forged), PW)


def test_test_profile_is_off_in_a_clean_process() -> None:
    env = {k: v for k, v in os.environ.items() if k != kdf.TEST_SWITCH}
    code = "from vault import kdf; print(kdf.default_params() == kdf.PRODUCTION, kdf.test_profile_enabled())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]


CHILD = """
import sys
from pathlib import Path
from vault.vault import Vault
from vault.records import new_record
home = Path(sys.argv[1])
v = Vault.open(home)
v.unlock(sys.argv[2])
i = 0
while True:
    r = v.add(new_record("login", f"crash {i}", {"password": "x" * 50, "username": "u"}, notes="n" * 300))
    print(r.id, flush=True)
    i += 1
"""


def test_sigkill_while_adding_loses_nothing_that_returned(tmp_path: Path) -> None:
    home = tmp_path / "h"
    Vault.create(home, "c@example.com", PW).close()
    rng = random.Random(7)
    promised: list[str] = []
    for _ in range(6):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(home), PW], stdout=subprocess.PIPE, text=True)
        time.sleep(0.3 + rng.random() * 0.7)
        os.kill(child.pid, signal.SIGKILL)
        out, _ = child.communicate()
        lines = out.splitlines()
        promised += [ln for ln in lines if len(ln) == 16]
        v = Vault.open(home)
        v.unlock(PW)
        present = {s.id for s in v.summaries()}
        missing = [rid for rid in promised if rid not in present]
        assert not missing, f"{len(missing)} acknowledged records lost"
        v.close()
    assert len(promised) > 20


def test_nothing_readable_at_rest(tmp_path: Path) -> None:
    home = tmp_path / "h"
    v = Vault.create(home, "rest@example.com", PW)
    values = ["Zanzibar Credit Union", "https://zanzibar-cu.example", "ultraviolet-tag", "quokka_user",
              "Sup3r-S3cret-Pa55word!", "meet me at the lighthouse", "JBSWY3DPEHPK3PXP"]
    rec = new_record("login", values[0], {"url": values[1], "username": values[3], "password": values[4],
                                          "totp": values[6]}, notes=values[5], tags=(values[2],))
    v.add(rec)
    v.update(replace(rec, title=values[0] + " 2"))
    v.summaries()
    files = [p for p in home.rglob("*") if p.is_file()]
    blobs = b"".join(p.read_bytes() for p in files)
    v.close()
    blobs += b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    for value in values + [PW]:
        for encoded in (value.encode(), value.encode("utf-16-le")):
            assert encoded not in blobs, value
    # The email is stored (with the Kit) so that unlock never asks for it again — the only clear field.
