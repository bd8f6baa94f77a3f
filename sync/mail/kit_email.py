"""The Authentication Kit email, built on the device (a server or SMTP relay only carries it)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from vault.keys import KeySlot

from .delivery import compose, deliver


def kit_subject(when: datetime) -> str:
    return f"IMPORTANT: Strongroom Account QR Code - {when:%Y-%m-%d}"


def build_kit_email(slot: KeySlot, png: bytes, pdf: bytes, when: datetime) -> EmailMessage:
    """A message to the account's address with the Kit PNG and PDF attached.

    The body names the account but holds no code: the attachments carry the Encrypted Account
    Key, which is useless without the Account Password.
    """
    msg = compose(
        slot.email,
        kit_subject(when),
        f"Your Strongroom Authentication Kit for {slot.email} (Account ID {slot.account_id}), "
        f"made {when:%Y-%m-%d %H:%M} UTC.\n\n"
        "To sign in on a new device you need two things: your Account Password and this Kit "
        "(the QR code in the attached PNG or PDF, or the code typed from the PDF).\n\n"
        "Keep this email, or print the PDF and store it somewhere safe. Nobody can open your vault "
        "with the Kit alone. When you change your Account Password a new Kit is made and this one "
        "stops working.\n",
        when,
    )
    base = f"Strongroom-Authentication-Kit-{slot.account_id}"
    msg.add_attachment(png, maintype="image", subtype="png", filename=f"{base}.png")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{base}.pdf")
    return msg


def send_kit_email(slot: KeySlot, smtp_url: str | None, outbox: Path) -> str:
    """Render the current Kit, build its email and deliver it; returns where it went, for the user."""
    from vault.kitfile import pdf_bytes, png_bytes

    when = datetime.now(UTC)
    png = png_bytes(slot.kit)
    pdf = pdf_bytes(slot.kit, email=slot.email, account_id=slot.account_id, created=when)
    return deliver(build_kit_email(slot, png, pdf, when), smtp_url, outbox)
