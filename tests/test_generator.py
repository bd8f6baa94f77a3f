"""Generator: bounds, classes, uniformity (loose chi-square) and passphrase entropy."""

from __future__ import annotations

import math
import string
from collections import Counter

import pytest

from vault.errors import InvalidInputError
from vault.generator import (
    AMBIGUOUS,
    MAX_LENGTH,
    MIN_LENGTH,
    SYMBOLS,
    WORDLIST_SIZE,
    generate_passphrase,
    generate_password,
    passphrase_entropy_bits,
    password_classes,
    password_entropy_bits,
    wordlist,
)
from vault.strength import entropy_bits


@pytest.mark.parametrize("length", [MIN_LENGTH, 5, 20, 64, MAX_LENGTH])
def test_length_and_every_class_present(length: int) -> None:
    for _ in range(50):
        pw = generate_password(length)
        assert len(pw) == length
        assert any(c in string.ascii_lowercase for c in pw)
        assert any(c in string.ascii_uppercase for c in pw)
        assert any(c in string.digits for c in pw)
        assert any(c in SYMBOLS for c in pw)


@pytest.mark.parametrize("length", [MIN_LENGTH - 1, 0, -5, MAX_LENGTH + 1])
def test_length_out_of_bounds_is_refused(length: int) -> None:
    with pytest.raises(InvalidInputError, match="length"):
        generate_password(length)


def test_disabled_classes_are_absent() -> None:
    for _ in range(200):
        pw = generate_password(30, symbols=False)
        assert not any(c in SYMBOLS for c in pw)
        assert pw.isalnum()
    for _ in range(100):
        pw = generate_password(16, symbols=False, digits=False, uppercase=False)
        assert set(pw) <= set(string.ascii_lowercase)


def test_avoid_ambiguous() -> None:
    seen: set[str] = set()
    for _ in range(300):
        seen |= set(generate_password(40, avoid_ambiguous=True))
    assert not seen & AMBIGUOUS
    assert "a" in seen and "Z" in seen


def test_character_distribution_is_roughly_uniform() -> None:
    """Chi-square over ~40k characters; the bound is loose (p far below 1e-6 to fail by chance)."""
    alphabet = "".join(password_classes())
    counts: Counter[str] = Counter()
    for _ in range(1000):
        counts.update(generate_password(40))
    total = sum(counts.values())
    expected = total / len(alphabet)
    assert set(counts) == set(alphabet)
    chi2 = sum((counts[c] - expected) ** 2 / expected for c in alphabet)
    dof = len(alphabet) - 1
    assert chi2 < dof + 8 * math.sqrt(2 * dof), chi2
    # every position is uniform too: the first character is not biased toward any class
    first = Counter(generate_password(20)[0] for _ in range(3000))
    lowers = sum(first[c] for c in string.ascii_lowercase) / 3000
    assert abs(lowers - 26 / len(alphabet)) < 0.06


def test_passwords_do_not_repeat() -> None:
    assert len({generate_password(12) for _ in range(2000)}) == 2000


def test_wordlist_is_the_eff_large_list() -> None:
    words = wordlist()
    assert len(words) == WORDLIST_SIZE == len(set(words))
    assert words[0] == "abacus" and words[-1] == "zoom"
    assert all(w.replace("-", "").isalpha() and w.islower() for w in words)


@pytest.mark.parametrize("n", [3, 5, 8, 20])
def test_passphrase_word_count(n: int) -> None:
    phrase = generate_passphrase(n)
    parts = phrase.split("-")
    # a few EFF words contain a hyphen ("t-shirt"), so count words by matching the list
    assert len(parts) >= n
    words = set(wordlist())
    assert all(p in words for p in generate_passphrase(n, separator=" ").split(" "))
    assert len(generate_passphrase(n, separator=" ").split(" ")) == n


@pytest.mark.parametrize("n", [2, 0, 21])
def test_passphrase_bounds(n: int) -> None:
    with pytest.raises(InvalidInputError, match="words"):
        generate_passphrase(n)


def test_passphrase_options() -> None:
    words = set(wordlist())
    for _ in range(50):
        parts = generate_passphrase(4, separator=".", capitalize=True).split(".")
        assert all(p[0].isupper() and p.lower() in words for p in parts)
        parts = generate_passphrase(6, " ", add_digit=True).split(" ")
        assert len(parts) == 6
        with_digit = [p for p in parts if p[-1].isdigit()]
        assert len(with_digit) == 1 and with_digit[0][:-1] in words


def test_passphrase_words_are_spread_over_the_list() -> None:
    index = {w: i for i, w in enumerate(wordlist())}
    picks = [index[w] for _ in range(400) for w in generate_passphrase(5, " ").split(" ")]
    # 2000 picks: each sixth of the list gets about 333; allow wide slack
    buckets = Counter(i * 6 // WORDLIST_SIZE for i in picks)
    assert all(200 < buckets[b] < 470 for b in range(6)), buckets


def test_entropy_properties() -> None:
    assert passphrase_entropy_bits(5) == pytest.approx(5 * math.log2(7776))
    assert passphrase_entropy_bits(5) == pytest.approx(64.6, abs=0.1)
    assert passphrase_entropy_bits(6, add_digit=True) > passphrase_entropy_bits(6)
    assert password_entropy_bits(20) == pytest.approx(20 * math.log2(26 + 26 + 10 + len(SYMBOLS)))
    assert password_entropy_bits(20) > 120
    assert password_entropy_bits(20, symbols=False) == pytest.approx(20 * math.log2(62))
    assert password_entropy_bits(20, avoid_ambiguous=True) < password_entropy_bits(20)
    assert password_entropy_bits(21) > password_entropy_bits(20)
    assert entropy_bits(0, 10) == 0.0 and entropy_bits(10, 1) == 0.0
