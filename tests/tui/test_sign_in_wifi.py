"""Sign in on a new device from a Wi-Fi peer, keys only: a real WifiPeer of a second home serves
on 127.0.0.1 (zeroconf bound to loopback only, its timings shortened here as tests/wifi does)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_sign_in import EMAIL, PW, fill, fill_and_submit
from textual.widgets import Button, Static

from sync.wifi import WifiPeer
from tui.app import StrongroomApp
from tui.screens.account import SignInScreen, WelcomeScreen
from tui.widgets.record_list import RecordList
from vault.records import new_record
from vault.vault import Vault

LOOPBACK = ["127.0.0.1"]


@pytest.fixture(autouse=True)
def fast_mdns(monkeypatch: pytest.MonkeyPatch) -> None:
    import zeroconf._core as core

    monkeypatch.setattr(core, "_CHECK_TIME", 10)
    monkeypatch.setattr(core, "_REGISTER_TIME", 10)
    monkeypatch.setattr(core, "_UNREGISTER_TIME", 10)


@pytest.fixture
def first(tmp_path: Path) -> Iterator[Vault]:
    """The account's first device, unlocked, holding two records."""
    v = Vault.create(tmp_path / "first", EMAIL, PW)
    v.add(new_record("login", "GitHub", {"username": "ann", "password": "gh-secret"}))
    v.add(new_record("note", "Door codes", notes="1234"))
    yield v
    v.close()


def _wifi(kit: str, password: str = PW) -> dict[str, str]:
    return {"#email": EMAIL, "#password": password, "#kit": kit, "#interface": "127.0.0.1"}


async def test_sign_in_from_a_device_on_the_network(tmp_path: Path, first: Vault) -> None:
    app = StrongroomApp(home=tmp_path / "new-device", kit_dir=tmp_path)
    async with WifiPeer(first, LOOPBACK), app.run_test(size=(100, 30)) as pilot:
        msg, seen = await fill_and_submit(pilot, app, "wifi", _wifi(first.slot.kit.to_typed_code()))
        assert msg == "", seen
        assert sorted(r.title for r in app.screen.query_one(RecordList).rows) == [
            "Door codes",
            "GitHub",
        ]
    assert app.vault is not None and app.vault.settings()["sync"] == {
        "method": "wifi",
        "interfaces": LOOPBACK,
    }


async def test_wifi_rejections_are_explained(
    tmp_path: Path, first: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SignInScreen, "wifi_timeout", 1.0)
    old_code = first.slot.kit.to_typed_code()
    stranger = Vault.create(tmp_path / "stranger", "bob@example.com", "bob password 1")
    app = StrongroomApp(home=tmp_path / "new-device", kit_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        # nobody on the network: the search is shown while it runs, then why it failed
        msg, seen = await fill_and_submit(pilot, app, "wifi", _wifi(old_code))
        assert any("Looking for a device of this account on 127.0.0.1" in m for m in seen), seen
        assert "no unlocked device of this account answered on 127.0.0.1 within 1 s" in msg
        # only a device of another account there: it is never used
        async with WifiPeer(stranger, LOOPBACK):
            msg, _ = await fill_and_submit(pilot, app, "wifi", _wifi(old_code))
        assert "no unlocked device of this account answered" in msg
        # a wrong password is refused before the network is used
        msg, seen = await fill_and_submit(pilot, app, "wifi", _wifi(old_code, "not the password"))
        assert "password" in msg.lower() and not any("Looking" in m for m in seen)
        # the password was changed on the other device since this Kit was made
        monkeypatch.setattr(
            SignInScreen, "wifi_timeout", 3.0
        )  # time to find the peer under load (it waits it out)
        first.change_password("newer password 2")
        async with WifiPeer(first, LOOPBACK):
            msg, _ = await fill_and_submit(pilot, app, "wifi", _wifi(old_code))
            assert (
                "none accepted this Kit and password" in msg
                and "was the password changed since this Kit was made" in msg
            )
            # the new Kit and password work
            monkeypatch.setattr(
                SignInScreen, "wifi_timeout", 10.0
            )  # returns as soon as the peer answers
            msg, seen = await fill_and_submit(
                pilot, app, "wifi", _wifi(first.slot.kit.to_typed_code(), "newer password 2")
            )
            assert msg == "", seen
    assert app.vault is not None and app.vault.slot.epoch == first.slot.epoch
    stranger.close()


async def test_missing_and_mistyped_fields_are_named(tmp_path: Path) -> None:
    """Checked before anything slow starts, in the Sync screen's words."""
    app = StrongroomApp(home=tmp_path / "new-device", kit_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        msg, _ = await fill_and_submit(pilot, app, "wifi", {"#email": EMAIL, "#password": PW})
        assert msg == "Fill in Kit."
        msg, _ = await fill_and_submit(
            pilot, app, "wifi", {"#kit": "KNJAC", "#interface": "192.168.1"}
        )
        assert "“192.168.1” is not an IP address" in msg
        msg, _ = await fill_and_submit(pilot, app, "server", {})
        assert msg == "Fill in server URL."
        msg, _ = await fill_and_submit(pilot, app, "server", {"#server": "vault.example.com"})
        assert "Give the account server's address, for example https://" in msg
        msg, _ = await fill_and_submit(pilot, app, "folder", {"#folder": "Dropbox/Strongroom"})
        assert "Give the full path of the folder" in msg
        msg, _ = await fill_and_submit(pilot, app, "folder", {"#folder": str(tmp_path / "nowhere")})
        assert "does not exist" in msg
        assert not (tmp_path / "new-device").exists()


async def test_escape_waits_for_a_running_sign_in(
    tmp_path: Path, first: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leaving mid-way would strand a half-made account: escape says so until the worker is done."""
    monkeypatch.setattr(SignInScreen, "wifi_timeout", 1.5)
    app = StrongroomApp(home=tmp_path / "new-device", kit_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await fill(pilot, app, "wifi", _wifi(first.slot.kit.to_typed_code()))
        await pilot.press("ctrl+s")  # nobody serves: it looks for 1.5 s
        await pilot.press("escape")
        assert app.screen is screen
        for _ in range(200):
            if not screen.query_one("#go", Button).disabled:
                break
            await pilot.pause(0.05)
        assert "no unlocked device" in str(screen.query_one("#message", Static).render())
        await pilot.press("escape")
        assert isinstance(app.screen, WelcomeScreen)
