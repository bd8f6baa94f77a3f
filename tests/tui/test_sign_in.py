"""Sign in on a new device from the sync folder, keys only: every rejection reason shown plainly,
then a good Kit (typed code or the Kit's PNG) opens the account's records."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.widgets import Button, Input, Static

from sync.folder import FolderSync
from tui.app import StrongroomApp
from tui.screens.account import SOURCES, KitScreen, SignInScreen, WelcomeScreen
from tui.screens.records import RecordListScreen
from tui.widgets.record_list import RecordList
from vault.kitcode import KitPayload
from vault.kitfile import render_png
from vault.records import new_record
from vault.vault import Vault

PW = "sign in password"
EMAIL = "ann@example.com"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A sync folder holding the account's data.mssb, written by its first device."""
    f = tmp_path / "Dropbox"
    f.mkdir()
    first = Vault.create(tmp_path / "first", EMAIL, PW)
    first.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret"}))
    FolderSync(first, f).sync_now()
    (tmp_path / "kit.txt").write_text(first.slot.kit.to_typed_code())
    render_png(first.slot.kit, tmp_path / "kit.png")
    first.close()
    return f


def _kit(tmp_path: Path) -> KitPayload:
    return KitPayload.from_typed_code((tmp_path / "kit.txt").read_text())


async def _type(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


async def _paste(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """What a terminal sends for a paste (bracketed paste), as people enter a long code or path."""
    pilot.app.focused.post_message(events.Paste(text))
    await pilot.pause()


async def _tab_to(pilot, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Move the focus with tab only (a path field may first accept its completion)."""
    target = pilot.app.screen.query_one(selector)
    for _ in range(20):
        if pilot.app.focused is target:
            return
        await pilot.press("tab")
    raise AssertionError(f"tab never reached {selector}")


async def fill_and_submit(
    pilot, app: StrongroomApp, source: str, fields: dict[str, str]
) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Fill the sign-in form with keys only, choose the source, press ctrl+s.

    Returns the final message ('' once the record list or a new Kit opens) and every message seen meanwhile.
    """
    screen = await fill(pilot, app, source, fields)
    go, message = screen.query_one("#go", Button), screen.query_one("#message", Static)
    await pilot.press("ctrl+s")
    seen: list[str] = []
    for _ in range(400):
        msg = str(
            message.render()
        )  # still readable once the screen is gone: the last progress shown
        if msg and (not seen or seen[-1] != msg):
            seen.append(msg)
        if isinstance(
            app.screen, RecordListScreen | KitScreen
        ):  # KitScreen: a new Kit after a reset
            while not app.screen.is_mounted:
                await pilot.pause(0.02)
            await pilot.pause()
            return "", seen
        if msg and not go.disabled:
            return msg, seen
        await pilot.pause(0.05)
    raise AssertionError(f"sign-in neither failed nor succeeded; messages: {seen}")


async def fill(pilot, app: StrongroomApp, source: str, fields: dict[str, str]) -> SignInScreen:  # type: ignore[no-untyped-def]
    """Open the sign-in screen if needed and fill it in tab order, choosing the source on the way."""
    if not isinstance(app.screen, SignInScreen):
        await pilot.press("i")
    screen = app.screen
    assert isinstance(screen, SignInScreen)
    for selector in (
        "#email",
        "#password",
        "#kit",
        "#source",
        "#folder",
        "#interface",
        "#server",
        "#reset-code",
        "#repeat",
    ):  # tab order
        if selector == "#source":
            if screen.source != source:
                await _tab_to(pilot, "#source")
                for _ in range(3):
                    if screen.source == source:
                        break
                    ahead = SOURCES.index(source) > SOURCES.index(screen.source)
                    await pilot.press("right" if ahead else "left")
            assert screen.source == source
            continue
        text = fields.get(selector)
        field = screen.query_one(selector, Input)
        if text is None or field.value == text:
            continue  # kept from the previous attempt, as a person would
        await _tab_to(pilot, selector)
        await pilot.press("end", "ctrl+u")  # clear what an earlier attempt left
        if selector in ("#password", "#repeat"):
            await _type(pilot, text)
        else:  # pasted, as people enter an address, a long code or a path (and 10x faster here)
            await _paste(pilot, text)
    return screen


async def _sign_in(pilot, app: StrongroomApp, folder: Path, password: str, kit: str) -> str:  # type: ignore[no-untyped-def]
    """Sign in from the folder; the message shown, or '' once the record list opens."""
    fields = {"#email": EMAIL, "#password": password, "#kit": kit, "#folder": str(folder)}
    return (await fill_and_submit(pilot, app, "folder", fields))[0]


async def _titles(pilot, app: StrongroomApp) -> list[str]:  # type: ignore[no-untyped-def]
    """The list's titles once it has loaded them (it loads in a worker after its first paint)."""
    lst = app.screen.query_one(RecordList)
    for _ in range(100):
        if lst.rows:
            break
        await pilot.pause(0.05)
    return [r.title for r in lst.rows]


async def test_every_rejection_is_explained_then_the_typed_code_signs_in(
    tmp_path: Path, folder: Path
) -> None:
    app = StrongroomApp(home=tmp_path / "new-device", kit_dir=tmp_path)
    code = _kit(tmp_path).to_typed_code()
    other = Vault.create(
        tmp_path / "other", "bob@example.com", "bob password 1"
    ).slot.kit.to_typed_code()
    (tmp_path / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n not really an image")
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, WelcomeScreen)
        msg = await _sign_in(pilot, app, folder, PW, str(tmp_path / "garbage.png"))
        assert "could not be read" in msg or "no qr" in msg.lower()
        msg = await _sign_in(pilot, app, folder, PW, str(tmp_path / "[/b]" / "missing.pdf"))
        assert "no file at" in msg and "[/b]" in msg  # shown as text, not read as markup
        typo = code[:-1] + ("A" if code[-1] != "A" else "B")
        assert "typo" in (await _sign_in(pilot, app, folder, PW, typo))
        msg = await _sign_in(pilot, app, folder, PW, other)  # the folder holds another account
        assert "different account" in msg and "another account's Kit" in msg
        assert "password" in (await _sign_in(pilot, app, folder, "not the password", code)).lower()
        assert await _sign_in(pilot, app, folder, PW, code) == ""
        assert await _titles(pilot, app) == ["GitHub"]
        assert app.vault is not None and app.vault.slot.email == EMAIL


async def test_kit_png_signs_in_and_an_outdated_kit_is_refused(
    tmp_path: Path, folder: Path
) -> None:
    old_png = tmp_path / "old-kit.png"
    (tmp_path / "kit.png").rename(old_png)
    first = Vault.open(tmp_path / "first")
    first.unlock(PW)
    first.change_password("new sign in password")
    FolderSync(first, folder).sync_now()
    render_png(first.slot.kit, tmp_path / "kit.png")
    first.close()
    app = StrongroomApp(home=tmp_path / "new-device", kit_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        assert "outdated" in await _sign_in(pilot, app, folder, PW, str(old_png))
        assert (
            await _sign_in(pilot, app, folder, "new sign in password", str(tmp_path / "kit.png"))
            == ""
        )
        assert await _titles(pilot, app) == ["GitHub"]


async def test_kit_and_folder_paths_complete_with_tab(tmp_path: Path, folder: Path) -> None:
    """A person types the start of each path and lets tab finish it, then signs in."""
    app = StrongroomApp(home=tmp_path / "new-device", kit_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, SignInScreen)
        kit, where = screen.query_one("#kit", Input), screen.query_one("#folder", Input)
        await _tab_to(pilot, "#kit")
        await _paste(pilot, f"{tmp_path}/ki")
        await _type(
            pilot, "t.p"
        )  # kit.png and kit.txt: only the image is a Kit file with this start
        await pilot.pause(0.3)
        await pilot.press("tab")
        assert kit.value == f"{tmp_path}/kit.png" and app.focused is kit
        await _tab_to(pilot, "#folder")
        await _paste(pilot, f"{tmp_path}/Dr")
        await pilot.pause(0.3)
        await pilot.press("right")  # → accepts too; folders only here, with their trailing slash
        assert where.value == f"{folder}/"
        msg, _ = await fill_and_submit(pilot, app, "folder", {"#email": EMAIL, "#password": PW})
        assert msg == ""
        assert [r.title for r in app.screen.query_one(RecordList).rows] == ["GitHub"]


async def test_no_kit_needed_when_the_folder_holds_the_saved_account_key(
    tmp_path: Path, folder: Path
) -> None:
    app = StrongroomApp(home=tmp_path / "new-device", kit_dir=tmp_path)
    fields = {"#email": EMAIL, "#password": PW, "#folder": str(folder)}
    async with app.run_test(size=(100, 30)) as pilot:
        msg, _ = await fill_and_submit(pilot, app, "folder", fields)
        assert "holds no saved account key, so your Authentication Kit is needed" in msg
        assert "--kit" not in msg  # the app's words, not the CLI's
        first = Vault.open(tmp_path / "first")
        first.unlock(PW)
        FolderSync(first, folder).save_account_key(
            True
        )  # the opt-in iCloud behaviour, set on the first device
        first.close()
        msg, _ = await fill_and_submit(pilot, app, "folder", fields)
        assert msg == ""
        assert [r.title for r in app.screen.query_one(RecordList).rows] == ["GitHub"]
