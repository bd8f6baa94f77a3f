"""Shell completion driven through the real bash, zsh and fish: commands, options, formats,
record types, and record titles only while an agent is unlocked (never a password prompt)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from clikit import account_home, cli_env, run_cli, short_runtime_dir

from vault.records import new_record

PASSWORD = "completion test password"


@pytest.fixture
def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    home = account_home(
        tmp_path / "home",
        PASSWORD,
        new_record("login", "GitHub", {"password": "a"}),
        new_record("login", "GitHub Enterprise", {"password": "b"}),
        new_record("note", "Recipes"),
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "strongroom"  # the command the scripts call, running this checkout
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m cli "$@"\n')
    shim.chmod(0o755)
    e = cli_env(home, XDG_RUNTIME_DIR=short_runtime_dir())
    e["PATH"] = f"{bin_dir}{os.pathsep}{e['PATH']}"
    yield e
    run_cli(e, "lock")


def _script(env: dict[str, str], shell: str, tmp_path: Path) -> Path:
    r = run_cli(env, "completion", shell)
    assert r.returncode == 0, r.stderr
    path = tmp_path / f"strongroom.{shell}"
    path.write_text(r.stdout)
    return path


def _bash(env: dict[str, str], script: Path, *words: str) -> list[str]:
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    program = (
        f"source {script}; COMP_WORDS=({quoted}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); "
        'COMPREPLY=(); _strongroom; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    r = subprocess.run(
        ["bash", "--norc", "-c", program],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.split("\n") if line]


def _unlock(env: dict[str, str]) -> None:
    assert run_cli(env | {"STRONGROOM_PASSWORD": PASSWORD}, "unlock").returncode == 0


def test_bash_completes_commands_options_formats_and_types(
    env: dict[str, str], tmp_path: Path
) -> None:
    script = _script(env, "bash", tmp_path)
    assert _bash(env, script, "strongroom", "ge") == ["get", "generate"]
    assert set(_bash(env, script, "strongroom", "")) >= {
        "get",
        "read",
        "run",
        "inject",
        "git-credential",
        "completion",
    }
    assert _bash(env, script, "strongroom", "--home", "x", "export", "--format", "") == [
        "csv",
        "json",
    ]
    assert "keepass-xml" in _bash(env, script, "strongroom", "import", "")
    assert {"login", "custom"} <= set(_bash(env, script, "strongroom", "add", ""))
    assert _bash(env, script, "strongroom", "get", "--fi") == ["--field"]
    assert _bash(env, script, "strongroom", "completion", "") == ["bash", "zsh", "fish"]
    assert _bash(env, script, "strongroom", "git-credential", "--allow-writes", "") == ["on", "off"]


def test_titles_only_while_unlocked_and_quoted_for_the_shell(
    env: dict[str, str], tmp_path: Path
) -> None:
    script = _script(env, "bash", tmp_path)
    assert _bash(env, script, "strongroom", "get", "Git") == []  # locked: nothing, and no prompt
    _unlock(env)
    assert _bash(env, script, "strongroom", "get", "Git") == ["GitHub", "GitHub\\ Enterprise"]
    assert _bash(env, script, "strongroom", "rm", "R") == ["Recipes"]
    assert _bash(env, script, "strongroom", "get", "GitHub\\ E") == ["GitHub\\ Enterprise"]


@pytest.mark.skipif(
    shutil.which("zsh") is None, reason="zsh is not installed (apt-get install zsh)"
)
def test_zsh_completion_function(env: dict[str, str], tmp_path: Path) -> None:
    script = _script(env, "zsh", tmp_path)
    _unlock(env)
    # what zsh's bashcompinit does for a completion (its compgen -F), minus compadd: zsh itself
    # then filters by the typed prefix and unquotes
    program = (
        f"source {script}; "
        'words=(strongroom get Git); CURRENT=3; COMP_WORDS=("${words[@]}"); COMP_CWORD=2; '
        "compgen -F _strongroom -- Git; print -- ---; "
        'words=(strongroom expo); CURRENT=2; COMP_WORDS=("${words[@]}"); COMP_CWORD=1; '
        "compgen -F _strongroom -- expo"
    )
    r = subprocess.run(
        ["zsh", "-f", "-c", program],
        env=env | {"HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    titles, _, commands = r.stdout.partition("---\n")
    assert titles.split("\n")[:-1] == ["GitHub", "GitHub\\ Enterprise"]
    assert {"export", "get", "read", "completion"} <= set(commands.split("\n"))


@pytest.mark.skipif(
    shutil.which("fish") is None, reason="fish is not installed (apt-get install fish)"
)
def test_fish_completions(env: dict[str, str], tmp_path: Path) -> None:
    script = _script(env, "fish", tmp_path)

    def complete(line: str) -> list[str]:
        r = subprocess.run(
            ["fish", "--no-config", "-c", f"source {script}; complete -C {line!r}"],
            env=env | {"HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        return [row.split("\t")[0] for row in r.stdout.split("\n") if row]

    assert {"get", "generate"} <= set(complete("strongroom ge"))
    assert complete("strongroom export --format ") == ["csv", "json"]
    assert complete("strongroom get Git") == []
    _unlock(env)
    assert complete("strongroom get Git") == ["GitHub", "GitHub Enterprise"]
