"""`strongroom generate`: the generator's options as users expect them (length, character classes,
look-alikes, passphrase words/separator/capitals/digit), and clear errors for mixed-up flags."""

from __future__ import annotations

import string
import subprocess

from clikit import cli_env, run_cli

from vault.generator import AMBIGUOUS, SYMBOLS, wordlist


def _gen(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(), "generate", *args)


def _value(*args: str) -> str:
    r = _gen(*args)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.endswith("\n") and r.stdout.count("\n") == 1  # one line, nothing else on stdout
    return r.stdout[:-1]


def test_default_password_has_every_class() -> None:
    pw = _value()
    assert len(pw) == 20
    for cls in (string.ascii_lowercase, string.ascii_uppercase, string.digits, SYMBOLS):
        assert any(c in cls for c in pw)


def test_character_classes_can_be_left_out() -> None:
    pw = _value("--length", "64", "--no-uppercase", "--no-digits", "--no-symbols")
    assert len(pw) == 64 and set(pw) <= set(string.ascii_lowercase)
    pw = _value("--length", "64", "--no-symbols")
    assert set(pw) <= set(string.ascii_letters + string.digits)
    pw = _value("--length", "64", "--no-digits")
    assert not set(pw) & set(string.digits) and set(pw) & set(SYMBOLS)


def test_avoid_ambiguous_leaves_out_look_alikes() -> None:
    # 128 characters from ~87 would almost surely (1 - e^-15) hold one of the 10 look-alikes otherwise
    pw = _value("--length", "128", "--avoid-ambiguous")
    assert len(pw) == 128 and not set(pw) & AMBIGUOUS


def test_passphrase_options() -> None:
    words = set(wordlist())
    phrase = _value("--words", "6")
    assert len(phrase.split("-")) == 6 and set(phrase.split("-")) <= words
    phrase = _value("--words", "5", "--separator", " ", "--capitalize", "--add-digit")
    parts = phrase.split(" ")
    assert len(parts) == 5 and all(p[0].isupper() for p in parts)
    assert sum(c.isdigit() for c in phrase) == 1
    assert all(p.rstrip(string.digits).lower() in words for p in parts)


def test_mixed_up_flags_are_refused_with_the_reason() -> None:
    r = _gen("--words", "5", "--no-symbols")
    assert r.returncode == 2 and "--no-symbols applies to passwords" in r.stderr and r.stdout == ""
    r = _gen("--capitalize")
    assert r.returncode == 2 and "add --words" in r.stderr and r.stdout == ""
    r = _gen("--words", "4", "--separator", "\n")
    assert r.returncode == 2 and "printable" in r.stderr
    r = _gen("--length", "3")
    assert r.returncode == 2 and "4-128" in r.stderr
    r = _gen("--words", "21")
    assert r.returncode == 2 and "3-20" in r.stderr
