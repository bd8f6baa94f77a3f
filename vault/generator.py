"""Password and passphrase generator: the `secrets` module only, never `random`."""

from __future__ import annotations

import math
import secrets
import string
from functools import cache
from importlib import resources

from .errors import FormatError, InvalidInputError
from .strength import entropy_bits

SYMBOLS = "!@#$%^&*()-_=+[]{};:,.?/~"
AMBIGUOUS = frozenset("Il1O0o|`'\"")
MIN_LENGTH, MAX_LENGTH = 4, 128
MIN_WORDS, MAX_WORDS = 3, 20
WORDLIST_SIZE = 7776  # EFF large wordlist: five dice, 12.9 bits a word


def password_classes(
    *,
    symbols: bool = True,
    digits: bool = True,
    uppercase: bool = True,
    avoid_ambiguous: bool = False,
) -> list[str]:
    """The character classes a password of these options draws from (lowercase always)."""
    classes = [string.ascii_lowercase]
    if uppercase:
        classes.append(string.ascii_uppercase)
    if digits:
        classes.append(string.digits)
    if symbols:
        classes.append(SYMBOLS)
    if avoid_ambiguous:
        classes = ["".join(c for c in cls if c not in AMBIGUOUS) for cls in classes]
    return classes


def generate_password(
    length: int = 20,
    *,
    symbols: bool = True,
    digits: bool = True,
    uppercase: bool = True,
    avoid_ambiguous: bool = False,
) -> str:
    """Random characters with at least one of every enabled class.

    Rejection sampling (draw all, retry if a class is missing) keeps every accepted password
    equally likely, unlike forcing one character of each class into fixed positions.
    """
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise InvalidInputError(
            f"a password length must be {MIN_LENGTH}-{MAX_LENGTH}, not {length}"
        )
    classes = password_classes(
        symbols=symbols, digits=digits, uppercase=uppercase, avoid_ambiguous=avoid_ambiguous
    )
    alphabet = "".join(classes)
    while True:
        chars = [secrets.choice(alphabet) for _ in range(length)]
        if all(any(c in cls for c in chars) for cls in classes):
            return "".join(chars)


def password_entropy_bits(
    length: int = 20,
    *,
    symbols: bool = True,
    digits: bool = True,
    uppercase: bool = True,
    avoid_ambiguous: bool = False,
) -> float:
    """Entropy of generate_password with these options (the class guarantee costs under a bit)."""
    classes = password_classes(
        symbols=symbols, digits=digits, uppercase=uppercase, avoid_ambiguous=avoid_ambiguous
    )
    return entropy_bits(length, sum(len(c) for c in classes))


@cache
def wordlist() -> tuple[str, ...]:
    """The EFF large wordlist shipped as package data (7,776 distinct words)."""
    text = resources.files("vault").joinpath("data/eff_large_wordlist.txt").read_text("ascii")
    words = tuple(w.strip() for w in text.splitlines() if w.strip())
    if len(set(words)) != WORDLIST_SIZE:
        raise FormatError(
            f"the passphrase word list is damaged: {len(set(words))} distinct words, not {WORDLIST_SIZE}"
        )
    return words


def generate_passphrase(
    words: int = 5, separator: str = "-", capitalize: bool = False, add_digit: bool = False
) -> str:
    """`words` words from the EFF list; `add_digit` appends one digit to one random word."""
    if not MIN_WORDS <= words <= MAX_WORDS:
        raise InvalidInputError(f"a passphrase has {MIN_WORDS}-{MAX_WORDS} words, not {words}")
    chosen = [secrets.choice(wordlist()) for _ in range(words)]
    if capitalize:
        chosen = [w.capitalize() for w in chosen]
    if add_digit:
        i = secrets.randbelow(words)
        chosen[i] += str(secrets.randbelow(10))
    return separator.join(chosen)


def passphrase_entropy_bits(words: int = 5, add_digit: bool = False) -> float:
    """Entropy of generate_passphrase: 12.9 bits a word, plus the digit's value and position."""
    bits = entropy_bits(words, WORDLIST_SIZE)
    return bits + (math.log2(10 * words) if add_digit else 0.0)
