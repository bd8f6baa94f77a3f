"""The reset pages in a real browser: headless Chromium (Debian's) driven by Playwright.

A person opens the link from the real outbox, ticks the box, confirms and reads the setup code;
the code then works in the app. The same walk works with JavaScript off (the pages have none),
every page arrives with its security headers and shows no console error (a style or icon the
Content-Security-Policy refused would be one), and a second visit to a used link says it was
already used. Only
127.0.0.1 is reached: the browser starts with networking side channels off.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.cloud import CloudClient
from sync.server.runner import ServerThread
from sync.server.service import ServerConfig

from .conftest import make_config
from .helpers import sign_up
from .test_reset import body, outbox

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is missing (pip install -e '.[test]')"
)

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMAIL = "alice@example.com"
HEADERS = {  # what every reset page must send (issue 18 item 11)
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def assert_guarded(response: sync_api.Response) -> None:
    """The security headers reached the browser with the page."""
    headers = response.all_headers()
    assert {name: headers.get(name) for name in HEADERS} == HEADERS
    policy = headers.get("content-security-policy", "")
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    """One Chromium for the module; Playwright gives each launch a new empty profile folder."""
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ServerThread, ServerConfig]]:
    config = make_config((str(tmp_path / "server.db"), None), tmp_path)
    with ServerThread(config) as srv:
        yield srv, config


class Tab:
    """One browser page that keeps what its console and scripts reported."""

    def __init__(self, page: sync_api.Page) -> None:
        self.page = page
        self.errors: list[tuple[str, str]] = []  # (message, URL it is about)
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append((str(e), "")))

    def _console(self, message: sync_api.ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append((message.text, message.location.get("url", "")))

    def open(self, url: str) -> sync_api.Response:
        response = self.page.goto(url)
        assert response is not None
        return response

    def submit(self) -> sync_api.Response:
        with self.page.expect_navigation() as nav:
            self.page.get_by_role("button", name="Reset the account").click()
        return nav.value

    def text(self) -> str:
        return self.page.inner_text("body")


def emailed_link(srv: ServerThread, config: ServerConfig) -> str:
    """Ask for a reset and take the link from the reset email in the real outbox."""
    CloudClient(srv.url).request_reset(EMAIL)
    mails = [m for m in outbox(config) if "reset requested" in str(m["Subject"])]
    assert len(mails) == 1
    found = re.search(r"(http\S+/reset/\S+)", body(mails[0]))
    assert found and found.group(1).startswith(config.base_url)
    # the email names the configured public address; this server listens on a random port
    return srv.url + found.group(1).removeprefix(config.base_url.rstrip("/"))


def walk(tab: Tab, link: str) -> str:
    """The reset as a person does it; returns the setup code the last page shows."""
    first = tab.open(link)
    assert first.status == 200
    # the policy admits the page's own style: the warning box is drawn in red
    warn = tab.page.locator(".warn").evaluate("e => getComputedStyle(e).borderTopColor")
    assert warn == "rgb(187, 0, 0)"
    assert tab.page.title() == "Reset your Strongroom account"
    text = tab.text()
    for words in ("wipes", "every record stored in the cloud", "keeps", "never sees a password"):
        assert words in text
    assert EMAIL in text
    refused = tab.submit()  # the box is not ticked: nothing happens but a reminder
    assert refused.status == 400 and "Tick the box to confirm the reset." in tab.text()
    tab.page.get_by_label("I understand that all cloud data").check()
    done = tab.submit()
    assert done.status == 200
    assert tab.page.title() == "Account reset"
    assert f"The account {EMAIL} was reset." in tab.text()
    code = tab.page.inner_text("#setup-code")
    assert re.fullmatch(r"[0-9A-F]{6}(-[0-9A-F]{6}){3}", code)
    again = tab.open(link)  # the same link a second time
    assert again.status == 410
    assert "this reset link was already used" in tab.text()
    assert "Reset the account" not in tab.text()
    for response in (first, refused, done, again):
        assert_guarded(response)
    return code


def console_errors(tab: Tab, link: str) -> list[tuple[str, str]]:
    """Console errors, less Chromium's own note on the 400 and 410 asserted in `walk` (of the
    link, or of the form it posts to /reset)."""
    form = link.split("/reset/", 1)[0] + "/reset"
    return [
        (text, url)
        for text, url in tab.errors
        if not (url in (link, form) and re.search(r"status of (400|410)\b", text))
    ]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_reset_in_the_browser(
    browser: sync_api.Browser,
    server: tuple[ServerThread, ServerConfig],
    tmp_path: Path,
    javascript: bool,
) -> None:
    srv, config = server
    sign_up(srv.url, tmp_path / "a", EMAIL)
    context = browser.new_context(java_script_enabled=javascript)
    try:
        tab = Tab(context.new_page())
        link = emailed_link(srv, config)
        code = walk(tab, link)
    finally:
        context.close()
    assert console_errors(tab, link) == []
    # the code the page showed is the one the app takes
    slot, keys, _ = CloudClient(srv.url).complete_reset(
        EMAIL, code, "brand new password", "", "devb", "b"
    )
    assert slot.generation == 2 and keys.generation == 2
