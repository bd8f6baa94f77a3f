"""The server-rendered reset pages: plain HTML, no scripts, readable without a browser's help.

A person arrives from the emailed link, reads what a reset wipes and what it keeps, ticks a
confirmation and submits; the last page gives the setup code the app asks for. The server never
sees a password, so the new one is chosen in the app, as the page says.
"""

from __future__ import annotations

import base64
import hashlib
import html

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.5}"
    ".warn{border:2px solid #b00;padding:1em}code{font-size:1.3em}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

# Sent with every reset page: nothing but our own inline style runs or loads, the form posts only
# back here, no site frames the page (clickjacking the confirm button), the link's token never
# leaves in a Referer, and no cache keeps the page (or its setup code). The one image is the
# empty data: icon that spares the browser a /favicon.ico request (a 404 in its console).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        '<meta name="viewport" content="width=device-width">'
        # no icon to fetch: a browser's own /favicon.ico request would end in a 404 (the policy
        # admits this data: image and no other)
        f'<link rel="icon" href="data:,"><style>{_STYLE}</style></head>'
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def confirm_page(email: str, form_token: str, missing_confirm: bool = False) -> str:
    """The page an emailed link opens; its form posts the confirm token in the body, to a path
    without it, so no URL that reaches a log can confirm the reset."""
    nag = "<p><strong>Tick the box to confirm the reset.</strong></p>" if missing_confirm else ""
    return _page(
        "Reset your Strongroom account",
        f"""
<p>This resets the Strongroom account <strong>{html.escape(email)}</strong>.</p>
<div class="warn">
<p><strong>What a reset wipes, for good:</strong></p>
<ul>
<li>every record stored in the cloud for this account;</li>
<li>the Account Password and the keys stored on the server;</li>
<li>every Authentication Kit and sync file made before now (they become obsolete).</li>
</ul>
<p><strong>What it keeps:</strong> the account itself, its email and its plan. Your devices keep what
they hold as an encrypted backup file when they next connect.</p>
</div>
<p>Only reset if you are locked out of <em>every</em> device. If any device still opens, use it instead:
you can change your password there without losing anything.</p>
<p>The new Account Password is chosen in the app, not here: Strongroom's server never sees a password.
After you confirm, this page shows a setup code; enter it in the app when it asks.</p>
{nag}
<form method="post" action="/reset">
<input type="hidden" name="token" value="{html.escape(form_token)}">
<p><label><input type="checkbox" name="confirm" value="wipe"> I understand that all cloud data of this
account will be wiped.</label></p>
<p><button type="submit">Reset the account</button></p>
</form>""",
    )


def done_page(email: str, code: str) -> str:
    return _page(
        "Account reset",
        f"""
<p>The account <strong>{html.escape(email)}</strong> was reset. Its cloud data and password are gone.</p>
<p>Your setup code:</p>
<p><code id="setup-code">{html.escape(code)}</code></p>
<p>Open Strongroom and sign in again (for example <code>strongroom signin --server URL --reset-code CODE</code>);
it will ask you for a new Account Password and make a new Authentication Kit. The code works once.</p>""",
    )


def error_page(message: str) -> str:
    return _page("Strongroom", f"<p>{html.escape(message)}</p>")
