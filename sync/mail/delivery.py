"""Composing and delivering email: by SMTP when a URL is configured, else as .eml files in an outbox.

SMTP URLs: `smtp://[user:pass@]host[:port]` (STARTTLS when the server offers it) or
`smtps://…` (implicit TLS). With a user name, a password crosses the connection, so TLS is a
must: implicit, or STARTTLS that the server offers and that succeeds, verified against the trusted
CAs (sync/tls.py, so STRONGROOM_CA_FILE too); otherwise nothing is sent. Without credentials
STARTTLS is used when offered. The outbox keeps things working with no mail server at all.
"""

from __future__ import annotations

import os
import smtplib
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from vault.durable import write_private_atomic

from ..errors import SourceUnavailableError, SyncError
from ..tls import trusted_context

SENDER = "Strongroom <no-reply@strongroom.invalid>"


class MailError(SyncError):
    """Email could not be handed to the SMTP server or written to the outbox."""


def compose(to: str, subject: str, text: str, when: datetime | None = None) -> EmailMessage:
    """A plain-text message from Strongroom with the headers every one of our emails carries."""
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when or datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="strongroom.invalid")
    msg.set_content(text)
    return msg


def send_smtp(msg: EmailMessage, url: str, timeout: float = 15.0) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError(
            f"not an SMTP URL: {parts.scheme}://{parts.hostname or ''} (use smtp://host:port or smtps://…)"
        )
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    try:
        client: smtplib.SMTP
        if parts.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                parts.hostname, port, timeout=timeout, context=trusted_context()
            )
        else:
            client = smtplib.SMTP(parts.hostname, port, timeout=timeout)
        with client:
            client.ehlo()
            if parts.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=trusted_context())  # fails rather than fall back
                client.ehlo()
            elif parts.scheme == "smtp" and parts.username:
                raise MailError(
                    f"the SMTP server {parts.hostname}:{port} does not offer STARTTLS, so the "
                    "password would cross the network in the clear; nothing was sent (use "
                    "smtps:// for implicit TLS, or a server that offers STARTTLS)"
                )
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise SourceUnavailableError(
            f"cannot send email through {parts.hostname}:{port}: {exc}"
        ) from None


def write_outbox(msg: EmailMessage, outbox: Path) -> Path:
    """Write the message as an .eml file (owner-only), atomically; returns its path."""
    try:
        outbox.mkdir(parents=True, exist_ok=True, mode=0o700)  # reset links, Kits: owner-only
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(4).hex()}.eml"
        path = outbox / name
        write_private_atomic(path, msg.as_bytes())
    except OSError as exc:
        raise MailError(
            f"cannot write email to the outbox {outbox}: {exc.strerror or exc}"
        ) from None
    return path


def deliver(msg: EmailMessage, smtp_url: str | None, outbox: Path) -> str:
    """Send by SMTP if configured, else into the outbox; returns where it went, for the user."""
    if smtp_url:
        send_smtp(msg, smtp_url)
        return f"sent to {msg['To']}"
    return f"saved to {write_outbox(msg, outbox)} (no SMTP server configured)"
