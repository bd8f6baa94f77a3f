"""Each kind of record offers what fits it (issue 20, items 10 and 12), by keys only: a secure
note's text is copied like a field and cleared from the clipboard; a card's number is masked in
the view and the form until revealed, its quick copies are number, security code and expiry (no
"Copy user", no "Copy code"), and an expiry such as 13/99 is refused with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilotkit import on_screen, typed, unlock, until
from textual.widgets import Input, Static
from textual.widgets._footer import FooterKey

from tui.app import StrongroomApp
from tui.clipboard import PLACEHOLDER
from tui.screens.records import EditRecordScreen, RecordDetailScreen
from tui.widgets.key_footer import KeyFooter
from tui.widgets.secret_input import SecretInput
from vault.records import new_record
from vault.vault import Vault

PW = "record kinds password"
NUMBER = "4111 1111 1111 1111"
BODY = "Front door 1234\nGarage 9876"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    v = Vault.create(h, "ann@example.com", PW)
    v.update_settings(clipboard_seconds=1)
    v.add(
        new_record(
            "credit-card",
            "Visa",
            {"cardholder": "Ann Example", "number": NUMBER, "expiry": "04/29", "cvv": "123"},
        )
    )
    v.add(new_record("note", "Door codes", notes=BODY))
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-pw"}))
    v.close()
    return h


def footer(app: StrongroomApp) -> list[str]:
    return [
        f"{k.key_display} {k.description}" for k in app.screen.query_one(KeyFooter).query(FooterKey)
    ]


def detail(app: StrongroomApp) -> str:
    return str(app.screen.query_one("#detail", Static).render())


async def open_record(pilot, title: str) -> None:  # type: ignore[no-untyped-def]
    await unlock(pilot, PW)
    await pilot.press("slash")
    await typed(pilot, title)
    await pilot.press("enter")
    await until(pilot, lambda: pilot.app.screen.query_one("#records").current is not None)
    await until(pilot, lambda: pilot.app.screen.query_one("#records").current.title == title)
    await pilot.press("enter")
    await on_screen(pilot, RecordDetailScreen)


@pytest.mark.parametrize("size", [(80, 24), (60, 18)])
async def test_a_notes_text_is_copied_and_cleared(home: Path, size: tuple[int, int]) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=size) as pilot:
        await open_record(pilot, "Door codes")
        assert "▸ Note" in detail(app) and "Garage 9876" in detail(app)
        keys = footer(app)
        assert "c Copy" in keys  # no "no field to copy"
        assert not {"u Copy user", "r Reveal", "n Copy number"} & set(keys)
        await pilot.press("c")
        assert app.clipboard == BODY and app.secret_clipboard.copied == BODY
        assert any("Copied the note" in str(n.message) for n in app._notifications)
        await until(pilot, lambda: app.secret_clipboard.copied is None, seconds=5)
        assert app.clipboard == PLACEHOLDER  # clipboard_seconds=1: taken back


async def test_a_records_notes_are_chosen_after_its_fields(home: Path, tmp_path: Path) -> None:
    v = Vault.open(home)
    v.unlock(PW)
    v.add(new_record("login", "Bank login", {"username": "ann"}, notes="Ask for Jo"))
    v.close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_record(pilot, "Bank login")
        await pilot.press("down")  # from Username to the notes
        assert "▸ Notes" in detail(app)
        await pilot.press("enter")
        assert app.clipboard == "Ask for Jo"


@pytest.mark.parametrize("size", [(80, 24), (60, 18)])
async def test_a_card_masks_its_number_and_offers_its_own_copies(
    home: Path, size: tuple[int, int]
) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=size) as pilot:
        await open_record(pilot, "Visa")
        assert NUMBER not in detail(app) and "Card number" in detail(app)
        keys = footer(app)
        assert "n Copy number" in keys or size[0] < 80  # at 60 columns only Back, Reveal, Copy
        assert not {"u Copy user", "o Copy code"} & set(keys)
        await pilot.press("u", "o")  # not the card's keys: nothing is copied
        assert app.secret_clipboard.copied is None
        await pilot.press("n")
        assert app.clipboard == NUMBER
        await pilot.press("v")
        assert app.clipboard == "123"
        await pilot.press("x")
        assert app.clipboard == "04/29"
        assert any("Copied the expiry date" in str(n.message) for n in app._notifications)
        assert NUMBER not in detail(app)  # copying never reveals
        await pilot.press("r")
        assert NUMBER in detail(app)
        await pilot.press("r")
        assert NUMBER not in detail(app)


async def test_a_login_keeps_copy_user_and_has_no_card_keys(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_record(pilot, "GitHub")
        keys = footer(app)
        assert "u Copy user" in keys and "r Reveal" in keys
        assert not {"n Copy number", "v Copy CVV", "x Copy expiry"} & set(keys)
        await pilot.press("n")
        assert app.secret_clipboard.copied is None


async def card_form(pilot) -> EditRecordScreen:  # type: ignore[no-untyped-def]
    await open_record(pilot, "Visa")
    await pilot.press("e")
    await on_screen(pilot, EditRecordScreen)
    return pilot.app.screen  # type: ignore[no-any-return]


async def test_the_forms_card_number_is_masked_until_shown(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await card_form(pilot)
        number = form.query_one("#f-number", Input)
        assert isinstance(number, SecretInput) and number.password
        assert "Generate password" not in " ".join(footer(app))  # a card has no password
        await pilot.press("tab", "tab")  # title, cardholder, number
        assert app.screen.focused is number
        await pilot.press("ctrl+r")
        assert not number.password
        await pilot.press("ctrl+r")
        assert number.password


async def expiry_typed(pilot, form: EditRecordScreen, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("tab", "tab", "tab")  # to the expiry
    field = form.query_one("#f-expiry", Input)
    assert pilot.app.screen.focused is field
    await pilot.press("end", *["backspace"] * len(field.value))
    await typed(pilot, text)
    await pilot.press("ctrl+s")


@pytest.mark.parametrize(
    ("typed_in", "words"),
    [
        ("13/99", "no month 13"),
        ("00/29", "no month 00"),
        ("12/99", "2099"),
        ("soon", "MM/YY"),
    ],
)
async def test_an_impossible_expiry_is_refused_with_the_reason(
    home: Path, typed_in: str, words: str
) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await card_form(pilot)
        await expiry_typed(pilot, form, typed_in)
        message = str(form.query_one("#message", Static).render())
        assert words in message and "expiry date" in message.lower()
        assert app.screen is form and app.screen.focused is form.query_one("#f-expiry")
    v = Vault.open(home)
    v.unlock(PW)
    card = next(v.record(s.id) for s in v.summaries() if s.title == "Visa")
    assert card.value("expiry") == "04/29"  # nothing saved


async def test_a_good_expiry_is_saved_tidied(home: Path) -> None:
    app = StrongroomApp(home=home)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await card_form(pilot)
        await expiry_typed(pilot, form, "7-2031")
        await on_screen(pilot, RecordDetailScreen)
    v = Vault.open(home)
    v.unlock(PW)
    card = next(v.record(s.id) for s in v.summaries() if s.title == "Visa")
    assert card.value("expiry") == "07/2031"
