"""Each reader on a fixture built to its manager's documented export layout (tests/data/import)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vault.importers import ImportReport, read_file
from vault.records import Record
from vault.templates import FieldKind
from vault.totp import parse_totp

DATA = Path(__file__).parent / "data" / "import"


def _by_title(report: ImportReport) -> dict[str, Record]:
    return {r.title: r for r in report.records}


def _kinds(rec: Record) -> dict[str, FieldKind]:
    return {f.name: f.kind for f in rec.fields}


def _problems(report: ImportReport) -> list[str]:
    return [str(p) for p in report.problems]


def test_bitwarden_json() -> None:
    report = read_file("bitwarden-json", DATA / "bitwarden.json")
    assert report.counts() == {"credit-card": 1, "custom": 1, "identity": 1, "login": 3, "note": 1}
    fm = report.records[0]
    assert fm.title == 'Fastmail, "work"' and fm.favorite and fm.tags == ("Email",)
    assert fm.value("password") == 'p@ss, "word"\nsecond line'
    assert (
        fm.value("url") == "https://www.fastmail.com/login"
        and fm.value("url 2") == "https://app.fastmail.com"
    )
    assert parse_totp(fm.value("totp") or "").issuer == "Fastmail"
    assert _kinds(fm)["Recovery code"] is FieldKind.SECRET and fm.value("Account no.") == "12345"
    assert fm.field("Linked") is None
    assert fm.notes == 'line one\nline two, with comma\n"quoted"'
    assert fm.created == 1641092645.0 and fm.modified == 1706933106.789
    assert [h.fields[0].value for h in fm.history] == ["old-pass-1"]
    titles = _by_title(report)
    card = titles["Visa"]
    assert (card.value("number"), card.value("expiry"), card.value("cvv"), card.tags) == (
        "4111111111111111",
        "04/2029",
        "123",
        ("金融 / Finance",),
    )
    me = titles["Me"]
    assert me.value("address") == "1 Main St\n62701 Springfield\nIL\nUS"
    assert _kinds(me)["social security number"] is FieldKind.SECRET
    assert titles["מפתח 🔑 note"].type == "note" and "🎉" in titles["מפתח 🔑 note"].notes
    assert _kinds(titles["Server key"])["private key"] is FieldKind.SECRET
    # an empty title is kept empty (shown as "No Title"), a bad TOTP is kept, concealed, and reported
    untitled = titles[""]
    assert untitled.value("one-time password (not recognised)") == "not base32 !!"
    problems = _problems(report)
    assert any(p.startswith("item 5: TOTP secret not recognised") for p in problems)
    assert "item 7: empty entry (no title, fields or notes)" in problems
    assert any(p.startswith("item 8: unknown Bitwarden item type 99") for p in problems)
    assert any(p.startswith("item 9: not a JSON object") for p in problems)
    # two records share a title: both kept
    assert sum(r.title == 'Fastmail, "work"' for r in report.records) == 2


def test_bitwarden_csv() -> None:
    report = read_file("bitwarden-csv", DATA / "bitwarden.csv")
    tw = report.records[0]
    assert report.sources[0] == "line 2"
    assert tw.title == 'Twitter, "X"' and tw.favorite and tw.tags == ("Social",)
    assert tw.value("password") == 'pw,"1"' and tw.value("totp") == "JBSWY3DPEHPK3PXP"
    assert tw.value("url") == "https://twitter.com" and tw.value("url 2") == "https://x.com"
    assert tw.value("Security question") == "first pet" and tw.notes == "notes with\nnewline"
    titles = _by_title(report)
    assert titles["Wi-Fi at home 🏠"].type == "note"
    assert titles[""].tags == ("家族",)
    assert len(titles["Long note"].notes) > 20000
    problems = _problems(report)
    assert any(p.startswith("line 8: TOTP secret not recognised") and "hotp" in p for p in problems)
    assert any(p.startswith("line 9: unknown Bitwarden item type 'card'") for p in problems)


def test_1password_csv() -> None:
    report = read_file("1password-csv", DATA / "1password.csv")
    gh, bank, note = report.records
    assert gh.favorite and gh.tags == ("dev", "work") and gh.notes == "two\nlines"
    assert parse_totp(gh.value("totp") or "").label == "GitHub:octocat"
    assert gh.value("Custom column") == "extra value"
    assert bank.tags == ("1Password archive",) and not bank.favorite
    assert note.type == "note" and note.title == "Ünïcödé ✓ עברית"
    assert _problems(report) == ["line 6: empty entry (no title, fields or notes)"]


def test_keepass_csv() -> None:
    report = read_file("keepass-csv", DATA / "keepass.csv")
    top, work, note = report.records
    assert top.tags == () and top.modified == 1729411018.0
    assert (
        work.tags == ("Email/Work",)
        and work.value("password") == 'w,pw"'
        and work.notes == "Line1\nLine2"
    )
    assert parse_totp(work.value("totp") or "").period == 30
    assert work.created == 1672531200.0
    assert note.type == "note" and note.title == "" and note.tags == ("Email",)


def test_keepass_xml() -> None:
    report = read_file("keepass-xml", DATA / "keepass.xml")
    bank, work, note = report.records
    assert bank.title == "Bank 🏦 مصرف" and bank.tags == ("vip", "shared")
    assert bank.value("password") == 'kp&ss "w", ü' and bank.value("username") == "ann"
    assert bank.notes == 'Line <one>\nLine "two", with comma'
    assert (
        _kinds(bank)["Memorable word"] is FieldKind.SECRET
        and bank.value("Customer number") == "C-42"
    )
    assert parse_totp(bank.value("totp") or "").issuer == "Bank"
    assert bank.created == 1617602828.0 and bank.modified == 1704164645.0
    assert work.tags == ("Email/Work",) and work.value("totp") == "JBSWY3DPEHPK3PXP"
    assert note.notes == "Untitled note" and note.tags == ("Email",)
    assert all(
        "Deleted one" != r.title and "old" not in r.title for r in report.records
    )  # bin, history
    assert _problems(report) == ["entry 4: empty entry (no title, fields or notes)"]


def test_chrome_csv() -> None:
    report = read_file("chrome-csv", DATA / "chrome.csv")
    first = report.records[0]
    assert first.title == "Example, Inc." and first.value("password") == 'p,w "q"\nline2'
    assert first.notes == "note 😀" and first.value("extra col") == "custom value"
    titles = _by_title(report)
    assert titles["no-name.example"].value("username") == "bob"
    assert titles["日本語サイト"].value("password") == "パスワード"
    assert report.sources == ["line 2", "line 4", "line 5", "line 7", "line 9"]


def test_firefox_csv() -> None:
    report = read_file("firefox-csv", DATA / "firefox.csv")
    acc, intra, jp = report.records
    assert (
        acc.title == "accounts.example.com"
        and acc.created == 1700000000.123
        and acc.modified == 1700000400.456
    )
    assert acc.field("form action") is None  # same as the URL: not repeated
    assert (
        intra.value("http realm") == "Intranet realm"
        and intra.value("password") == 'pw, with "quotes"'
    )
    assert jp.title == "日本.example" and jp.value("username") is None


def test_msecure_csv() -> None:
    report = read_file("msecure-csv", DATA / "msecure.csv")
    titles = _by_title(report)
    bw = titles["Bitwarden"]
    assert (bw.value("username"), bw.value("password"), bw.value("url")) == (
        "bitwarden user",
        "bitpassword",
        "bitwarden.com",
    )
    ex = titles["Example"]
    assert ex.value("username") == "username || lol" and ex.notes == "This is a note |\nsecond line"
    assert titles["Website with a tag"].tags == ("tag holding it",)
    card = titles["myCreditCard"]
    assert card.type == "credit-card"
    assert (
        card.value("number"),
        card.value("expiry"),
        card.value("cvv"),
        card.value("cardholder"),
        card.value("pin"),
        card.value("issuer"),
    ) == ("41111111111111111", "05/2026", "123", "John Doe", "1234", "Visa")
    bank = titles['Quoted, title "x" 🎉']
    assert (
        bank.type == "bank-account"
        and bank.tags == ("Finance", "Family")
        and bank.notes == "multi\nline note"
    )
    assert bank.value("routing") == "021000021" and bank.value("Branch") == "Main St"
    assert titles["Router"].type == "wifi" and titles["Router"].value("ssid") == "home-net"
    gadget = titles["Gadget"]
    assert (
        gadget.type == "custom"
        and gadget.tags == ("Frequent Flyer",)
        and gadget.value("Member ID") == "FF123"
    )
    assert _problems(report) == ["line 9: only 1 cell; an mSecure row has at least 4"]


def test_1password_1pux() -> None:
    """A 1PUX zip (export.data beside it as 1password-1pux.export.data.json, for reading)."""
    report = read_file("1password-1pux", DATA / "1password.1pux")
    gh, card, note, wifi, key, alarm = report.records
    assert gh.title == "GitHub" and gh.favorite and gh.tags == ("Personal", "dev", "work")
    assert (gh.value("username"), gh.value("password")) == ("ann@example.com", 'p@ss, "w"\nline')
    assert (
        parse_totp(gh.value("totp") or "").issuer == "GitHub"
        and gh.value("url 2") == "https://gist.github.com"
    )
    assert _kinds(gh)["Recovery codes"] is FieldKind.SECRET and gh.field("remember") is None
    assert gh.created == 1600000000.0 and gh.modified == 1700000000.0
    assert [h.fields[0].value for h in gh.history] == ["older-pass"]
    assert (
        card.type,
        card.value("number"),
        card.value("expiry"),
        card.value("cvv"),
        card.value("issuer"),
    ) == ("credit-card", "4111111111111111", "04/2029", "123", "First Bank")
    assert note.type == "note" and note.tags == ("Personal", "1Password archive")
    assert (wifi.type, wifi.value("ssid"), wifi.value("password")) == (
        "wifi",
        "home-net",
        "wifi-pass",
    )
    assert _kinds(key)["private key"] is FieldKind.SECRET
    assert alarm.type == "password" and alarm.tags == ("Shared 家族",)
    assert _problems(report) == [
        "item 6: not a JSON object",
        "item 7: empty entry (no title, fields or notes)",
    ]


@pytest.mark.parametrize(
    "fmt,name",
    [
        ("bitwarden-json", "bitwarden.json"),
        ("bitwarden-csv", "bitwarden.csv"),
        ("1password-csv", "1password.csv"),
        ("1password-1pux", "1password.1pux"),
        ("keepass-csv", "keepass.csv"),
        ("keepass-xml", "keepass.xml"),
        ("chrome-csv", "chrome.csv"),
        ("firefox-csv", "firefox.csv"),
        ("msecure-csv", "msecure.csv"),
    ],
)
def test_every_record_is_well_formed(fmt: str, name: str) -> None:
    """Template fields carry the template's kind, no empty values, reports hide secrets."""
    from vault.templates import template

    report = read_file(fmt, DATA / name)
    assert report.records
    for rec in report.records:
        tpl = template(rec.type)
        for f in rec.fields:
            assert f.value.strip()
            spec = tpl.spec(f.name)
            if spec is not None:
                assert f.kind is spec.kind
        pw = rec.value("password")
        if pw and len(pw) > 3:
            assert pw not in repr(rec) and pw not in repr(report)


def test_a_malformed_otpauth_uri_is_kept_not_fatal() -> None:
    import io

    from vault.importers import read_stream

    data = b"Title,Url,Username,Password,OTPAuth\nX,https://x,u,p,otpauth://[totp/x?secret=JBSWY3DPEHPK3PXP\n"
    report = read_stream("1password-csv", io.BytesIO(data))
    assert report.records[0].value("one-time password (not recognised)") is not None
    assert report.problems[0].where == "line 2" and not report.problems[0].skipped
