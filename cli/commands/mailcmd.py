"""`kit --email`: build the Kit email here and deliver it (SMTP from STRONGROOM_SMTP or settings, else the outbox)."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..invocation import Context
from .kitfiles import write_kit

if TYPE_CHECKING:
    from vault.vault import Vault


def email_kit(ctx: Context, vault: Vault) -> None:
    from sync.mail import deliver
    from vault.kitmail import build_kit_email

    with tempfile.TemporaryDirectory() as tmp:
        png, pdf = Path(tmp) / "kit.png", Path(tmp) / "kit.pdf"
        write_kit(vault.slot, png, pdf)
        msg = build_kit_email(vault.slot, png.read_bytes(), pdf.read_bytes(), datetime.now(UTC))
    smtp = os.environ.get("STRONGROOM_SMTP") or vault.settings().get("smtp")
    where = deliver(msg, smtp, ctx.home / "outbox")
    print(f"Authentication Kit email {where}", file=sys.stderr)
