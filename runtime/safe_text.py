"""Text from records shown in a terminal without its control characters.

A terminal takes an ESC, a C1 control or a bidi override in the text it is given as a command
(OSC 52 sets the clipboard, others retitle or clear the screen; U+202E reverses what follows).
Records arrive by import and sync, so any of them can hold such characters. Both front ends show
every such character as a visible escape (`\\x1b`, `\\u202e`); nothing is dropped, so what a
person sees still tells them what is stored.
"""

from __future__ import annotations

import functools
import re

#: DEL, C1, the bidi embeddings/overrides/isolates and lone surrogates (undecodable argv bytes);
#: with the C0 controls, everything a terminal might act on. Every one of them is a non-printable
#: character to str.isprintable (Cc, Cf, Cs), which gives the common case a fast path.
_BEYOND_C0 = "\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


@functools.cache
def _pattern(which: str) -> re.Pattern[str]:
    """Compiled on first need (about 2 ms for the three: the CLI's start does not pay for them)."""
    return re.compile(
        {
            "all": f"[\x00-\x1f{_BEYOND_C0}]",
            "but_lines": f"[\x00-\x08\x0b-\x1f{_BEYOND_C0}]",
            "json": f"[{_BEYOND_C0}]",  # JSON already escapes every C0 control
        }[which]
    )


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` with every unsafe character as a visible escape; tabs and newlines kept when multiline."""
    plain = text.replace("\n", "").replace("\t", "") if multiline else text
    if plain.isprintable():
        return text
    return _pattern("but_lines" if multiline else "all").sub(_escape, text)


def json_safe(document: str) -> str:
    """A JSON text with the unsafe characters that JSON allows raw (DEL, C1, bidi, surrogates)
    written as \\uXXXX escapes: the same JSON value, safe to land on a terminal."""
    if document.isascii() and "\x7f" not in document:
        return document
    return _pattern("json").sub(lambda m: f"\\u{ord(m.group()):04x}", document)
