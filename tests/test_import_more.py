"""Dashlane (CSV zip and JSON), Proton Pass, Keeper JSON, Enpass JSON, 1Password 1PIF and pass
stores, read from other projects' real sample exports (tests/data/SOURCES.md): each guessed,
nothing silently lost (trash, attachments, passkeys, unknown items counted and named), and
damaged copies give a report or one typed error, never a crash."""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.errors import FormatError, InvalidInputError
from vault.importers import ImportReport, read_file, read_stream
from vault.importers.common import left_out
from vault.importers.sniff import candidates, guess_bytes
from vault.records import Record
from vault.templates import FieldKind

REAL = Path(__file__).parent / "data" / "import" / "real"
#: Sample → (format, records read from it).
CORPUS = {
    "passimport-dashlane.json": ("dashlane-json", 15),
    "passimport-enpass.json": ("enpass-json", 14),
    "passimport-1password.1pif": ("1password-1pif", 14),
    "bitwarden-keeper.json": ("keeper-json", 3),
    "protonpass-keeper.json": ("keeper-json", 16),
    "bitwarden-protonpass.json": ("protonpass-json", 6),
    "protonpass-dashlane-credentials.csv": ("dashlane-csv", 8),
    "protonpass-dashlane-payments.csv": ("dashlane-csv", 3),
    "protonpass-dashlane-personal-info.csv": ("dashlane-csv", 1),
}
DASHLANE_CSVS = ["credentials", "payments", "personal-info", "secure-notes"]
#: pass-import's sample entries, the same in every one of its exports.
PASSWORDS = {
    "aib": "ws5T@;_UB[Q|P!8'`~z%XC'JHFUbf#IX _E0}:HF,[{ei0hBg14",
    "dpbx@fner.ws": "mt}h'hSUCY;SU;;A!l[8y3O:8",
    "mastodon.social": "D<INNeT?#?Bf4%`zA/4i!/'$T",
}
NOTE = (
    "This is a multiline note entry. Cube shank petroleum guacamole dart mower\n"
    "acutely slashing upper cringing lunchbox tapioca wrongful unbeaten sift."
)


def _read(fmt: str, data: bytes) -> ImportReport:
    return read_stream(fmt, io.BytesIO(data))


def _titles(report: ImportReport) -> dict[str, Record]:
    return {r.title: r for r in report.records}


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _dashlane_zip(extra: dict[str, bytes] | None = None) -> bytes:
    """Dashlane's CSV export as it downloads: one zip of its tables (the real tables here)."""
    names = {"personal-info": "personalInfo.csv", "secure-notes": "securenotes.csv"}
    members = {
        names.get(n, f"{n}.csv"): (REAL / f"protonpass-dashlane-{n}.csv").read_bytes()
        for n in DASHLANE_CSVS
    }
    return _zip(members | (extra or {}))


def _json(name: str) -> Any:
    return json.loads((REAL / name).read_bytes().decode("utf-8-sig"))


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_real_sample_reads_and_is_guessed(name: str) -> None:
    fmt, count = CORPUS[name]
    data = (REAL / name).read_bytes()
    report = read_file(fmt, REAL / name)
    assert len(report.records) == count
    assert guess_bytes(data) == fmt
    titles = _titles(report)
    for title, password in PASSWORDS.items():
        if title in titles:
            assert titles[title].value("password") == password
    if "note" in titles:
        assert titles["note"].type == "note" and titles["note"].notes == NOTE
    assert not [p for p in report.problems if p.skipped and not p.lost]


def test_pass_import_samples_keep_folders_as_tags() -> None:
    """The same 14 entries exported by Enpass and 1Password 4: nested folders as paths."""
    for fmt, name in (
        ("enpass-json", "passimport-enpass.json"),
        ("1password-1pif", "passimport-1password.1pif"),
    ):
        titles = _titles(read_file(fmt, REAL / name))
        assert titles["dpbx@fner.ws"].tags == ("Emails/WS",)
        assert titles["aib"].tags == ("Bank",)
        assert titles["aib"].value("username") == "dpbx@fner.ws"
        assert titles["aib"].value("url") == "https://onlinebanking.aib.ie"
        pin = next(f for f in titles["aib"].fields if f.name == "pin")
        assert pin.value == "462916" and pin.kind.concealed


def test_dashlane_csv_zip_reads_every_table() -> None:
    report = _read("dashlane-csv", _dashlane_zip())
    assert candidates(_dashlane_zip()) == ["dashlane-csv"]
    assert report.counts() == {"credit-card": 3, "identity": 1, "login": 6, "note": 5}
    t = _titles(report)
    qr = t["login with 2fa scanned from qr code"]
    assert qr.value("totp") == "RL3FRZ5V3EBM7T4ZMGJWGO43MQSTTMIT"
    assert qr.value("username") == "john" and qr.value("username 2") == "john2"
    assert t['password with comma , and quote "'].value("password") == 'password,"comma"'
    assert t["login with multiple lines"].notes == "line 1\nline 2\nline 3"
    card = t["my cc"]
    assert (card.value("number"), card.value("cvv"), card.value("expiry")) == (
        "12345678901234567",
        "123",
        "01/2024",
    )
    assert card.notes == "line1\nline2word1, line2word2"
    assert t["Email 1"].value("email") == "me@example.com"
    assert t["notes with commas ,"].notes == "comma 1, comma 2,"
    assert all("\r" not in r.notes for r in report.records)  # the tables' rows end in CRLF


def test_dashlane_zip_member_it_does_not_know_is_named() -> None:
    report = _read("dashlane-csv", _dashlane_zip({"passkeys.csv": b"rpId,user\nx.com,ann\n"}))
    assert left_out(report.problems) == {"unread file": 1}
    assert any("passkeys.csv" in p.where for p in report.problems)


def test_dashlane_json_login_email_and_categories() -> None:
    doc = _json("passimport-dashlane.json")
    report = read_file("dashlane-json", REAL / "passimport-dashlane.json")
    assert _titles(report)["login@example.com"].value("email") == "login@example.com"
    doc["CUSTOM_THING"] = [{"title": "Locker", "code": "4242"}]
    locker = _titles(_read("dashlane-json", json.dumps(doc).encode()))["Locker"]
    assert locker.type == "custom" and locker.value("code") == "4242"


def test_proton_pass_json_and_zip() -> None:
    data = (REAL / "bitwarden-protonpass.json").read_bytes()
    zipped = _zip({"Proton Pass/data.json": data})
    assert candidates(zipped) == ["protonpass-json"]
    for blob in (data, zipped):
        report = _read("protonpass-json", blob)
        t = _titles(report)
        login = t["Test Login - Personal Vault"]
        assert login.value("username") == "Username" and login.value("email") == "Email"
        assert login.value("url 2") == "https://example2.com/" and login.favorite
        assert login.tags == ("Personal",)
        assert login.value("totp").startswith("otpauth://totp/")
        kinds = {f.name: f.kind for f in login.fields}
        assert kinds["hidden field"] is FieldKind.SECRET
        assert kinds["second 2fa secret"] is FieldKind.TOTP
        card = t["Test Card"]
        assert (card.value("expiry"), card.value("cvv"), card.value("pin")) == (
            "01/2025",
            "333",
            "1234",
        )
        ident = t["Identity"]
        assert ident.value("first-name") == "Test" and "New York" in ident.value("address")
        ssn = next(f for f in ident.fields if f.name == "socialSecurityNumber")
        assert ssn.kind.concealed
        assert t["Alias"].value("username") == "alias.removing005@passinbox.com"
        assert t["Other vault login"].tags == ("Test",)
        assert left_out(report.problems) == {"trashed item": 1}
        assert "My Deleted Note" in next(p.reason for p in report.problems if p.lost)


def test_proton_pass_passkeys_files_and_unknown_types_are_named() -> None:
    doc = _json("bitwarden-protonpass.json")
    items = doc["vaults"]["REDACTED_VAULT_ID_A"]["items"]
    items[0]["data"]["content"]["passkeys"] = [{"domain": "example.com", "keyId": "k"}]
    items[0]["files"] = [{"name": "scan.pdf"}]
    items[1]["data"]["type"] = "futureKind"
    report = _read("protonpass-json", json.dumps(doc).encode())
    assert left_out(report.problems) == {
        "attachment": 1,
        "item of an unknown type": 1,
        "passkey": 1,
        "trashed item": 1,
    }
    assert "example.com" in " ".join(p.reason for p in report.problems)


def test_proton_pass_encrypted_export_says_which_to_make() -> None:
    for blob in (_zip({"Proton Pass/data.pgp": b"-----BEGIN PGP MESSAGE-----"}),):
        with pytest.raises(FormatError, match="without encryption"):
            _read("protonpass-json", blob)
    doc = _json("bitwarden-protonpass.json") | {"encrypted": True}
    with pytest.raises(FormatError, match="without encryption"):
        _read("protonpass-json", json.dumps(doc).encode())


def test_keeper_json_typed_records() -> None:
    report = read_file("keeper-json", REAL / "protonpass-keeper.json")
    t = _titles(report)
    card = t["a card"]
    assert card.type == "credit-card"
    assert (card.value("number"), card.value("expiry"), card.value("cvv")) == (
        "4242424242424242",
        "03/2027",
        "123",
    )
    assert card.value("cardholder") == "First last" and card.value("pin") == "1234"
    assert card.value("address") == "line 1\nline 2\nCity\nState\n00000\nUS"  # its $addressRef
    assert t["login of subfolder1"].tags == ("folder1/subfolder1",)
    assert t["login with 2fa"].value("totp").startswith("otpauth://totp/account.proton.me")
    custom = t["login with custom fields"]
    hidden = next(f for f in custom.fields if f.name == "custom Hidden Field")
    assert hidden.kind is FieldKind.SECRET and hidden.value == "hidden vlue"
    assert t["a note"].type == "note" and "note content\nline 2" in t["a note"].notes
    ssh = t["ssh key item"]
    assert next(f for f in ssh.fields if f.name == "private key").kind.concealed
    assert t["contact item"].value("phone") == "5555555555 ext. Ext"
    assert left_out(report.problems) == {"attachment": 1}  # the "a file" record
    assert "'a file'" in next(p.reason for p in report.problems if p.lost)


def test_keeper_json_shared_folders_and_old_totp() -> None:
    t = _titles(read_file("keeper-json", REAL / "bitwarden-keeper.json"))
    two = t["Bank Account 2"]
    assert two.tags == ("Optional Private Folder 1", "My Customer 1")
    assert two.value("totp").startswith("otpauth://totp/Amazon")
    assert two.value("IP Address") == "12.45.67.8"


def test_enpass_trash_archive_attachments_and_history() -> None:
    doc = _json("passimport-enpass.json")
    items = doc["items"]
    items[0]["trashed"] = 1
    items[1]["archived"] = 1
    items[2]["attachments"] = [{"name": "scan.pdf", "kind": "application/pdf"}]
    pw = next(f for f in items[3]["fields"] if f["type"] == "password")
    pw["history"] = [{"encrypted": False, "updated_at": 1534490049, "value": "older"}]
    report = _read("enpass-json", json.dumps(doc).encode())
    assert left_out(report.problems) == {"attachment": 1, "trashed item": 1}
    t = _titles(report)
    assert "aib" not in t
    assert "Enpass archive" in t[items[1]["title"]].tags
    (old,) = t[items[3]["title"]].history
    assert old.fields[0].value == "older"


def test_1pif_trash_documents_and_unknown_types_are_named() -> None:
    text = (REAL / "passimport-1password.1pif").read_bytes().decode("utf-8-sig")
    text = text.replace("\r\n", "\n")  # the sample's lines end in CRLF
    sep = "\n***5642bee8-a5ff-11dc-8314-0800200c9a66***\n"
    objects = [json.loads(o) for o in text.split(sep) if o.strip()]
    login = next(o for o in objects if o["title"] == "aib")
    login["trashed"] = True
    objects.append({"typeName": "system.Document", "title": "scan", "uuid": "D1"})
    objects.append({"typeName": "wallet.future.Thing", "title": "thing", "uuid": "D2"})
    report = _read("1password-1pif", sep.join(json.dumps(o) for o in objects).encode())
    assert left_out(report.problems) == {
        "attachment": 1,
        "item of an unknown type": 1,
        "trashed item": 1,
    }
    assert len(report.records) == 13


# -- fuzz of the new readers ----------------------------------------------------------------------
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAMPLES = {
    "dashlane-json": (REAL / "passimport-dashlane.json").read_bytes(),
    "enpass-json": (REAL / "passimport-enpass.json").read_bytes(),
    "1password-1pif": (REAL / "passimport-1password.1pif").read_bytes(),
    "keeper-json": (REAL / "protonpass-keeper.json").read_bytes(),
    "protonpass-json": (REAL / "bitwarden-protonpass.json").read_bytes(),
    "dashlane-csv": (REAL / "protonpass-dashlane-credentials.csv").read_bytes(),
}


def _typed_errors_only(fmt: str, data: bytes) -> None:
    try:
        _read(fmt, data)
    except (FormatError, InvalidInputError):
        pass


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
@FUZZ
@given(
    cut=st.integers(min_value=0, max_value=10**5),
    noise=st.binary(max_size=40),
    at=st.integers(min_value=0, max_value=10**5),
    zipped=st.booleans(),
)
def test_fuzz_damaged_real_files(fmt: str, cut: int, noise: bytes, at: int, zipped: bool) -> None:
    """A real sample cut short with random bytes spliced in (maybe inside a zip, or the zip
    itself damaged): a report or one typed error (exit 2), never anything else (exit 70)."""
    data = SAMPLES[fmt]
    data = data[: cut % (len(data) + 1)]
    pos = at % (len(data) + 1)
    data = data[:pos] + noise + data[pos:]
    if zipped:
        data = _zip({"Proton Pass/data.json" if fmt == "protonpass-json" else "x.csv": data})
        data = data[: max(len(data) - cut % 7, 0)]
    _typed_errors_only(fmt, data)


_OTHERS: list[Any] = [None, True, False, 0, -1, 10**20, 1.5, "", "x", [], {}, [1], {"a": 1}]


def _mangle(value: Any, rnd: random.Random) -> Any:
    """The same JSON with about one value in eight replaced by a value of another JSON type."""
    if rnd.randrange(8) == 0:
        return rnd.choice(_OTHERS)
    if isinstance(value, dict):
        return {k: _mangle(v, rnd) for k, v in value.items()}
    if isinstance(value, list):
        return [_mangle(v, rnd) for v in value]
    return value


@pytest.mark.parametrize("fmt", sorted(f for f in SAMPLES if f != "dashlane-csv"))
@FUZZ
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_fuzz_wrong_json_types_in_real_files(fmt: str, seed: int) -> None:
    """Any value (or object, or list) of a real sample may turn into another JSON type: still
    a report or one typed error."""
    rnd = random.Random(seed)
    raw = SAMPLES[fmt].decode("utf-8-sig").replace("\r\n", "\n")
    if fmt == "1password-1pif":
        sep = "\n***5642bee8-a5ff-11dc-8314-0800200c9a66***\n"
        parts = [json.loads(p) for p in raw.split(sep) if p.strip()]
        blob = sep.join(json.dumps(_mangle(p, rnd)) for p in parts).encode()
    else:
        blob = json.dumps(_mangle(json.loads(raw), rnd)).encode()
    _typed_errors_only(fmt, blob)
