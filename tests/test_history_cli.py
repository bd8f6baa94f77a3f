"""`strongroom history` and `trash` as a script uses them (issue 22, Build 4): retention set from
the CLI and applied, secrets masked unless --reveal, restore and empty refusing what they must.
Real CLI processes on a real home."""

from __future__ import annotations

import json
from pathlib import Path

from clikit import cli_env, run_cli

PW = "history cli password"


def _cli(home: Path, *args: str) -> tuple[int, str, str]:
    r = run_cli(cli_env(home, PW), *args, cwd=home.parent, stdin="s3cret-pw\n")
    assert "Traceback" not in r.stderr
    return r.returncode, r.stdout, r.stderr


def _ok(home: Path, *args: str) -> str:
    code, out, err = _cli(home, *args)
    assert code == 0, (args, err)
    return out


def test_history_and_trash_from_the_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _ok(home, "signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path))
    _ok(home, "add", "login", "--title", "Mail", "--field", "password=-")
    assert json.loads(_ok(home, "history", "retention", "--versions", "2", "--json")) == {
        "history_versions": 2,
        "history_days": 365.0,
        "trash_days": 30.0,
    }
    for n in range(4):
        _ok(home, "edit", "Mail", "--field", f"username=user{n}")
    steps = json.loads(_ok(home, "history", "Mail", "--json"))
    assert [s["version"] for s in steps] == [1, 2, 3] and steps[-1]["current"]
    assert [s["changes"] for s in steps[1:]] == [
        ["username 'user1' → 'user2'"],
        ["username 'user2' → 'user3'"],
    ]
    masked = {f["value"] for s in steps for f in s["fields"] if f["kind"] == "secret"}
    assert masked == {"••••••••"} or masked == {""}
    revealed = json.loads(_ok(home, "history", "Mail", "--json", "--reveal"))
    assert "••••••••" not in {f["value"] for s in revealed for f in s["fields"]}
    code, _, err = _cli(home, "history", "restore", "Mail", "3")
    assert code == 0 and "current one" in err
    code, _, err = _cli(home, "history", "restore", "Mail", "9")
    assert code == 1 and "no version '9'" in err
    assert "restored version 1" in _ok(home, "history", "restore", "Mail", steps[0]["id"])
    assert _ok(home, "get", "Mail", "--field", "username") == "user1\n"  # the oldest kept
    _ok(home, "rm", "Mail")
    assert _cli(home, "get", "Mail")[0] == 1  # not in the list any more
    assert "Mail" in _ok(home, "trash", "ls")
    assert json.loads(_ok(home, "trash", "retention", "--days", "0", "--json"))["trash_days"] == 0
    code, _, err = _cli(home, "trash", "empty")
    assert code == 2 and "--yes" in err
    assert [r["title"] for r in json.loads(_ok(home, "trash", "ls", "--json"))] == ["Mail"]
    assert "purged 1" in _ok(home, "trash", "empty", "--yes")
    assert json.loads(_ok(home, "trash", "ls", "--json")) == []
    code, _, err = _cli(home, "trash", "restore", "Mail")
    assert code == 1 and "nothing in the trash" in err


def test_bad_queries_and_versions_say_what_is_wrong(tmp_path: Path) -> None:
    """A query matching nothing said 'nothing in the trash matches' (only the trash seemed
    looked in); version numbers that are not a version of the record are exit 1, never 70."""
    home = tmp_path / "home"
    _ok(home, "signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path))
    _ok(home, "add", "login", "--title", "Mail", "--field", "password=-")
    _ok(home, "add", "note", "--title", "Other")
    other = json.loads(_ok(home, "ls", "--json"))
    other_id = next(r["id"] for r in other if r["title"] == "Other")
    for args in (("history", "Nope"), ("history", "restore", "Nope", "1")):
        code, _, err = _cli(home, *args)
        assert code == 1 and "no record, in the list or in the trash, matches 'Nope'" in err, err
    for version in ("0", "-1", "2", "99999999999999999999", "abc", "", "1.0", other_id, "١"):
        code, _, err = _cli(home, "history", "restore", "Mail", version)
        assert code == 1 and f"has no version {version!r}" in err, (version, err)
    assert len(json.loads(_ok(home, "history", "Mail", "--json"))) == 1  # nothing was restored
