"""Password and passphrase generator (the `secrets` module only)."""

from __future__ import annotations

import secrets
import string
from functools import cache
from importlib import resources

from .errors import InvalidInputError

SYMBOLS = "!@#$%^&*()-_=+[]{};:,.?/~"
AMBIGUOUS = set("Il1O0o|`'\"")
MIN_LENGTH, MAX_LENGTH = 4, 128
MIN_WORDS, MAX_WORDS = 3, 20


def generate_password(length: int = 20, *, symbols: bool = True, digits: bool = True, uppercase: bool = True,
                      avoid_ambiguous: bool = False) -> str:
    """Random characters with at least one of every enabled class."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise InvalidInputError(f"a password length must be {MIN_LENGTH}-{MAX_LENGTH}, not {length}")
    classes = [string.ascii_lowercase]
    if uppercase:
        classes.append(string.ascii_uppercase)
    if digits:
        classes.append(string.digits)
    if symbols:
        classes.append(SYMBOLS)
    if avoid_ambiguous:
        classes = ["".join(c for c in cls if c not in AMBIGUOUS) for cls in classes]
    alphabet = "".join(classes)
    while True:
        chars = [secrets.choice(alphabet) for _ in range(length)]
        if all(any(c in cls for c in chars) for cls in classes):
            return "".join(chars)


@cache
def wordlist() -> tuple[str, ...]:
    """The EFF large wordlist (7,776 words: 12.9 bits each)."""
    text = resources.files("vault").joinpath("data/eff_large_wordlist.txt").read_text("ascii")
    words = tuple(w.strip() for w in text.splitlines() if w.strip())
    assert len(words) == 7776
    return words


def generate_passphrase(words: int = 5, separator: str = "-", *, capitalize: bool = False,
                        add_digit: bool = False) -> str:
    if not MIN_WORDS <= words <= MAX_WORDS:
        raise InvalidInputError(f"a passphrase has {MIN_WORDS}-{MAX_WORDS} words, not {words}")
    chosen = [secrets.choice(wordlist()) for _ in range(words)]
    if capitalize:
        chosen = [w.capitalize() for w in chosen]
    if add_digit:
        i = secrets.randbelow(words)
        chosen[i] += str(secrets.randbelow(10))
    return separator.join(chosen)


def password_entropy_bits(length: int, alphabet_size: int) -> float:
    import math

    return length * math.log2(alphabet_size)
