"""Security Center over real Record objects: weak, reused, old, counts, score, no values leaked."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from vault.audit import audit, audited_fields, last_changed
from vault.errors import InvalidInputError
from vault.records import Field, HistoryEntry, Record, iso, new_record, revise
from vault.strength import estimate
from vault.templates import FieldKind

NOW = 1_800_000_000.0
DAY = 86400.0
STRONG = "vN7#qT2!zR8@wK4$"
STRONG2 = "Lp9&xC3^mB6*hF1%"
WEAK = "password123"


def login(title: str, password: str, *, age_days: float = 10, username: str = "alice") -> Record:
    r = new_record(
        "login", title, {"username": username, "password": password, "url": "https://example.com"}
    )
    t = NOW - age_days * DAY
    return replace(r, created=t, modified=t)


def all_text(report_json: dict[str, object], text: str) -> str:
    return json.dumps(report_json) + text


def test_weak_reused_old_and_clean() -> None:
    records = [
        login("Mail", WEAK),
        login("Bank", STRONG),
        login("Shop", STRONG, username="bob"),
        login("Forum", STRONG2, age_days=400),
        login("Fresh", "Qz5!rW8#tY2$uI6^"),
    ]
    report = audit(records, NOW)
    assert report.records == 5 and report.checked == 5
    assert [(f.title, f.field) for f in report.weak] == [("Mail", "password")]
    assert "weak" in report.weak[0].detail
    assert len(report.reused) == 1
    assert sorted(f.title for f in report.reused[0]) == ["Bank", "Shop"]
    assert all(f.detail == "same as 1 other" for f in report.reused[0])
    assert [f.title for f in report.old] == ["Forum"]
    assert report.old[0].detail == "unchanged since " + iso(NOW - 400 * DAY)[:10]
    assert report.counts() == {
        "records": 5,
        "checked": 5,
        "weak": 1,
        "reused": 2,
        "reused_groups": 1,
        "old": 1,
        "flagged": 4,
    }
    assert report.score == 20  # only "Fresh" is clean


def test_report_never_contains_a_password() -> None:
    secrets_used = [WEAK, STRONG, "hunter2", "Tr0ub4dor&3"]
    records = [login(f"Site {i}", pw, age_days=500) for i, pw in enumerate(secrets_used + [STRONG])]
    report = audit(records, NOW)
    assert report.weak and report.reused and report.old
    blob = all_text(report.to_json(), report.to_text()) + repr(report)
    for pw in secrets_used:
        assert pw not in blob
    assert "Security score" in report.to_text()


def test_reuse_groups_three_and_ignores_same_record_duplicates() -> None:
    custom = Field("recovery password", FieldKind.SECRET, STRONG2)
    solo = replace(login("Solo", STRONG2), fields=login("Solo", STRONG2).fields + (custom,))
    group = [login(t, STRONG) for t in ("A", "B", "C")]
    report = audit([solo, *group, login("D", STRONG2 + "x")], NOW)
    assert report.checked == 6
    assert len(report.reused) == 1
    assert sorted(f.title for f in report.reused[0]) == ["A", "B", "C"]
    assert all(f.detail == "same as 2 others" for f in report.reused[0])


def test_reuse_across_templates_and_custom_secret_fields() -> None:
    wifi = new_record("wifi", "Home Wi-Fi", {"ssid": "home", "password": STRONG})
    email = new_record(
        "email-account",
        "Work mail",
        {"email": "a@b.c", "password": "x"},
        extra=(Field("backup", FieldKind.SECRET, STRONG),),
    )
    report = audit([wifi, email], NOW)
    assert {(f.title, f.field) for f in report.reused[0]} == {
        ("Home Wi-Fi", "password"),
        ("Work mail", "backup"),
    }


def test_fields_that_are_not_passwords_are_skipped() -> None:
    licence = new_record(
        "software-licence", "Editor", {"product": "ed", "licence-key": "AAAA-BBBB"}
    )
    card = new_record(
        "credit-card", "Visa", {"number": "4111111111111111", "cvv": "123", "pin": "1234"}
    )
    note = new_record("note", "Diary", notes="my password is hunter2")
    empty = new_record("login", "No password yet", {"username": "x", "password": ""})
    totp_only = new_record("login", "2FA", {"username": "y", "totp": "JBSWY3DPEHPK3PXP"})
    records = [licence, card, note, empty, totp_only]
    assert all(audited_fields(r) == [] for r in records)
    report = audit(records, NOW)
    assert report.records == 5 and report.checked == 0
    assert report.score == 100 and not (report.weak or report.reused or report.old)


def test_deleted_records_are_skipped() -> None:
    report = audit([None, login("Live", WEAK), None], NOW)
    assert report.records == 1 and report.checked == 1 and len(report.weak) == 1


def test_empty_vault() -> None:
    report = audit([], NOW)
    assert report.score == 100 and report.checked == 0
    assert report.to_json()["counts"] == {
        "records": 0,
        "checked": 0,
        "weak": 0,
        "reused": 0,
        "reused_groups": 0,
        "old": 0,
        "flagged": 0,
    }


def test_old_uses_history_not_the_last_edit() -> None:
    created = NOW - 800 * DAY
    changed = NOW - 500 * DAY
    title_edit = NOW - 5 * DAY
    r = replace(
        login("Old", STRONG),
        created=created,
        modified=title_edit,
        history=(
            HistoryEntry(created, (Field("password", FieldKind.SECRET, "previous-1"),)),
            HistoryEntry(changed, (Field("pin", FieldKind.PIN, "0000"),)),
        ),
    )
    # the password's replacement happened at the revision after `created`: the next entry's time
    assert last_changed(r, "password") == changed
    assert [f.title for f in audit([r], NOW).old] == ["Old"]
    # only the title changed recently and the password was never replaced: still old
    never = replace(login("Never", STRONG2), created=created, modified=title_edit)
    assert last_changed(never, "password") == created
    assert len(audit([never], NOW).old) == 1
    # replaced, and no later entry: the record's last change is the bound
    recent = replace(
        login("Recent", STRONG2),
        created=created,
        modified=NOW - 3 * DAY,
        history=(HistoryEntry(NOW - 600 * DAY, (Field("password", FieldKind.SECRET, "p"),)),),
    )
    assert last_changed(recent, "password") == NOW - 3 * DAY
    assert audit([recent], NOW).old == []


def test_revise_resets_the_age() -> None:
    old = login("Rotated", STRONG, age_days=800)
    rotated = revise(old, replace(old, fields=(Field("password", FieldKind.SECRET, STRONG2),)))
    assert rotated.history and audit([rotated], time.time()).old == []
    assert len(audit([old], time.time()).old) == 1


def test_old_days_is_configurable_and_reported() -> None:
    r = login("Month", STRONG, age_days=40)
    assert audit([r], NOW).old == []
    report = audit([r], NOW, old_days=30)
    assert len(report.old) == 1
    assert "over 30 days" in report.to_text() and report.to_json()["old_days"] == 30
    with pytest.raises(InvalidInputError, match="zero days or more"):
        audit([r], NOW, old_days=-1)


def test_title_and_username_count_against_strength() -> None:
    pw = "GithubAlice1"
    assert estimate(pw).score == 3
    report = audit([login("Github", pw, username="alice"), login("Other", pw, username="bob")], NOW)
    # weak where the site and user give it away; fair-to-strong elsewhere (one zxcvbn run per context)
    assert [f.title for f in report.weak] == ["Github"]
    assert len(report.reused) == 1


def test_long_passwords_do_not_crash_and_are_judged_by_their_start() -> None:
    """A pasted novel is judged by its first 100 characters, so auditing it cannot freeze the app
    (the time it takes is measured in bench/, not here)."""
    records = [login(f"Long {i}", "k9#" * 30 + str(i)) for i in range(20)] + [
        login("Huge", "x" * 5000)
    ]
    report = audit(records, NOW)
    assert report.checked == 21
    assert any(f.title == "Huge" for f in report.weak)  # 100 x's are as weak as 5,000


def test_many_records_with_shared_passwords_run_zxcvbn_once_per_password_and_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Strength is computed once per distinct password and context, so 500 records stay cheap."""
    import vault.strength as strength

    real, has_max = strength._zxcvbn()
    calls: list[str] = []

    def counting(password: str, **kw: object) -> object:
        calls.append(password)
        return real(password, **kw)

    monkeypatch.setattr(strength, "_zxcvbn", lambda: (counting, has_max))
    records = [login("Same site", WEAK if i % 2 else STRONG) for i in range(500)]
    report = audit(records, NOW)
    assert report.checked == 500 and len(report.weak) == 250 and len(report.reused) == 2
    assert sorted(calls) == sorted([WEAK, STRONG])


@pytest.mark.parametrize("length", [72, 73, 100, 101, 10_000])
def test_strength_of_long_passwords(length: int) -> None:
    """zxcvbn refuses over 72 characters by default; estimate examines only the first 100."""
    pw = ("Zq8!" * 3000)[:length]
    s = estimate(pw)
    assert 0 <= s.score <= 4 and s.guesses_log10 > 0
    assert s == estimate(pw[:100])


def test_strength_labels_and_advice() -> None:
    empty = estimate("")
    assert (empty.score, empty.label) == (0, "very weak") and empty.suggestions
    weak = estimate("password")
    assert weak.score == 0 and weak.label == "very weak" and weak.warning
    strong = estimate("correct-horse-battery-staple-Zq8!")
    assert strong.score == 4 and strong.label == "very strong"
    assert strong.crack_time_display == strong.crack_time and "centur" in strong.crack_time_display
    assert "qwertyuiop" not in repr(estimate("qwertyuiop"))
