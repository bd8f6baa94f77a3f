"""Text from records shown in a terminal without its control characters.

A terminal takes an ESC, a C1 control or a bidi override in the text it is given as a command
(OSC 52 sets the clipboard, others retitle or clear the screen; U+202E reverses what follows).
Records arrive by import and sync, so any of them can hold such characters. Both front ends show
every such character as a visible escape (`\\x1b`, `\\u202e`); nothing is dropped, so what a
person sees still tells them what is stored.
"""

from __future__ import annotations

import re

#: DEL, C1, the bidi embeddings/overrides/isolates and lone surrogates (undecodable argv bytes);
#: with the C0 controls, everything a terminal might act on.
_BEYOND_C0 = "\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
_UNSAFE_BUT_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_BEYOND_C0}]")
_UNSAFE_IN_JSON = re.compile(f"[{_BEYOND_C0}]")  # JSON already escapes every C0 control
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` with every unsafe character as a visible escape; tabs and newlines kept when multiline."""
    return (_UNSAFE_BUT_LINES if multiline else _UNSAFE).sub(_escape, text)


def json_safe(document: str) -> str:
    """A JSON text with the unsafe characters that JSON allows raw (DEL, C1, bidi, surrogates)
    written as \\uXXXX escapes: the same JSON value, safe to land on a terminal."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
