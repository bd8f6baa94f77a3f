"""The git credential helper with the real `git` against a loopback HTTP server asking for basic
auth (`git http-backend`), answered through the unlock agent and with the password."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from clikit import account_home, cli_env, run_cli, short_runtime_dir
from gitserver import git_http_server

from vault.errors import InvalidInputError
from vault.gitcred import CredentialRequest, parse_request, specificity
from vault.records import new_record

PASSWORD = "git helper test password"


def _git_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    out = {k: v for k, v in env.items() if not k.startswith("GIT_") and k != "SSH_ASKPASS"}
    (tmp_path / "githome").mkdir(exist_ok=True)
    return out | {
        "HOME": str(tmp_path / "githome"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }


def _git(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    helper = f"!{sys.executable} -m cli git-credential"
    return subprocess.run(
        ["git", "-c", "credential.helper=", "-c", f"credential.helper={helper}", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """A bare repository with one commit, under the server's root."""
    work = tmp_path / "work"
    work.mkdir()
    ident = ["-c", "user.name=Ann", "-c", "user.email=ann@example.com"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    (work / "README").write_text("hello from the served repo\n")
    subprocess.run(["git", "-C", str(work), "add", "README"], check=True)
    subprocess.run(["git", *ident, "-C", str(work), "commit", "-qm", "first"], check=True)
    root = tmp_path / "srv"
    root.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(root / "repo.git")], check=True)
    return root


def test_a_malformed_url_from_git_or_a_stored_website_is_no_crash(tmp_path: Path) -> None:
    """urlsplit raises on an unclosed IPv6 bracket: a request with such a url was exit 70, and
    one login whose website was typed like that made every git request exit 70."""
    home = account_home(
        tmp_path / "home",
        PASSWORD,
        new_record("login", "Typo", {"url": "http://[broken", "password": "t"}),
        new_record(
            "login", "Forge", {"url": "https://forge.example", "username": "ann", "password": "f"}
        ),
    )
    env = cli_env(home, PASSWORD)
    r = run_cli(env, "git-credential", "get", stdin="url=http://[::1\n\n")
    assert r.returncode == 2 and "url 'http://[::1' is malformed" in r.stderr, r.stderr
    r = run_cli(env, "git-credential", "get", stdin="protocol=https\nhost=forge.example\n\n")
    assert (r.returncode, r.stdout) == (0, "username=ann\npassword=f\n"), r.stderr
    r = run_cli(env, "git-credential", "get", stdin="protocol=http\nhost=[broken\n\n")
    assert (r.returncode, r.stdout) == (0, ""), r.stderr
    with pytest.raises(InvalidInputError):
        parse_request("url=https://[x\n")
    assert specificity("http://[broken", CredentialRequest("http", "[broken")) is None


def test_requests_match_scheme_host_port_and_path() -> None:
    req = parse_request("protocol=https\nhost=git.example.com\npath=team/repo.git\n\n")
    assert req == CredentialRequest("https", "git.example.com", "team/repo.git")
    assert specificity("https://git.example.com", req) == 1
    assert specificity("git.example.com", req) == 1  # no scheme: https
    assert specificity("https://git.example.com:443/team", req) == len("team") + 2
    assert specificity("https://git.example.com/other", req) is None
    assert specificity("http://git.example.com", req) is None
    assert specificity("https://git.example.com:8443", req) is None
    assert specificity("https://evil.example.com", req) is None
    assert specificity("https://git.example.com.evil.net", req) is None
    port = parse_request("protocol=http\nhost=127.0.0.1:8080\n")
    assert specificity("http://127.0.0.1:8080/x", port) == 0
    assert specificity("http://127.0.0.1:8080", port) == 1
    assert specificity("http://127.0.0.1", port) is None


def test_git_clones_with_the_login_from_the_unlocked_agent(tmp_path: Path, served: Path) -> None:
    with git_http_server(served, "ann", "s3cret-for-git") as (url, attempts):
        home = account_home(
            tmp_path / "home",
            PASSWORD,
            new_record(
                "login",
                "Other site",
                {"username": "eve", "password": "x", "url": "http://127.0.0.2"},
            ),
            new_record(
                "login", "Git here", {"username": "ann", "password": "s3cret-for-git", "url": url}
            ),
        )
        env = cli_env(home, XDG_RUNTIME_DIR=short_runtime_dir())
        genv = _git_env(env, tmp_path)
        try:
            r = _git(genv, "clone", "-q", f"{url}/repo.git", str(tmp_path / "locked"))
            assert r.returncode != 0 and "run `strongroom unlock` first" in r.stderr
            assert attempts == []  # nothing was guessed
            assert run_cli(env | {"STRONGROOM_PASSWORD": PASSWORD}, "unlock").returncode == 0
            r = _git(genv, "clone", "-q", f"{url}/repo.git", str(tmp_path / "clone"))
            assert r.returncode == 0, r.stderr
            assert (tmp_path / "clone" / "README").read_text() == "hello from the served repo\n"
            assert attempts and set(attempts) == {"ann"}
            # git then offers the login to `store`: refused by default, nothing changes
            before = run_cli(env, "ls", "--json").stdout
            assert run_cli(env, "ls", "--json").stdout == before
        finally:
            run_cli(env, "lock")


def test_get_through_git_credential_fill_and_the_password(tmp_path: Path) -> None:
    home = account_home(
        tmp_path / "home",
        PASSWORD,
        new_record(
            "login",
            "Team",
            {"username": "ann", "password": "team-pw", "url": "https://git.example.com/team"},
        ),
        new_record(
            "login",
            "Host",
            {"username": "bob", "password": "host-pw", "url": "https://git.example.com"},
        ),
    )
    env = _git_env(cli_env(home, PASSWORD), tmp_path)
    fill = "protocol=https\nhost=git.example.com\npath=team/repo.git\n\n"
    r = subprocess.run(
        [
            "git",
            "-c",
            "credential.useHttpPath=true",
            "-c",
            f"credential.helper=!{sys.executable} -m cli git-credential",
            "credential",
            "fill",
        ],
        input=fill,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "username=ann\npassword=team-pw\n" in r.stdout  # the more specific login wins
    r = run_cli(env, "git-credential", "get", stdin="protocol=https\nhost=git.example.com\n")
    assert r.stdout == "username=bob\npassword=host-pw\n"
    r = run_cli(env, "git-credential", "get", stdin="protocol=https\nhost=nowhere.example\n")
    assert (r.returncode, r.stdout) == (0, "")


def test_store_and_erase_only_when_allowed(tmp_path: Path) -> None:
    home = account_home(tmp_path / "home", PASSWORD)
    env = cli_env(home, PASSWORD)
    cred = "protocol=https\nhost=git.example.com\nusername=ann\npassword=new-pw\n"
    r = run_cli(env, "git-credential", "store", stdin=cred)
    assert r.returncode == 2 and "--allow-writes on" in r.stderr
    assert run_cli(env, "ls", "--json").stdout.strip() == "[]"
    assert run_cli(env, "git-credential", "--allow-writes", "on").returncode == 0
    assert run_cli(env, "git-credential", "store", stdin=cred).returncode == 0
    assert run_cli(env, "get", "git.example.com", "--field", "password").stdout == "new-pw\n"
    assert (
        run_cli(env, "get", "git.example.com", "--field", "url").stdout
        == "https://git.example.com\n"
    )
    assert run_cli(env, "git-credential", "erase", stdin=cred).returncode == 0
    r = run_cli(env, "get", "git.example.com", "--field", "password")
    assert r.returncode == 1 and "no field 'password'" in r.stderr
    # git then asks for the password (the username filled in); an empty password= was used as the
    # password, so git never asked and every push failed until the helper was turned off
    ask = "protocol=https\nhost=git.example.com\n\n"
    r = run_cli(env, "git-credential", "get", stdin=ask)
    assert (r.returncode, r.stdout) == (0, "username=ann\n"), r.stderr
    assert run_cli(env, "git-credential", "--allow-writes", "off").returncode == 0
    assert run_cli(env, "git-credential", "store", stdin=cred).returncode == 2


def test_after_erase_git_asks_for_the_password_again(tmp_path: Path, served: Path) -> None:
    """The real git: a login whose password git erased answered 'password=' (empty), which git
    used, failed with and never asked; now git asks (GIT_ASKPASS here) and the clone works."""
    with git_http_server(served, "ann", "s3cret-for-git") as (url, _):
        home = account_home(
            tmp_path / "home",
            PASSWORD,
            new_record("login", "Git here", {"username": "ann", "password": "old", "url": url}),
        )
        env = cli_env(home, PASSWORD)
        assert run_cli(env, "git-credential", "--allow-writes", "on").returncode == 0
        askpass = tmp_path / "askpass.sh"
        askpass.write_text("#!/bin/sh\necho s3cret-for-git\n")
        askpass.chmod(0o700)
        genv = _git_env(env, tmp_path) | {"GIT_ASKPASS": str(askpass)}
        r = _git(genv, "clone", "-q", f"{url}/repo.git", str(tmp_path / "first"))
        assert r.returncode != 0  # the stored password is wrong: git erases it
        r = run_cli(env, "get", "Git here", "--field", "password")
        assert r.returncode == 1 and "no field 'password'" in r.stderr
        r = _git(genv, "clone", "-q", f"{url}/repo.git", str(tmp_path / "second"))
        assert r.returncode == 0, r.stderr
        assert run_cli(env, "get", "Git here", "--field", "password").stdout == "s3cret-for-git\n"
