"""Imports of other projects' real sample exports (tests/data/import/real, see
tests/data/SOURCES.md) and mechanical variants of them (BOM, CRLF, semicolons, added rows):
nothing silently lost, every left-out thing counted and named."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.errors import FileSecretNeededError, FormatError, InvalidInputError
from vault.importers import ImportReport, fingerprint, import_report, read_file, read_stream
from vault.importers.common import left_out, left_out_text
from vault.importers.sniff import candidates, guess_bytes
from vault.records import Record
from vault.templates import FieldKind
from vault.totp import parse_totp, totp_code
from vault.vault import Vault

DATA = Path(__file__).parent / "data" / "import"
REAL = DATA / "real"
#: Every real sample, the format that reads it, and how many records it holds.
CORPUS = {
    "passimport-lastpass.csv": ("lastpass-csv", 14),
    "passimport-nordpass.csv": ("nordpass-csv", 14),
    "passimport-roboform.csv": ("roboform-csv", 13),
    "passimport-keepass2.csv": ("keepass-csv", 14),
    "passimport-keepassx.xml": ("keepass-xml", 14),
    "passimport-1password4.csv": ("1password-csv", 14),
    "passimport-1password6.csv": ("1password-csv", 14),
    "bitwarden-keeper.csv": ("keeper-csv", 3),
    "keepassxc-bitwarden_passkey_export.json": ("bitwarden-json", 2),
    "passimport-chrome.csv": ("chrome-csv", 14),
    "passimport-firefox.csv": ("firefox-csv", 14),
    "passimport-bitwarden.json": ("bitwarden-json", 14),
    "passimport-bitwarden.csv": ("bitwarden-csv", 14),
    "passimport-bitwarden-other.json": ("bitwarden-json", 6),
    "passimport-keepass.xml": ("keepass-xml", 14),
    "passimport-keepassx2.csv": ("keepass-csv", 14),
    "passimport-keeper.csv": ("keeper-csv", 14),
    "passimport-1password8.csv": ("1password-csv", 14),
}
#: pass-import's reference for its main samples (tests/assets/references/main.yml): title,
#: login, password, URL, comments and group of the 14 entries every one of them holds.
REFERENCE = [
    ("mastodon.social", "ostqxi", "D<INNeT?#?Bf4%`zA/4i!/'$T", "https://mastodon.social/", "", "Social"),
    ("twitter.com", "ostqxi", "SoNEwvU,kJ%-cIKJ9[c#S;]jB", "https://twitter.com/", "", "Social"),
    ("https://news.ycombinator.com", "ostqxi", "1)Btf2EI~Tfb7g2A!Sy',*Sj#", "https://news.ycombinator.com", "", "Social"),
    ("ovh.com", "jsdkyvbwjn", "^Vr/|o>_H8X%T]7>f}7|:U!Zs", "https://www.ovh.com/manager/web/", "", "Servers"),
    ("ovh.com", "bynbyjhqjz", "3Z-VW!i,j(&!zRGPu(hFe]s'(", "https://www.ovh.com/manager/web/", "", "Servers"),
    ("aib", "dpbx@fner.ws", "ws5T@;_UB[Q|P!8'`~z%XC'JHFUbf#IX _E0}:HF,[{ei0hBg14", "https://onlinebanking.aib.ie", "", "Bank"),
    ("dpbx@afoqwdr.tx", "dpbx", "9KVHnx:.S_S;cF`=CE@e\\p{v6", "https://afoqwdr.tx", "", "Emails"),
    ("dpbx@klivak.xb", "dpbx", "2cUqe}e9}>IVZf)Ye>3C8ZN,r", "", "This is a garbage address", "Emails"),
    ("dpbx@mnyfymt.ws", "dpbx", "rPCkmNkhIa>{izt3C3F823!Go", "https://mail.mnyfymt.ws", "", "Emails/WS"),
    ("dpbx@fner.ws", "dpbx", "mt}h'hSUCY;SU;;A!l[8y3O:8", "", "For financial purpose only!", "Emails/WS"),
    ("space title", "vkeelpbu", "]stDKo{%pk", "https://nhysdo.wg", "", "CornerCases"),
    ("empty entry", "", "", "", "", "CornerCases"),
    ("empty password", "vkeelpbu", "", "https://nhysdo.wg", "", "CornerCases"),
    ("note", "", "", "", "This is a multiline note entry. Cube shank petroleum guacamole dart mower\nacutely slashing upper cringing lunchbox tapioca wrongful unbeaten sift.", "CornerCases"),
]  # fmt: skip
#: Samples of those 14 entries and what each format carries besides login and password
#: (pass-import's own tests leave out the same parts: a Chrome CSV has no notes or folders, a
#: Firefox CSV has hosts for titles and URLs). The RoboForm sample predates the note entry.
REFERENCED = {
    "passimport-lastpass.csv": {"title", "url", "notes", "group"},
    "passimport-nordpass.csv": {"title", "url", "notes", "group"},
    "passimport-roboform.csv": {"title", "url", "notes", "group"},
    "passimport-keepass2.csv": {"title", "url", "notes"},
    "passimport-keepassx.xml": {"title", "url", "notes", "group"},
    "passimport-1password4.csv": {"title", "url", "notes"},
    "passimport-1password6.csv": {"title", "url", "notes", "group"},
    "passimport-chrome.csv": {"title", "url", "notes"},
    "passimport-firefox.csv": set(),
    "passimport-bitwarden.json": {"title", "url", "notes", "group"},
    "passimport-bitwarden.csv": {"title", "url", "notes", "group"},
    "passimport-keepass.xml": {"title", "url", "notes", "group"},
    "passimport-keepassx2.csv": {"title", "url", "notes", "group"},
    "passimport-keeper.csv": {"title", "url", "notes", "group"},
    "passimport-1password8.csv": {"title", "url", "notes"},
}
PASSWORDS = {
    "aib": "ws5T@;_UB[Q|P!8'`~z%XC'JHFUbf#IX _E0}:HF,[{ei0hBg14",
    "dpbx@fner.ws": "mt}h'hSUCY;SU;;A!l[8y3O:8",
}
NOTE = (
    "This is a multiline note entry. Cube shank petroleum guacamole dart mower\n"
    "acutely slashing upper cringing lunchbox tapioca wrongful unbeaten sift."
)


def _read(fmt: str, data: bytes) -> ImportReport:
    return read_stream(fmt, io.BytesIO(data))


def _titles(report: ImportReport) -> dict[str, Record]:
    return {r.title: r for r in report.records}


def _kinds(rec: Record) -> dict[str, FieldKind]:
    return {f.name: f.kind for f in rec.fields}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_real_sample_reads_with_nothing_lost(name: str) -> None:
    fmt, count = CORPUS[name]
    report = read_file(fmt, REAL / name)
    assert len(report.records) == count
    titles = _titles(report)
    for title, password in PASSWORDS.items():
        if title in titles:
            assert titles[title].value("password") == password
    # pass-import's multi-line note: a secure note, line break kept (a Firefox CSV has no notes)
    if "note" in titles and "notes" in REFERENCED.get(name, {"notes"}):
        assert titles["note"].type == "note" and titles["note"].notes == NOTE
    for rec in report.records:
        assert "\r" not in rec.notes
        assert not any(f.name.lower() in ("autosubmit", "ainfo", "scope") for f in rec.fields)


@pytest.mark.parametrize("name", sorted(REFERENCED))
def test_pass_import_samples_hold_its_reference_entries(name: str) -> None:
    """Every entry of pass-import's reference is in the import with its login and password, and
    its title, URL, notes and folder (as a tag) wherever the format carries them; nothing else
    is imported and no entry is skipped."""
    fmt, _ = CORPUS[name]
    report = read_file(fmt, REAL / name)
    left = list(report.records)
    carried = REFERENCED[name]
    for title, login, password, url, notes, group in REFERENCE:
        if name == "passimport-roboform.csv" and title == "note":
            continue
        found = [
            r
            for r in left
            if (r.value("password") or "") == password
            and (not password or r.title == title or "title" not in carried)
            and (password or r.title == title)
        ]
        assert found, f"{title!r} is missing"
        rec = found[0]
        left.remove(rec)
        assert (rec.value("username") or rec.value("email") or "") == login, title
        if "url" in carried:
            assert (rec.url or "").rstrip("/") == url.rstrip("/"), title
        if "notes" in carried:
            assert rec.notes == notes, title
        if "group" in carried:
            assert group in rec.tags, title
    assert not left
    skipped = [p.reason for p in report.problems if p.skipped and not p.lost]
    assert all(r.startswith("a folder, not an entry") for r in skipped)  # NordPass's folder rows


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_real_sample_is_guessed(name: str) -> None:
    fmt, _ = CORPUS[name]
    head = (REAL / name).read_bytes()
    if name == "passimport-1password4.csv":  # lower-case title,notes,username,password,url
        assert candidates(head) == ["1password-csv", "apple-csv"]
    else:
        assert guess_bytes(head) == fmt


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _semicolons(data: bytes) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


CSV_CORPUS = sorted(n for n in CORPUS if n.endswith(".csv"))


@pytest.mark.parametrize("name", CSV_CORPUS)
@pytest.mark.parametrize("variant", ["bom", "crlf", "bom+crlf", "semicolons"])
def test_mechanical_variants_read_the_same(name: str, variant: str) -> None:
    """A BOM, Windows line ends (CR inside multi-line notes too) or an Excel-style ';' re-save:
    the same records, no CR kept, the same fingerprints (so a re-import finds duplicates)."""
    fmt, _ = CORPUS[name]
    data = (REAL / name).read_bytes()
    changed = {
        "bom": b"\xef\xbb\xbf" + data,
        "crlf": _crlf(data),
        "bom+crlf": b"\xef\xbb\xbf" + _crlf(data),
        "semicolons": _semicolons(data),
    }[variant]
    plain, other = _read(fmt, data), _read(fmt, changed)
    assert [fingerprint(r) for r in other.records] == [fingerprint(r) for r in plain.records]
    assert all(
        "\r" not in r.notes and all("\r" not in f.value for f in r.fields) for r in other.records
    )
    if name == "passimport-1password4.csv":  # an ambiguous header stays ambiguous
        assert candidates(changed) == ["1password-csv", "apple-csv"]
    else:
        assert guess_bytes(changed) == fmt


@pytest.mark.parametrize(
    "name", ["passimport-lastpass.csv", "passimport-chrome.csv", "passimport-bitwarden.csv"]
)
def test_crlf_copy_of_an_imported_file_is_all_duplicates(home: Path, name: str) -> None:
    """Chrome and Edge on Windows and Bitwarden write CRLF: the copy of a file imported before
    adds nothing, and its multi-line note is the same note."""
    fmt, count = CORPUS[name]
    vault = Vault.create(home, "ann@example.com", "real import password")
    data = (REAL / name).read_bytes()
    first = import_report(vault, _read(fmt, data))
    again = import_report(vault, _read(fmt, _crlf(data)))
    assert len(first.added) == count and not again.added and len(again.duplicates) == count
    assert _titles(_read(fmt, _crlf(data)))["note"].notes == NOTE


def test_a_semicolon_file_that_cannot_be_read_says_how_to_fix_it() -> None:
    data = b'name;url;username;password\n"a"x;b;c;d\n'
    with pytest.raises(FormatError, match="commas"):
        _read("chrome-csv", data)


# -- LastPass, NordPass: not Chrome --------------------------------------------------------------
def test_lastpass_is_not_taken_for_chrome() -> None:
    data = (REAL / "passimport-lastpass.csv").read_bytes()
    with pytest.raises(FormatError, match="lastpass-csv"):
        _read("chrome-csv", data)
    titles = _titles(_read("lastpass-csv", data))
    ws = titles["dpbx@fner.ws"]
    assert ws.tags == ("Emails/WS",) and ws.notes == "For financial purpose only!"
    assert not any(
        f.name in ("extra", "grouping", "fav") for r in titles.values() for f in r.fields
    )
    assert titles["empty entry"].type == "note" and titles["empty entry"].tags == ("CornerCases",)


def test_lastpass_typed_notes_totp_and_favourite() -> None:
    """LastPass rows as its current export writes them: the totp and fav columns, a card note."""
    head, _, rest = (REAL / "passimport-lastpass.csv").read_bytes().partition(b"\n")
    rows = list(csv.reader(io.StringIO(rest.decode(), newline="")))
    header = head.decode().replace("password,extra", "password,totp,extra").split(",")
    rows = [r[:3] + ["JBSWY3DPEHPK3PXP" if r[4] == "aib" else ""] + r[3:] for r in rows]
    rows[0][-1] = "1"
    rows.append(
        [
            "http://sn",
            "",
            "",
            "",
            "NoteType:Credit Card\nLanguage:en-US\nName on Card:Ann\n"
            "Type:Visa\nNumber:4111111111111111\nSecurity Code:123\nStart Date:,\n"
            "Expiration Date:June,2029\nNotes:first\nsecond",
            "Visa",
            "Bank",
            "0",
        ]
    )
    out = io.StringIO(newline="")
    csv.writer(out).writerows([header, *rows])
    titles = _titles(_read("lastpass-csv", out.getvalue().encode()))
    assert titles["aib"].value("totp") == "JBSWY3DPEHPK3PXP"
    assert titles["mastodon.social"].favorite
    card = titles["Visa"]
    assert card.type == "credit-card" and card.value("number") == "4111111111111111"
    assert card.value("expiry") == "06/2029" and card.value("cvv") == "123"
    assert card.value("cardholder") == "Ann" and card.notes == "first\nsecond"


def test_nordpass_folder_rows_are_not_empty_notes() -> None:
    data = (REAL / "passimport-nordpass.csv").read_bytes()
    with pytest.raises(FormatError, match="nordpass-csv"):
        _read("chrome-csv", data)
    report = _read("nordpass-csv", data)
    assert sum("a folder, not an entry" in p.reason for p in report.problems) == 6
    titles = _titles(report)
    assert "Servers" not in titles and titles["aib"].tags == ("Bank",)
    assert titles["empty entry"].type == "note"  # a real (empty) entry, not a folder


def test_roboform_fields_are_not_doubled_and_folders_are_tags() -> None:
    titles = _titles(read_file("roboform-csv", REAL / "passimport-roboform.csv"))
    aib = titles["aib"]
    assert aib.tags == ("Bank",) and [f.name for f in aib.fields] == ["username", "password", "url"]
    assert titles["dpbx@fner.ws"].tags == ("Emails/WS",)


def test_keeper_custom_fields_totp_and_folders() -> None:
    titles = _titles(read_file("keeper-csv", REAL / "bitwarden-keeper.csv"))
    bar2 = titles["Bar 2"]
    assert bar2.tags == ("Foo/Baz",) and bar2.value("Account ID") == "23456"
    assert parse_totp(bar2.value("totp") or "").issuer == "Amazon"
    assert titles["Bar"].notes == "These are some notes."
    assert titles["Bar 1"].value("Org ID") == "54321"


# -- 1Password CSV ------------------------------------------------------------------------------
def test_1password6_mac_export_types_and_noise() -> None:
    titles = _titles(read_file("1password-csv", REAL / "passimport-1password6.csv"))
    assert titles["aib"].tags == ("Bank",)  # a Type that is not a category: kept as a tag
    assert titles["note"].type == "note"


def _1p6_rows() -> tuple[list[str], list[list[str]]]:
    text = (REAL / "passimport-1password6.csv").read_text()
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    return header, rows


def _write(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode()


def test_1password_mac_tags_cell_and_types() -> None:
    header, rows = _1p6_rows()
    header = [*header, "tags", "ccnum", "cvv", "expiry", "account key"]
    col = {n: i for i, n in enumerate(header)}
    rows = [r + [""] * 5 for r in rows]
    rows[0][col["tags"]] = '{(\n    web,\n    "two words"\n)}'
    card = [""] * len(header)
    card[col["Type"]], card[col["Title"]] = "Credit Card", "Visa"
    card[col["ccnum"]], card[col["cvv"]], card[col["expiry"]] = "4111111111111111", "123", "202904"
    card[col["account key"]] = "A3-XXXXXX"
    report = _read("1password-csv", _write(header, [*rows, card]))
    titles = _titles(report)
    assert titles["mastodon.social"].tags == ("Social", "web", "two words")
    visa = titles["Visa"]
    assert visa.type == "credit-card" and visa.value("number") == "4111111111111111"
    assert visa.value("cvv") == "123" and _kinds(visa)["account key"] is FieldKind.SECRET


def test_1password_mac_tags_cell_with_bare_quotes_is_not_refused() -> None:
    """1Password for Mac writes the tags cell with its inner quotes not doubled; the file was
    refused whole (',' expected after '"'). Every row is read, the tags kept."""
    header, rows = _1p6_rows()
    rows = [r + [""] for r in rows]
    rows[0][-1] = '{(\n    web,\n    "two words"\n)}'
    escaped = _write([*header, "tags"], rows)
    bare = escaped.replace(b'""two words""', b'"two words"')
    assert bare != escaped
    with pytest.raises(csv.Error):  # what the csv module alone makes of it
        list(csv.reader(io.StringIO(bare.decode(), newline=""), strict=True))
    report = _read("1password-csv", bare)
    assert len(report.records) == 14
    assert _titles(report)["mastodon.social"].tags == ("Social", "web", "two words")


def test_1password_windows_card_only_and_identity_only_exports() -> None:
    card = _read(
        "1password-csv",
        b"Title,cardholder,ccnum,cvv,expiry,notesPlain\nVisa,Ann,4111111111111111,123,04/2029,\n",
    )
    (visa,) = card.records
    assert visa.type == "credit-card" and visa.value("cardholder") == "Ann"
    who = _read("1password-csv", b"Title,firstname,lastname,email\nMe,Ann,Lee,ann@example.com\n")
    (me,) = who.records
    assert me.type == "identity" and me.value("last-name") == "Lee"


@pytest.mark.parametrize(
    "fmt, data",
    [
        ("chrome-csv", b"name,url,username,password,CVV,Recovery codes\nA,https://a,u,p,123,x y\n"),
        (
            "apple-csv",
            b"Title,URL,Username,Password,Notes,OTPAuth,Secret Key\nA,https://a,u,p,,,A3-B\n",
        ),
        ("bitwarden-csv", b"name,type,login_username,login_password,PIN\nA,login,u,p,1234\n"),
    ],
)
def test_an_unknown_column_that_says_secret_is_concealed(fmt: str, data: bytes) -> None:
    (rec,) = _read(fmt, data).records
    extra = [f for f in rec.fields if f.name not in ("username", "password", "url")]
    assert extra and all(f.kind is FieldKind.SECRET for f in extra)


# -- Firefox ------------------------------------------------------------------------------------
def test_firefox_account_row_is_left_out_and_counted() -> None:
    """pass-import's Firefox sample with the row Firefox adds for its own account."""
    data = (REAL / "passimport-firefox.csv").read_bytes().rstrip(b"\n") + (
        b'\n"chrome://FirefoxAccounts","a1b2c3","{""version"":1,""accountData"":{}}",'
        b'"Firefox Accounts credentials",,"{c8e5f207}","1780428127000","1785325338000",'
        b'"1780428127000"\n'
    )
    report = _read("firefox-csv", data)
    assert not any("FirefoxAccounts" in (r.value("url") or "") for r in report.records)
    assert left_out(report.problems) == {"Firefox account": 1}
    assert len(report.records) == CORPUS["passimport-firefox.csv"][1]


# -- Bitwarden ----------------------------------------------------------------------------------
def test_password_protected_bitwarden_export_says_so() -> None:
    """Without its export password (tests/test_import_locked.py opens it with one)."""
    with pytest.raises(FileSecretNeededError, match="export password"):
        read_file("bitwarden-json", REAL / "keepassxc-bitwarden_encrypted_export.json")
    account = json.dumps({"encrypted": True, "encKeyValidation_DO_NOT_EDIT": "2.x", "data": "2.y"})
    with pytest.raises(FormatError, match="account"):
        _read("bitwarden-json", account.encode())


def test_bitwarden_passkeys_are_counted_and_named() -> None:
    report = read_file("bitwarden-json", REAL / "keepassxc-bitwarden_passkey_export.json")
    assert [r.value("username") for r in report.records] == ["KPXC_BITWARDEN"] * 2
    assert left_out(report.problems) == {"passkey": 2}
    assert "passkey for webauthn.io" in report.problems[0].reason
    assert left_out_text(report.problems) == "2 passkeys"


def test_bitwarden_types_6_7_8_trash_attachments_and_unknown() -> None:
    doc = json.loads((REAL / "keepassxc-bitwarden_passkey_export.json").read_text())
    base = doc["items"][0]
    bank = {
        **base,
        "type": 6,
        "name": "Checking",
        "login": None,
        "bankAccount": {
            "bankName": "Example Bank",
            "nameOnAccount": "Alex Doe",
            "accountType": "Checking",
            "accountNumber": "000123",
            "routingNumber": "110000000",
            "branchNumber": "42",
            "pin": "1234",
            "swiftCode": "EXAMPLEX",
            "iban": "DE89370400440532013000",
            "bankContactPhone": "+1 555 0199",
        },
    }
    licence = {
        **base,
        "type": 7,
        "name": "Licence",
        "login": None,
        "driversLicense": {
            "firstName": "Alex",
            "middleName": "J",
            "lastName": "Doe",
            "dateOfBirth": "1990-05-17",
            "licenseNumber": "D1234",
            "issuingCountry": "US",
            "issuingState": "CA",
            "issueDate": "2020-01-15",
            "expirationDate": "2028-01-15",
            "issuingAuthority": None,
            "licenseClass": "C",
        },
    }
    passport = {
        **base,
        "type": 8,
        "name": "Passport",
        "login": None,
        "passport": {
            "surname": "Doe",
            "givenName": "Alex",
            "dateOfBirth": "17/05/1990",
            "sex": "M",
            "issuingCountry": "US",
            "passportNumber": "X123",
            "nationalIdentificationNumber": "N-1",
            "issueDate": "2020-01-01",
            "expirationDate": "2030-01-01",
        },
    }
    trashed = {**base, "name": "Old", "deletedDate": "2024-11-01T00:00:00.000Z"}
    attached = {
        **base,
        "name": "With file",
        "login": {"username": "u"},
        "attachments": [{"fileName": "scan.pdf", "size": "100"}],
    }
    future = {**base, "type": 99, "name": "Future"}
    doc["items"] = [bank, licence, passport, trashed, attached, future]
    report = _read("bitwarden-json", json.dumps(doc).encode())
    titles = _titles(report)
    b = titles["Checking"]
    assert b.type == "bank-account" and b.value("number") == "000123" and b.value("pin") == "1234"
    assert b.value("iban") == "DE89370400440532013000" and b.value("account type") == "Checking"
    lic = titles["Licence"]
    assert lic.type == "drivers-licence" and lic.value("full-name") == "Alex J Doe"
    assert lic.value("region") == "CA, US" and lic.value("expires") == "2028-01-15"
    pp = titles["Passport"]
    assert pp.type == "passport" and pp.value("number") == "X123" and pp.value("country") == "US"
    assert _kinds(pp)["national ID number"] is FieldKind.SECRET or pp.value("national ID number")
    assert "Old" not in titles
    assert left_out(report.problems) == {
        "attachment": 1,
        "item of an unknown type": 1,
        "trashed item": 1,
    }
    assert any("scan.pdf" in p.reason for p in report.problems)


# -- KeePass --------------------------------------------------------------------------------------
def test_keepass2_csv_is_read_and_points_at_the_xml_export() -> None:
    report = read_file("keepass-csv", REAL / "passimport-keepass2.csv")
    assert any("keepass-xml" in p.reason for p in report.problems)
    assert _titles(report)["aib"].value("url") == "https://onlinebanking.aib.ie"


def test_keepassx_04_xml_is_read_not_refused_as_a_dtd() -> None:
    titles = _titles(read_file("keepass-xml", REAL / "passimport-keepassx.xml"))
    assert titles["dpbx@fner.ws"].tags == ("Emails/WS",)
    assert titles["mastodon.social"].value("password") == "D<INNeT?#?Bf4%`zA/4i!/'$T"
    data = (
        (REAL / "passimport-keepassx.xml")
        .read_bytes()
        .replace(
            b"<comment>For financial purpose only!</comment>", b"<comment>one<br/>two</comment>"
        )
    )
    assert _titles(_read("keepass-xml", data))["dpbx@fner.ws"].notes == "one\ntwo"


def _keepass_entry(strings: dict[str, str], extra: str = "") -> bytes:
    body = "".join(f"<String><Key>{k}</Key><Value>{v}</Value></String>" for k, v in strings.items())
    return (
        "<KeePassFile><Root><Group><Name>Root</Name><Entry>"
        f"<String><Key>Title</Key><Value>Bank</Value></String>{body}{extra}"
        "</Entry></Group></Root></KeePassFile>"
    ).encode()


@pytest.mark.parametrize(
    "strings, digits, period, algorithm",
    [
        ({"TimeOtp-Secret-Base32": "JBSWY3DPEHPK3PXP", "TimeOtp-Length": "8"}, 8, 30, "SHA1"),
        ({"TimeOtp-Secret-Hex": "48656c6c6f21deadbeef", "TimeOtp-Period": "60"}, 6, 60, "SHA1"),
        (
            {"TimeOtp-Secret-Base64": "SGVsbG8h3q2+7w==", "TimeOtp-Algorithm": "HMAC-SHA-256"},
            6,
            30,
            "SHA256",
        ),
        (
            {
                "TimeOtp-Secret": "1234567890" * 6 + "1234",
                "TimeOtp-Algorithm": "HMAC-SHA-512",
                "TimeOtp-Length": "8",
            },
            8,
            30,
            "SHA512",
        ),
        ({"TOTP Seed": "JBSWY3DPEHPK3PXP", "TOTP Settings": "60;8"}, 8, 60, "SHA1"),
    ],
)
def test_keepass_timeotp_settings_give_the_right_codes(
    strings: dict[str, str], digits: int, period: int, algorithm: str
) -> None:
    (rec,) = _read("keepass-xml", _keepass_entry(strings)).records
    spec = parse_totp(rec.value("totp") or "")
    assert (spec.digits, spec.period, spec.algorithm) == (digits, period, algorithm)
    assert len(totp_code(spec, 1_700_000_000)) == digits
    assert not any(f.name.startswith(("TimeOtp", "TOTP")) for f in rec.fields)
    if "TimeOtp-Secret" in strings:  # RFC 6238's SHA-512 test vector: the right code
        assert totp_code(spec, 59) == "90693936"


def test_keepass_attachments_are_named_not_dropped() -> None:
    data = _keepass_entry(
        {"UserName": "ann"},
        '<Binary><Key>scan.pdf</Key><Value Ref="0"/></Binary>'
        '<Binary><Key>key.txt</Key><Value Ref="1"/></Binary>',
    )
    report = _read("keepass-xml", data)
    assert report.records[0].value("username") == "ann"
    assert left_out(report.problems) == {"attachment": 2}
    assert any("scan.pdf" in p.reason for p in report.problems)


# -- 1PUX ---------------------------------------------------------------------------------------
def _pux(items: list[dict[str, object]], tmp_path: Path) -> ImportReport:
    import zipfile

    doc = json.loads((DATA / "1password-1pux.export.data.json").read_text())
    doc["accounts"][0]["vaults"][0]["items"] = items
    path = tmp_path / "x.1pux"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("export.data", json.dumps(doc))
    return read_file("1password-1pux", path)


def test_1pux_trash_documents_ssh_keys_untitled_and_email_fields(tmp_path: Path) -> None:
    def item(title: str, category: str, **details: object) -> dict[str, object]:
        return {
            "uuid": title,
            "categoryUuid": category,
            "overview": {"title": title},
            "details": details,
            "createdAt": 1600000000,
            "updatedAt": 1600000000,
        }

    old = item("Old", "001")
    old["trashed"] = True
    doc = item(
        "Passport scan", "006", documentAttributes={"fileName": "scan.pdf", "documentId": "x"}
    )
    ssh = item(
        "Server",
        "114",
        sections=[
            {
                "title": "",
                "fields": [
                    {
                        "id": "private_key",
                        "title": "private key",
                        "value": {
                            "sshKey": {
                                "privateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nAAA\n-----END OPENSSH PRIVATE KEY-----",
                                "metadata": {
                                    "publicKey": "ssh-ed25519 AAAA",
                                    "fingerprint": "SHA256:abc",
                                    "keyType": "ed25519",
                                },
                            }
                        },
                    }
                ],
            }
        ],
    )
    untitled = item(
        "Untitled",
        "001",
        sections=[
            {
                "title": "",
                "fields": [
                    {
                        "id": "kpzpvkg6uxvzmvfwk2bbn3nfvu",
                        "title": "",
                        "value": {"concealed": "s3cret"},
                    }
                ],
            }
        ],
    )
    mail = item(
        "Mail",
        "111",
        sections=[
            {
                "title": "",
                "name": "",
                "fields": [
                    {"id": "pop_server", "title": "server", "value": {"string": "pop.example.com"}},
                    {"id": "pop_port", "title": "port number", "value": {"string": "995"}},
                ],
            },
            {
                "title": "SMTP",
                "name": "SMTP",
                "fields": [
                    {
                        "id": "smtp_server",
                        "title": "SMTP server",
                        "value": {"string": "smtp.example.com"},
                    },
                    {"id": "smtp_port", "title": "port number", "value": {"string": "587"}},
                ],
            },
        ],
    )
    report = _pux([old, doc, ssh, untitled, mail], tmp_path)
    titles = _titles(report)
    assert "Old" not in titles
    assert left_out(report.problems) == {"attachment": 1, "trashed item": 1}
    assert any("scan.pdf" in p.reason for p in report.problems)
    assert titles["Server"].value("public key") == "ssh-ed25519 AAAA"
    assert titles["Server"].value("fingerprint") == "SHA256:abc"
    u = titles["Untitled"]
    assert not any(re.fullmatch(r"[a-z0-9]{26}", f.name) for f in u.fields)
    assert _kinds(u)["secret"] is FieldKind.SECRET
    m = titles["Mail"]
    assert m.value("imap") == "pop.example.com" and m.value("smtp") == "smtp.example.com"
    assert m.value("port number") == "995" and m.value("SMTP port number") == "587"


# -- mSecure ------------------------------------------------------------------------------------
def test_msecure_legacy_expiry_year() -> None:
    data = b"Card|1,Credit Card,,,Card Number|12|4111111111111111,Expiration Date|11|04/0029,\n"
    (card,) = _read("msecure-csv", data).records
    assert card.value("expiry") == "04/2029"


# -- fuzz of the new readers ----------------------------------------------------------------------
NEW = ["lastpass-csv", "apple-csv", "nordpass-csv", "roboform-csv", "keeper-csv"]
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _typed_errors_only(fmt: str, data: bytes) -> None:
    try:
        _read(fmt, data)
    except (FormatError, InvalidInputError):
        pass


@pytest.mark.parametrize("fmt", NEW)
@FUZZ
@given(
    name=st.sampled_from(CSV_CORPUS),
    cut=st.integers(min_value=0, max_value=10**5),
    noise=st.binary(max_size=40),
    at=st.integers(min_value=0, max_value=10**5),
    semicolons=st.booleans(),
)
def test_fuzz_new_readers_on_damaged_real_files(
    fmt: str, name: str, cut: int, noise: bytes, at: int, semicolons: bool
) -> None:
    """Real samples cut short, with random bytes spliced in, maybe re-saved with ';': a report
    or one typed error, never anything else (exit 70 unreachable)."""
    data = (REAL / name).read_bytes()
    if semicolons:
        data = _semicolons(data)
    data = data[: cut % (len(data) + 1)]
    pos = at % (len(data) + 1)
    _typed_errors_only(fmt, data[:pos] + noise + data[pos:])
