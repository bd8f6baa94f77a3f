"""Account reset walked as a person would: emailed link → page → confirm → new password in the app.

Also: used, expired and replayed links fail; devices that meet the reset keep their data as an
encrypted backup and are told to sign in again; identical answers for unknown emails.
"""

from __future__ import annotations

import email
import re
from email.message import Message
from pathlib import Path

import httpx
import pytest
from resetform import submit_reset_form

from sync.cloud import CloudAccountResetError, CloudClient, CloudSync, keep_as_backup, save_session
from sync.server.runner import ServerThread
from sync.server.service import ServerConfig
from vault.backup import read_backup
from vault.errors import KitError
from vault.vault import Vault

from .conftest import make_config
from .helpers import PASSWORD, add_login, sign_in, sign_up, titles


def outbox(config: ServerConfig) -> list[Message]:
    if not config.outbox.exists():
        return []
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(config.outbox.glob("*.eml"))]


def body(msg: Message) -> str:
    part = (
        msg.get_payload(decode=True)
        if not msg.is_multipart()
        else msg.get_payload()[0].get_payload(decode=True)
    )
    assert isinstance(part, bytes)
    return part.decode()


def test_reset_walkthrough(server: ServerThread, config: ServerConfig, tmp_path: Path) -> None:
    a, sa = sign_up(server.url, tmp_path / "a")
    add_login(a, "Old secret")
    client = CloudClient(server.url)
    CloudSync(a, client, sa).sync_now()
    old_kit = a.slot.kit

    client.request_reset("alice@example.com")
    client.request_reset("nobody@example.com")  # same answer, no email
    mails = [m for m in outbox(config) if "reset requested" in str(m["Subject"])]
    assert len(mails) == 1 and mails[0]["To"] == "alice@example.com"
    link = re.search(r"(http://\S+/reset/\S+)", body(mails[0]))
    assert link
    url = link.group(1).replace(config.base_url, server.url)

    page = httpx.get(url)
    assert page.status_code == 200
    text = page.text
    for words in (
        "wipes",
        "every record stored in the cloud",
        "keeps",
        "plan",
        "never sees a password",
    ):
        assert words in text
    # submitting without ticking the box changes nothing
    refused = submit_reset_form(page)
    assert refused.status_code == 400 and "Tick the box" in refused.text
    done = submit_reset_form(refused, confirm="wipe")
    assert done.status_code == 200
    code_m = re.search(r'id="setup-code">([^<]+)<', done.text)
    assert code_m
    code = code_m.group(1)
    # the link and the form are single-use
    assert httpx.get(url).status_code == 410
    assert httpx.post(url, data={"confirm": "wipe"}).status_code == 410
    assert submit_reset_form(page, confirm="wipe").status_code == 410

    # the old device meets the reset: told so, keeps its data as an encrypted backup
    with pytest.raises(CloudAccountResetError):
        CloudSync(a, client, sa).sync_now()
    kept = keep_as_backup(a)
    _, _, envs = read_backup(kept, PASSWORD)
    assert envs

    # the person chooses a new password in the app, with the setup code
    slot, keys, session = client.complete_reset(
        "alice@example.com", code, "brand new password", "", "devc", "c"
    )
    assert slot.account_id == a.slot.account_id and slot.generation == 2 and keys.generation == 2
    c = Vault.adopt(tmp_path / "c", slot, keys, [])
    save_session(c, session)
    assert CloudSync(c, client, session).sync_now().received == 0  # the cloud data is gone
    add_login(c, "Fresh")
    CloudSync(c, client, session).sync_now()
    # the setup code works once
    with pytest.raises(Exception, match="not valid"):
        client.complete_reset("alice@example.com", code, "again", "", "devd", "d")
    # the pre-reset Kit is refused; the new one signs in
    with pytest.raises(KitError):
        client.signin_with_kit("alice@example.com", PASSWORD, old_kit, "devd", "d")
    d, _ = sign_in(
        server.url, tmp_path / "d", "alice@example.com", c.slot.kit, "brand new password"
    )
    assert titles(d) == {"Fresh"}
    assert client.status(session)["plan"] == "free"


def test_expired_and_unknown_links(db_target: tuple[str, str | None], tmp_path: Path) -> None:
    config = make_config(db_target, tmp_path, reset_link_ttl_s=-1)
    with ServerThread(config) as server:
        sign_up(server.url, tmp_path / "a")
        CloudClient(server.url).request_reset("alice@example.com")
        mail = next(m for m in outbox(config) if "reset requested" in str(m["Subject"]))
        link = re.search(r"/reset/(\S+)", body(mail))
        assert link
        assert httpx.get(f"{server.url}/reset/{link.group(1)}").status_code == 410
        assert (
            httpx.post(f"{server.url}/reset/{link.group(1)}", data={"confirm": "wipe"}).status_code
            == 410
        )
        assert httpx.get(f"{server.url}/reset/made-up-token").status_code == 410
