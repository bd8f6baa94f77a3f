"""No token reaches the server's log, and an opened reset link is useless to whoever finds it.

`strongroom server` runs as a person starts it (its access log on); a device signs up and
uses its session, a reset link is opened and not confirmed. The log is read afterwards.
"""

from __future__ import annotations

import email
import re
from pathlib import Path

import httpx
from clikit import server_process
from resetform import submit_reset_form

from sync.cloud import CloudClient, CloudSync

from .helpers import add_login, sign_up


def _reset_link(outbox: Path) -> str:
    for path in sorted(outbox.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes())
        part = msg.get_payload()[0] if msg.is_multipart() else msg  # type: ignore[index]
        m = re.search(r"(http://\S+/reset/\S+)", part.get_payload(decode=True).decode())  # type: ignore[union-attr]
        if m:
            return m.group(1)
    raise AssertionError(f"no reset email in {outbox}")


def test_tokens_stay_out_of_the_log(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with server_process(
        tmp_path, "--db", str(tmp_path / "s.db"), "--outbox", str(outbox), stdout=out, stderr=err
    ) as url:
        vault, session = sign_up(url, tmp_path / "a")
        client = CloudClient(url)
        add_login(vault, "Bank")
        CloudSync(vault, client, session).sync_now()
        client.status(session)

        client.request_reset("alice@example.com")
        link = _reset_link(outbox)
        page = httpx.get(link)  # opened, not confirmed
        assert page.status_code == 200
        # the link's URL, wherever a copy of it lies, neither opens the page nor confirms again
        assert httpx.get(link).status_code == 410
        assert httpx.post(link, data={"confirm": "wipe"}).status_code == 410
        # the person's own page still confirms
        done = submit_reset_form(page, confirm="wipe")
        assert done.status_code == 200
        code = re.search(r'id="setup-code">([^<]+)<', done.text)
        assert code

    log = out.read_text() + err.read_text()
    link_token = link.rsplit("/", 1)[1]
    form_token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert form_token
    assert "/reset/" in log and "/v1/sync/push" in log, log  # the access log is on
    for secret in (session.token, link_token, form_token[1], code[1]):
        assert secret not in log, log
