"""Bad bytes are bad input, never an internal error (issue 18, item 6).

Passwords that are not UTF-8 (stdin, environment), titles that are not UTF-8 (argv) and 50 MB of
noise on --password-stdin are exit 2 with one clear line; a reader that stops early
(`strongroom ls | head -1`) ends the command quietly. A seeded random run through real processes
looks for any input that still reaches exit 70 or a traceback.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from clikit import account_home, cli_env, run_cli, short_runtime_dir

from runtime.errors import EXIT_INTERNAL
from vault.records import new_record
from vault.vault import Vault

PASSWORD = "bad bytes password"


def one_line_exit_2(r: subprocess.CompletedProcess[str], *words: str) -> None:
    err = r.stderr
    assert r.returncode == 2, (r.returncode, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    github = new_record("login", "GitHub", {"username": "ann", "password": "s3cret"})
    return account_home(tmp_path / "home", PASSWORD, github)


def test_a_password_on_stdin_that_is_not_utf8_is_exit_2(home: Path) -> None:
    r = run_cli(cli_env(home), "ls", "--password-stdin", stdin=b"bad \xff\xfe password\n")
    one_line_exit_2(r, "stdin is not valid UTF-8")


def test_a_password_in_the_environment_that_is_not_utf8_is_exit_2(home: Path) -> None:
    env = {k.encode(): v.encode() for k, v in cli_env(home).items()}
    r = run_cli(env | {b"STRONGROOM_PASSWORD": b"bad \xff password"}, "ls")
    one_line_exit_2(r, "STRONGROOM_PASSWORD is not valid UTF-8")
    fresh = {k.encode(): v.encode() for k, v in cli_env(home.parent / "new").items()}
    r = run_cli(
        fresh | {b"STRONGROOM_NEW_PASSWORD": b"new \xc3\x28 password"},
        "signup",
        "--email",
        "bo@example.com",
        "--kit-dir",
        str(home.parent),
    )
    one_line_exit_2(r, "STRONGROOM_NEW_PASSWORD is not valid UTF-8")
    assert not (home.parent / "new").exists()


def test_a_title_in_argv_that_is_not_utf8_is_exit_2_and_stores_nothing(home: Path) -> None:
    env = cli_env(home, PASSWORD)
    one_line_exit_2(run_cli(env, "add", "login", "--title", b"T\xff"), "--title")
    one_line_exit_2(run_cli(env, "add", "login", b"--title=T\xff"), "--title")
    one_line_exit_2(run_cli(env, "add", "note", "--title", "T", "--notes", b"\x80"), "--notes")
    one_line_exit_2(run_cli(env, "get", b"Git\xffHub"), "argument 2")
    r = run_cli(env, "ls")
    assert r.returncode == 0 and r.stdout.count("\n") == 1, r.stdout


def test_50_mb_of_random_bytes_on_password_stdin_is_exit_2(home: Path) -> None:
    noise = random.Random(18).randbytes(50 * 1024 * 1024)
    r = run_cli(cli_env(home), "ls", "--password-stdin", stdin=noise)
    one_line_exit_2(r, "stdin holds more than 512 KiB")


@pytest.mark.parametrize("through_agent", [False, True], ids=["in-process", "agent"])
def test_ls_into_a_reader_that_stops_after_one_line_ends_quietly(
    home: Path, through_agent: bool
) -> None:
    vault = Vault.open(home)
    vault.unlock(PASSWORD)
    vault.add_many([new_record("note", f"Note {i:05d} {'x' * 60}") for i in range(3000)])
    vault.close()
    env = cli_env(home, PASSWORD, XDG_RUNTIME_DIR=short_runtime_dir())
    env.pop("PYTHONUNBUFFERED", None)  # buffered, as for a user (unbuffered, a short write passes)
    if through_agent:
        assert run_cli(env, "unlock", "--timeout", "2m").returncode == 0
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "ls"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith(b"GitHub")
        proc.stdout.close()  # `head -1` exits: the pipe's reader is gone
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 141, err  # as `cat` ended by SIGPIPE
        assert err == ""
    finally:
        if through_agent:
            run_cli(env, "lock")


def test_an_email_beyond_latin_1_makes_an_account_and_its_kit(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home", PASSWORD)
    r = run_cli(env, "signup", "--email", "ann@例え.jp", "--kit-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert len(list(tmp_path.glob("Strongroom-Authentication-Kit-*.pdf"))) == 1
    r = run_cli(env, "signup", "--email", "ann\x1b[2J@example.com", "--home", str(tmp_path / "b"))
    one_line_exit_2(r, "not an email address")


# -- a random run: no input reaches exit 70 or a traceback -----------------------------------


def _noise(rng: random.Random) -> bytes:
    """Something a careless user or a crafted file could hand over: bytes, controls, long text."""
    kind = rng.randrange(5)
    if kind == 0:
        return bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 40)))
    if kind == 1:
        return "".join(chr(rng.randrange(1, 0x2100)) for _ in range(rng.randrange(1, 30))).encode()
    if kind == 2:
        return rng.choice([b"-", b"--", b"-x", b"--field", b"=", b"a=", b"=b", b"%s", b"\\"])
    if kind == 3:
        return b"A" * rng.choice([0, 1, 255, 4096, 100_000])
    return rng.choice([b"\x1b]52;c;aGk=\x07", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"])


def _command(rng: random.Random, fresh: Path) -> list[bytes]:
    n = _noise
    pick = rng.randrange(10)
    if pick == 9:
        email = n(rng) + rng.choice([b"", b"@example.com", b"@\xe4\xbe\x8b.com"])
        home, kits = os.fsencode(fresh / "home"), os.fsencode(fresh)
        return [b"--home", home, b"signup", b"--email", email, b"--kit-dir", kits]
    if pick == 0:
        return [b"add", rng.choice([b"login", b"note", b"custom", n(rng)]), b"--title", n(rng)]
    if pick == 1:
        return [b"add", b"login", b"--title", b"T", b"--field", n(rng) + b"=" + n(rng)]
    if pick == 2:
        return [b"edit", b"GitHub", b"--field", b"password=" + n(rng), b"--notes", n(rng)]
    if pick == 3:
        return [b"get", n(rng), *rng.choice([[], [b"--field", n(rng)], [b"--json"]])]
    if pick == 4:
        return [b"ls", n(rng), *rng.choice([[], [b"--tag", n(rng)], [b"--type", n(rng)]])]
    if pick == 5:
        return [b"rm", n(rng)]
    if pick == 6:
        return [b"generate", b"--length", n(rng)]
    if pick == 7:
        return [b"add", b"login", b"--title", b"T", b"--tag", n(rng), b"--notes", n(rng)]
    return [n(rng)]


def test_random_bytes_in_argv_environment_and_stdin_never_reach_exit_70(home: Path) -> None:
    seed = int(os.environ.get("STRONGROOM_FUZZ_SEED", "18"))
    rng = random.Random(seed)
    base = {k.encode(): v.encode() for k, v in cli_env(home).items()}
    for i in range(60):
        fresh = home.parent / f"fresh-{i}"
        fresh.mkdir()
        args = [a.replace(b"\0", b"") for a in _command(rng, fresh)]
        env, stdin = base | {b"STRONGROOM_PASSWORD": PASSWORD.encode()}, b""
        where = rng.randrange(4)
        if where == 1:
            env[b"STRONGROOM_PASSWORD"] = _noise(rng).replace(b"\0", b"") or b"\xff"
        elif where == 2:
            args.append(b"--password-stdin")
            stdin = _noise(rng) + b"\n" + _noise(rng)
        r = run_cli(env, *args, stdin=stdin)
        err = r.stderr
        case = f"seed {seed} case {i}: argv {args!r}, stdin {stdin[:80]!r}: exit {r.returncode}"
        assert r.returncode != EXIT_INTERNAL and "Traceback" not in err, f"{case}\n{err}"
        if r.returncode != 0:
            assert len([ln for ln in err.splitlines() if ln.strip()]) == 1, f"{case}\n{err}"
