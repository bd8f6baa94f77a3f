"""Argon2id: RFC 9106 known answer, pinned production parameters, floor and ceiling."""

from __future__ import annotations

import pytest

from vault import kdf
from vault.errors import KdfParamsError
from vault.kdf import KdfParams


def test_argon2id_matches_rfc9106_vector() -> None:
    tag = kdf.argon2id_full(b"\x01" * 32, b"\x02" * 16, 3, 32, 4, 32, b"\x03" * 8, b"\x04" * 12)
    assert tag.hex() == "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"


def test_production_parameters_are_pinned() -> None:
    assert kdf.PRODUCTION == KdfParams(m_kib=65536, t=3, p=4)


def test_cheap_profile_is_off_without_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(kdf.TEST_SWITCH, raising=False)
    assert kdf.default_params() == kdf.PRODUCTION
    with pytest.raises(KdfParamsError):
        kdf.check_params(kdf.TEST_PROFILE)
    monkeypatch.setenv(kdf.TEST_SWITCH, "yes")  # only exactly "1" enables it
    assert kdf.default_params() == kdf.PRODUCTION


@pytest.mark.parametrize(
    "params",
    [
        KdfParams(19 * 1024 - 1, 3, 4),
        KdfParams(65536, 1, 4),
        KdfParams(65536, 3, 0),
        KdfParams(1024 * 1024 + 1, 3, 4),
        KdfParams(65536, 11, 4),
        KdfParams(65536, 3, 17),
    ],
)
def test_parameters_outside_floor_and_ceiling_are_refused(
    params: KdfParams, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(kdf.TEST_SWITCH, raising=False)
    with pytest.raises(KdfParamsError):
        kdf.argon2id(b"pw", b"s" * 16, params)


def test_passwords_are_nfkd_normalised() -> None:
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    salt = b"\x07" * 16
    assert kdf.derive_password_key(composed, salt, kdf.TEST_PROFILE) == kdf.derive_password_key(
        decomposed, salt, kdf.TEST_PROFILE
    )
