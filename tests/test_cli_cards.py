"""Cards at the CLI (issue 20, item 12): `add card`/`edit` refuse an impossible expiry with the
reason and exit 2 (bad input, docs/cli.md), store a good one tidied, and `get` masks the number
as it masks a password until --reveal; `get --field number` and --json stay exact."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from clikit import cli_env, run_cli

PW = "card cli password"
NUMBER = "4111 1111 1111 1111"


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(home, PW), *args, cwd=home.parent, timeout=90)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cards") / "home"
    r = cli(home, "signup", "--email", "ann@example.com", "--kit-dir", str(home.parent / "kit"))
    assert r.returncode == 0, r.stderr
    r = cli(home, "add", "card", "--title", "Visa", "--field", f"number={NUMBER}")
    assert r.returncode == 0, r.stderr
    return home


@pytest.mark.parametrize(
    ("expiry", "words"),
    [
        ("13/99", "no month 13: the month is 01 to 12"),
        ("0/30", "no month 0:"),
        ("12/99", "is in 2099"),
        ("12/1999", "is in 1999"),
        ("next year", "write MM/YY or MM/YYYY"),
    ],
)
def test_an_impossible_expiry_is_bad_input(home: Path, expiry: str, words: str) -> None:
    for args in (
        ("add", "card", "--title", "Bad", "--field", f"expiry={expiry}"),
        ("edit", "Visa", "--field", f"expiry={expiry}"),
    ):
        r = cli(home, *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "expiry date" in lines[0] and words in lines[0], r.stderr
    listed = cli(home, "ls", "--json")
    assert [rec["title"] for rec in json.loads(listed.stdout)] == ["Visa"]  # nothing added
    assert "expiry" not in cli(home, "get", "Visa", "--json").stdout  # nothing changed


def test_a_good_expiry_is_stored_tidied(home: Path) -> None:
    assert cli(home, "edit", "Visa", "--field", "expiry=4/29").returncode == 0
    r = cli(home, "get", "Visa", "--field", "expiry")
    assert r.stdout == "04/29\n"
    assert cli(home, "edit", "Visa", "--field", "expiry= 11 / 2031 ").returncode == 0
    assert cli(home, "get", "Visa", "--field", "expiry").stdout == "11/2031\n"
    assert cli(home, "edit", "Visa", "--field", "expiry=").returncode == 0  # emptied: removed


def test_get_masks_the_number_until_reveal(home: Path) -> None:
    shown = cli(home, "get", "Visa")
    assert shown.returncode == 0 and "Card number: ••••" in shown.stdout
    assert NUMBER not in shown.stdout
    assert f"Card number: {NUMBER}" in cli(home, "get", "Visa", "--reveal").stdout
    assert cli(home, "get", "Visa", "--field", "number").stdout == NUMBER + "\n"
    fields = json.loads(cli(home, "get", "Visa", "--json").stdout)["fields"]
    assert {"name": "number", "kind": "number", "value": NUMBER} in fields
