"""The account server's emails: new device signed in, password hint, reset link, reset done.

Delivery is `delivery.deliver`'s: SMTP when a URL is configured, else `.eml` files in an outbox
folder, so a server with no mail setup still works (and tests read the outbox like an inbox).
No email carries a key, a password or a record; the reset link is single-use and expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .delivery import compose, deliver


@dataclass(frozen=True)
class Mailer:
    smtp_url: str | None
    outbox: Path

    def send(self, to: str, subject: str, text: str) -> str:
        return deliver(compose(to, subject, text), self.smtp_url, self.outbox)

    def new_device(self, to: str, device_name: str) -> str:
        return self.send(
            to,
            "Strongroom: a new device signed in",
            f"A new device signed in to your Strongroom account: {device_name}.\n\n"
            "If this was not you, change your Account Password from a signed-in device\n"
            "and sign the device out in Settings > Devices.\n",
        )

    def hint(self, to: str, hint: str) -> str:
        body = (
            f"Your Strongroom password hint is:\n\n    {hint}\n"
            if hint
            else "Your Strongroom account has no password hint.\n"
        )
        return self.send(
            to,
            "Strongroom: your password hint",
            body
            + "\nStrongroom never knows your Account Password, so it cannot tell you the password itself.\n",
        )

    def reset_link(self, to: str, url: str, minutes: int) -> str:
        return self.send(
            to,
            "Strongroom: account reset requested",
            "Someone (hopefully you) asked to reset your Strongroom account.\n\n"
            "Resetting WIPES every record stored in the cloud and the password. Only do this if\n"
            "you are locked out of every device. Open this link to read what happens and confirm:\n\n"
            f"    {url}\n\n"
            f"The link works once and expires in {minutes} minutes. If you did not ask for this,\n"
            "ignore this email: nothing changes.\n",
        )

    def reset_done(self, to: str) -> str:
        return self.send(
            to,
            "Strongroom: your account was reset",
            "Your Strongroom account was reset: the cloud data and the password were wiped.\n"
            "Choose a new Account Password in the app with the setup code shown on the reset page.\n"
            "Your devices keep what they held as an encrypted backup file.\n",
        )
