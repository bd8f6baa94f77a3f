"""Record text never reaches a terminal as a command (issue 18, item 1).

A record that arrived by import or sync can hold ESC sequences (OSC 52 writes the clipboard,
CSI clears the screen), C1 controls and bidi overrides. Every human-readable line the CLI
writes shows them as visible escapes; `--json` is the exact value; `get --field` is byte-exact
into a pipe and escaped on a terminal (a real pty here).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clikit import account_home, cli_env, run_cli, run_on_terminal, short_runtime_dir

from vault.records import new_record

PASSWORD = "terminal safety password"
OSC52 = "\x1b]52;c;aGk=\x07"  # "hi" into the clipboard
EVIL_USER = f"\x1b[31mred{OSC52}\x1b[2J"
EVIL_TITLE = "Bank \u202eevil\u2066 \x9b2J"
EVIL_NOTES = "line 1\nline 2\x1b]0;owned\x07\x7f"
#: What a terminal would act on: C0 but newline, DEL, C1, bidi overrides and isolates.
RAW = [chr(c) for c in (*range(0x00, 0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0))]
RAW += ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]


def assert_no_raw_control(text: str) -> None:
    found = sorted({f"U+{ord(ch):04X}" for ch in text if ch in RAW})
    assert not found, f"raw control characters reach the terminal: {found} in {text!r}"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    fields = {"username": EVIL_USER, "password": f"pw{OSC52}"}
    evil = new_record("login", EVIL_TITLE, fields, notes=EVIL_NOTES, tags=("t\x1b[5m",))
    return cli_env(account_home(tmp_path / "home", PASSWORD, evil), PASSWORD)


def test_ls_and_get_show_control_characters_as_visible_escapes(env: dict[str, str]) -> None:
    listed = run_cli(env, "ls").stdout
    assert_no_raw_control(listed)
    assert "\\x1b[31mred\\x1b]52;c;aGk=\\x07\\x1b[2J" in listed
    assert "Bank \\u202eevil\\u2066 \\x9b2J" in listed
    shown = run_cli(env, "get", "Bank", "--reveal").stdout
    assert_no_raw_control(shown)
    assert "\\x1b[31mred" in shown and "pw\\x1b]52;c;aGk=\\x07" in shown
    assert "line 2\\x1b]0;owned\\x07\\x7f" in shown and "t\\x1b[5m" in shown
    assert "line 1\n" in shown  # notes keep their lines


def test_removing_and_error_lines_are_escaped_too(env: dict[str, str]) -> None:
    missing = run_cli(env, "get", f"nothing{OSC52}")
    assert missing.returncode == 1
    assert_no_raw_control(missing.stderr)
    assert "\\x1b]52" in missing.stderr
    removed = run_cli(env, "rm", "Bank")
    assert removed.returncode == 0, removed.stderr
    assert_no_raw_control(removed.stdout)


def test_json_is_the_exact_value_without_raw_controls(env: dict[str, str]) -> None:
    out = run_cli(env, "get", "Bank", "--json").stdout
    assert_no_raw_control(out.replace("\n", " "))
    doc = json.loads(out)
    assert doc["title"] == EVIL_TITLE and doc["notes"] == EVIL_NOTES
    assert {f["name"]: f["value"] for f in doc["fields"]}["username"] == EVIL_USER
    listed = json.loads(run_cli(env, "ls", "--json").stdout)
    assert listed[0]["title"] == EVIL_TITLE and listed[0]["username"] == EVIL_USER


def test_a_single_field_into_a_pipe_is_byte_exact(env: dict[str, str]) -> None:
    r = run_cli(env, "get", "Bank", "--field", "username")  # read as written, not translated
    assert r.stdout.encode() == (EVIL_USER + "\n").encode()
    notes = run_cli(env, "get", "Bank", "--field", "notes").stdout
    assert notes == EVIL_NOTES + "\n"


def test_a_single_field_on_a_terminal_is_escaped(env: dict[str, str]) -> None:
    assert run_on_terminal(env, "get", "Bank", "--field", "username") == (
        0,
        "\\x1b[31mred\\x1b]52;c;aGk=\\x07\\x1b[2J\n",
    )
    code, drawn = run_on_terminal(env, "ls")
    assert code == 0
    assert_no_raw_control(drawn)


def test_through_the_unlock_agent_a_terminal_gets_escapes_and_a_pipe_exact_bytes(
    env: dict[str, str],
) -> None:
    agent_env = env | {"XDG_RUNTIME_DIR": short_runtime_dir()}
    assert run_cli(agent_env, "unlock", "--timeout", "2m").returncode == 0
    try:
        without_password = {k: v for k, v in agent_env.items() if k != "STRONGROOM_PASSWORD"}
        piped = run_cli(without_password, "get", "Bank", "--field", "username")
        assert piped.stdout == EVIL_USER + "\n", piped.stderr
        assert run_on_terminal(without_password, "get", "Bank", "--field", "username") == (
            0,
            "\\x1b[31mred\\x1b]52;c;aGk=\\x07\\x1b[2J\n",
        )
        code, drawn = run_on_terminal(without_password, "get", "Bank")
        assert code == 0
        assert_no_raw_control(drawn)
        assert "\\x1b[31mred" in drawn
    finally:
        run_cli(agent_env, "lock")
