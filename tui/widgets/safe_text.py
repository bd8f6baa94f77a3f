"""Record data shown in the terminal without its control characters.

Textual writes a line's text to the terminal as it is and strips only BEL, BS, VT, FF and CR:
an ESC in a title (an imported CSV, another device) would reach the terminal as a command
(OSC 52 can set the clipboard, others retitle or clear the screen). Everything drawn from a
record goes through `printable`.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_ANY = re.compile(r"[\x00-\x1f\x7f-\x9f]")
REPLACEMENT = "\ufffd"


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` with control characters shown as U+FFFD; tabs and newlines kept when multiline."""
    return (_CONTROL if multiline else _CONTROL_ANY).sub(REPLACEMENT, text)
