"""runtime.safe_text skips its regular expressions for text with nothing to escape; the shortcut
must never let an unsafe character through (hypothesis against the full scan)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from runtime.safe_text import _escape, _pattern, json_safe, printable

# Every character class the escaping cares about, plus ordinary and wide text around it.
_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0, max_codepoint=0xA0),
        st.sampled_from("\u202a\u202e\u2066\u2069\ud800\udfff\u00a0\u200b\u2028é中😀"),
    ),
    max_size=40,
)


@given(_TEXT, st.booleans())
def test_printable_equals_the_full_scan(text: str, multiline: bool) -> None:
    full = _pattern("but_lines" if multiline else "all").sub(_escape, text)
    assert printable(text, multiline=multiline) == full


@given(_TEXT)
def test_json_safe_equals_the_full_scan(text: str) -> None:
    full = _pattern("json").sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    assert json_safe(text) == full


def test_a_terminal_escape_never_passes_the_shortcut() -> None:
    assert printable("Git\x1b]52;c;aGk=\aHub") == "Git\\x1b]52;c;aGk=\\x07Hub"
    assert printable("a\tb\nc\u202e", multiline=True) == "a\tb\nc\\u202e"
