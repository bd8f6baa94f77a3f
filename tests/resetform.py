"""Submitting the reset page's form as a browser does: its action and hidden fields, plus ours."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

import httpx


def submit_reset_form(page: httpx.Response, **fields: str) -> httpx.Response:
    """POST the page's form (hidden inputs included) with `fields` added, e.g. confirm="wipe"."""
    form = re.search(r'<form method="post" action="([^"]*)">(.*?)</form>', page.text, re.S)
    assert form, page.text
    hidden = dict(
        (html.unescape(n), html.unescape(v))
        for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', form[2])
    )
    return httpx.post(urljoin(str(page.url), html.unescape(form[1])), data={**hidden, **fields})
