"""The reset pages carry headers that keep the link's token and the setup code to this page only.

Each page a person meets (confirm, confirm again, done, link no longer valid) is fetched from a
real server; the policy must also let the page's own inline style through, or a browser would
show it unstyled.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
from resetform import submit_reset_form

from sync.cloud import CloudClient
from sync.server.runner import ServerThread
from sync.server.service import ServerConfig

from .helpers import sign_up
from .test_reset import body, outbox


def _check_headers(r: httpx.Response) -> None:
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    csp = dict(
        (part.strip().split(" ", 1) + [""])[:2]
        for part in r.headers["content-security-policy"].split(";")
    )
    assert csp["default-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert csp["form-action"] == "'self'"
    styles = re.findall(r"<style>(.*?)</style>", r.text, re.S)
    assert styles, "the page keeps its inline style"
    for style in styles:  # allowed by hash, not by 'unsafe-inline'
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp["style-src"].split()
    assert "<script" not in r.text


def test_every_reset_page_sends_security_headers(
    server: ServerThread, config: ServerConfig, tmp_path: Path
) -> None:
    sign_up(server.url, tmp_path / "a")
    CloudClient(server.url).request_reset("alice@example.com")
    (mail,) = [m for m in outbox(config) if "reset requested" in str(m["Subject"])]
    link = re.search(r"(http://\S+/reset/\S+)", body(mail))
    assert link
    url = link.group(1).replace(config.base_url, server.url)

    pages = [httpx.get(url)]  # confirm
    pages.append(submit_reset_form(pages[0]))  # not ticked: asked again
    pages.append(submit_reset_form(pages[1], confirm="wipe"))  # done, with the setup code
    pages.append(httpx.get(url))  # used: not valid any more
    pages.append(httpx.get(f"{server.url}/reset/no-such-token"))
    assert [p.status_code for p in pages] == [200, 400, 200, 410, 410]
    for page in pages:
        _check_headers(page)
