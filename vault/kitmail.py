"""The Authentication Kit email, built on the device (a server or SMTP relay only carries it)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from .keys import KeySlot

SENDER = "Strongroom <no-reply@strongroom.invalid>"


def kit_subject(when: datetime) -> str:
    return f"IMPORTANT: Strongroom Account QR Code - {when:%Y-%m-%d}"


def build_kit_email(
    slot: KeySlot, png: bytes, pdf: bytes, when: datetime, sender: str = SENDER
) -> EmailMessage:
    """A message to the account's address with the Kit PNG and PDF attached.

    The body names the account but holds no code: the attachments carry the Encrypted Account
    Key, which is useless without the Account Password.
    """
    msg = EmailMessage()
    msg["Subject"] = kit_subject(when)
    msg["From"] = sender
    msg["To"] = slot.email
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain="strongroom.invalid")
    msg.set_content(
        f"Your Strongroom Authentication Kit for {slot.email} (Account ID {slot.account_id}), "
        f"made {when:%Y-%m-%d %H:%M} UTC.\n\n"
        "To sign in on a new device you need two things: your Account Password and this Kit "
        "(the QR code in the attached PNG or PDF, or the code typed from the PDF).\n\n"
        "Keep this email, or print the PDF and store it somewhere safe. Nobody can open your vault "
        "with the Kit alone. When you change your Account Password a new Kit is made and this one "
        "stops working.\n"
    )
    base = f"Strongroom-Authentication-Kit-{slot.account_id}"
    msg.add_attachment(png, maintype="image", subtype="png", filename=f"{base}.png")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{base}.pdf")
    return msg
