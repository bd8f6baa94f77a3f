"""SMTP with a password goes only over TLS: implicit (smtps://) or STARTTLS that succeeds.

Real SMTP servers (aiosmtpd) on loopback with a certificate from a CA made in the test; the
client trusts it through STRONGROOM_CA_FILE as every Strongroom connection does."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from clikit import free_port
from tlskit import Certs, make_certs

from sync.errors import SourceUnavailableError
from sync.mail.delivery import MailError, compose, send_smtp


class Inbox:
    """What the server saw: the logins (and whether TLS was on then) and the messages."""

    def __init__(self) -> None:
        self.logins: list[tuple[bytes, bool]] = []
        self.messages: list[bytes] = []

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        self.logins.append((bytes(data.password), session.ssl is not None))
        return AuthResult(success=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    return make_certs(tmp_path / "certs")


@pytest.fixture
def trusted(certs: Certs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_CA_FILE", str(certs.ca))


def _server_context(certs: Certs) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs.cert, certs.key)
    return ctx


@pytest.fixture
def starttls(certs: Certs) -> Iterator[tuple[Inbox, int]]:
    yield from _serve(tls_context=_server_context(certs))


@pytest.fixture
def plain() -> Iterator[tuple[Inbox, int]]:
    """No STARTTLS on offer, and logins accepted in the clear (as a careless server would)."""
    yield from _serve(auth_require_tls=False)


def _serve(**options: Any) -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        **options,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _message() -> Any:
    return compose("ann@example.com", "Strongroom: test", "a reset link would be here")


def test_a_password_goes_over_starttls(trusted: None, starttls: tuple[Inbox, int]) -> None:
    inbox, port = starttls
    send_smtp(_message(), f"smtp://mailer:s3cret@localhost:{port}")
    assert inbox.logins == [(b"s3cret", True)]
    assert len(inbox.messages) == 1


def test_no_starttls_on_offer_means_no_password_sent(plain: tuple[Inbox, int]) -> None:
    inbox, port = plain
    with pytest.raises(MailError, match="does not offer STARTTLS"):
        send_smtp(_message(), f"smtp://mailer:s3cret@127.0.0.1:{port}")
    assert inbox.logins == [] and inbox.messages == []


def test_a_starttls_that_fails_is_not_a_fallback_to_plain(starttls: tuple[Inbox, int]) -> None:
    inbox, port = starttls  # the CA is not trusted here: the handshake fails
    with pytest.raises(SourceUnavailableError, match="CERTIFICATE_VERIFY_FAILED"):
        send_smtp(_message(), f"smtp://mailer:s3cret@localhost:{port}")
    assert inbox.logins == [] and inbox.messages == []


def test_a_password_goes_over_implicit_tls(trusted: None, certs: Certs) -> None:
    for inbox, port in _serve(ssl_context=_server_context(certs), auth_require_tls=False):
        send_smtp(_message(), f"smtps://mailer:s3cret@localhost:{port}")
        assert [password for password, _ in inbox.logins] == [b"s3cret"]
        assert len(inbox.messages) == 1


def test_without_a_password_plain_smtp_still_delivers(plain: tuple[Inbox, int]) -> None:
    inbox, port = plain
    send_smtp(_message(), f"smtp://127.0.0.1:{port}")
    assert inbox.logins == [] and len(inbox.messages) == 1
