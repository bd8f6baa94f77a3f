"""Padding record plaintexts to size buckets, so a ciphertext's length does not tell a secret's.

Form 2 of a record body (docs/formats.md, "Record envelope"):
`0x02 ‖ body ‖ 0x80 ‖ 0x00 …` filled to `bucket(len(body) + 2)` bytes. Buckets are 256 bytes,
then powers of two up to 64 KiB, then the PADMÉ sizes (at most 12 % larger, leaking only the
order of magnitude). The 0x80 marker makes the end of the body unambiguous whatever it holds.
Form 1, from before padding, is the bare body; its first byte is "{" (record JSON or the `{}` of
a tombstone), so the first byte tells the forms apart. Both sit inside the AEAD, so the form
byte is as authenticated as the record itself.
"""

from __future__ import annotations

from .errors import FormatError, UnsupportedVersionError

FORM_PADDED = 0x02
FORM_BARE_FIRST = ord("{")  # form 1: bare JSON
MARKER = 0x80
SMALLEST = 256
POWERS_UP_TO = 64 * 1024
_FORM, _MARKER = bytes([FORM_PADDED]), bytes([MARKER])


def bucket(n: int) -> int:
    """The padded size for `n` bytes of framed body (form byte, body and marker)."""
    if n <= SMALLEST:
        return SMALLEST
    if n <= POWERS_UP_TO:
        return 1 << (n - 1).bit_length()
    e = n.bit_length() - 1  # floor(log2 n)
    mask = (1 << (e - e.bit_length())) - 1  # PADMÉ: keep floor(log2 e) + 1 significant bits
    return (n + mask) & ~mask


def pad(body: bytes) -> bytes:
    """Form 2: the body framed and filled to its bucket."""
    n = len(body) + 2
    return _FORM + body + _MARKER + bytes(bucket(n) - n)


def unpad(plaintext: bytes) -> bytes:
    """The body of a form 1 or form 2 plaintext; FormatError when form 2 is not exactly as
    `pad` writes it, UnsupportedVersionError for a form this version does not know."""
    if not plaintext or plaintext[0] == FORM_BARE_FIRST:
        return plaintext
    if plaintext[0] != FORM_PADDED:
        raise UnsupportedVersionError(
            f"record body form {plaintext[0]} is not supported; update Strongroom"
        )
    framed = plaintext.rstrip(b"\x00")
    if len(framed) < 2 or framed[-1] != MARKER or len(plaintext) != bucket(len(framed)):
        raise FormatError("record body padding is malformed")
    return framed[1:-1]
