"""Sign in on a new device from a real account server on 127.0.0.1 (random port), keys only:
the vault downloads with progress shown; unreachable server, wrong password, a Kit made before a
password change and one made before an account reset are each explained."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_sign_in import EMAIL, PW, fill_and_submit

from sync.cloud import CloudClient, CloudSync, save_session
from sync.method import change_password, configure
from sync.server.runner import ServerThread
from sync.server.service import ServerConfig
from tui.app import StrongroomApp
from tui.screens.account import KitScreen
from tui.screens.records import RecordListScreen
from tui.widgets.record_list import RecordList
from vault.records import new_record
from vault.vault import Vault


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ServerThread, ServerConfig]]:
    config = ServerConfig(database=str(tmp_path / "server.db"), outbox=tmp_path / "outbox")
    with ServerThread(config) as srv:
        yield srv, config


@pytest.fixture
def first(server: tuple[ServerThread, ServerConfig], tmp_path: Path) -> Iterator[Vault]:
    """The account's first device: signed up on the server, three records uploaded."""
    v = Vault.create(tmp_path / "first", EMAIL, PW)
    client = CloudClient(server[0].url)
    session = client.signup(v.slot, v.keys, v.device, "laptop")
    save_session(v, session)
    configure(v, "cloud", server=server[0].url)
    for title in ("GitHub", "Gmail", "Bank"):
        v.add(new_record("login", title, {"username": "ann", "password": f"{title}-secret"}))
    CloudSync(v, client, session).sync_now()
    yield v
    client.close()
    v.close()


def _server(url: str, kit: str, password: str = PW) -> dict[str, str]:
    return {"#email": EMAIL, "#password": password, "#kit": kit, "#server": url}


def _reset_mail(config: ServerConfig) -> str:
    """The text of the reset email the server wrote to its outbox folder."""
    for path in sorted(config.outbox.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes())
        if "reset requested" in str(msg["Subject"]):
            part: Any = msg.get_payload()[0] if msg.is_multipart() else msg  # type: ignore[index]
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no reset email")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_sign_in_from_the_account_server(
    server: tuple[ServerThread, ServerConfig], first: Vault, tmp_path: Path
) -> None:
    url = server[0].url
    app = StrongroomApp(home=tmp_path / "new-device", kit_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        msg, seen = await fill_and_submit(
            pilot, app, "server", _server(url, first.slot.kit.to_typed_code())
        )
        assert msg == "", seen
        assert re.fullmatch(r"Downloading… \d+ of \d+", seen[-1]), seen
        assert sorted(r.title for r in app.screen.query_one(RecordList).rows) == [
            "Bank",
            "GitHub",
            "Gmail",
        ]
    assert app.vault is not None and app.vault.settings()["sync"] == {
        "method": "cloud",
        "server": url,
    }


async def test_server_rejections_are_explained(
    server: tuple[ServerThread, ServerConfig], first: Vault, tmp_path: Path
) -> None:
    srv, config = server
    code = first.slot.kit.to_typed_code()
    app = StrongroomApp(home=tmp_path / "new-device", kit_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        msg, _ = await fill_and_submit(
            pilot, app, "server", _server(f"http://127.0.0.1:{_closed_port()}", code)
        )
        assert "cannot reach the server" in msg
        msg, _ = await fill_and_submit(
            pilot, app, "server", _server(srv.url, code, "not the password")
        )
        assert "password" in msg.lower()
        # the password was changed on the first device: this Kit is outdated
        change_password(first, "newer password 2")
        msg, _ = await fill_and_submit(pilot, app, "server", _server(srv.url, code))
        assert "use the latest Kit" in msg
        new_code = first.slot.kit.to_typed_code()
        # the account is reset (emailed link, confirmed on the page): the Kit before it is refused
        CloudClient(srv.url).request_reset(EMAIL)
        link = re.search(r"(http://\S+/reset/\S+)", _reset_mail(config))
        assert link
        page = httpx.post(link.group(1).replace(config.base_url, srv.url), data={"confirm": "wipe"})
        assert page.status_code == 200
        msg, _ = await fill_and_submit(
            pilot, app, "server", _server(srv.url, new_code, "newer password 2")
        )
        assert "account reset" in msg
        assert not (tmp_path / "new-device" / "vault.db").exists()
        # the setup code from the reset page: a new password chosen here, a new Kit shown
        setup = re.search(r'id="setup-code">([^<]+)<', page.text)
        assert setup
        reset = {
            "#password": "brand new password 3",
            "#reset-code": setup.group(1),
            "#repeat": "brand new pass",
        }
        msg, _ = await fill_and_submit(pilot, app, "server", reset)
        assert msg == "The two passwords differ."
        msg, _ = await fill_and_submit(
            pilot, app, "server", {**reset, "#repeat": "brand new password 3"}
        )
        assert msg == "" and isinstance(app.screen, KitScreen)
        assert app.vault is not None and app.vault.slot.generation == 2
        assert (
            tmp_path / f"Strongroom-Authentication-Kit-{app.vault.slot.account_id}.png"
        ).exists()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, RecordListScreen)  # the cloud data was wiped by the reset
