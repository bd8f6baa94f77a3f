"""Secret references into programs: `read`, `run` (masked output, exit code) and `inject`,
through the unlock agent and with the password, on a real vault in real processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from clikit import account_home, cli_env, run_cli, short_runtime_dir
from hypothesis import given, settings
from hypothesis import strategies as st

from cli.masking import MASK, Masker
from vault.errors import InvalidInputError
from vault.records import new_record
from vault.refs import fill_template, format_ref, parse_ref, template_refs

PASSWORD = "refs test password"


@pytest.fixture
def vault_home(tmp_path: Path) -> Path:
    return account_home(
        tmp_path / "home",
        PASSWORD,
        new_record("login", "GitHub", {"username": "ann", "password": "gh-secret-1"}),
        new_record("login", "ci/deploy", {"username": "bot", "password": "s/ash 100%"}),
        new_record("login", "GitHub Enterprise", {"password": "other-secret"}),
    )


@pytest.fixture
def env(tmp_path: Path, vault_home: Path):  # type: ignore[no-untyped-def]
    e = cli_env(vault_home, XDG_RUNTIME_DIR=short_runtime_dir())
    yield e
    run_cli(e, "lock")


def _unlock(env: dict[str, str]) -> None:
    r = run_cli(env | {"STRONGROOM_PASSWORD": PASSWORD}, "unlock", "--timeout", "5m")
    assert r.returncode == 0, r.stderr


@given(st.text(min_size=1), st.text(min_size=1))
def test_format_then_parse_gives_back_title_and_field(title: str, field: str) -> None:
    ref = parse_ref(format_ref(title, field)) if title.strip() and field.strip() else None
    if ref is not None:
        assert (ref.record, ref.field) == (title, field)


def test_malformed_references_are_refused_with_the_shape() -> None:
    for bad in (
        "GitHub/password",
        "sr://GitHub",
        "sr://a/b/c",
        "sr:///password",
        "sr://x/ ",
        "sr://%ff/x",
    ):
        with pytest.raises(InvalidInputError, match="sr://"):
            parse_ref(bad)


def test_template_references_with_or_without_spaces() -> None:
    text = (
        "a={{ sr://GitHub/password }} b={{sr://ci%2Fdeploy/username}} c={{ sr://GitHub/password }}"
    )
    assert template_refs(text) == ["sr://GitHub/password", "sr://ci%2Fdeploy/username"]
    filled = fill_template(text, {"sr://GitHub/password": "P", "sr://ci%2Fdeploy/username": "U"})
    assert filled == "a=P b=U c=P"


@given(
    st.lists(st.text(alphabet="ab-xy", min_size=1, max_size=6), min_size=1, max_size=3),
    st.text(alphabet="ab-xy\n", max_size=60),
    st.lists(st.integers(1, 7), max_size=30),
)
def test_masking_does_not_depend_on_how_output_is_split(
    secrets: list[str], text: str, cuts: list[int]
) -> None:
    data = text.encode()
    whole = Masker(secrets)
    expected = whole.feed(data) + whole.flush()
    masker, out, pos = Masker(secrets), b"", 0
    for n in cuts:
        out += masker.feed(data[pos : pos + n])
        pos += n
    out += masker.feed(data[pos:]) + masker.flush()
    assert out == expected
    if expected.replace(MASK, b""):
        for s in secrets:
            assert s.encode() not in expected.replace(MASK, b"\0")


def test_read_by_title_id_and_escaped_title(env: dict[str, str]) -> None:
    pw = env | {"STRONGROOM_PASSWORD": PASSWORD}
    assert run_cli(pw, "read", "sr://GitHub/password").stdout == "gh-secret-1\n"
    rid = run_cli(pw, "read", "sr://GitHub/id").stdout.strip()
    assert run_cli(pw, "read", f"sr://{rid}/username").stdout == "ann\n"
    assert run_cli(pw, "read", format_ref("ci/deploy", "password")).stdout == "s/ash 100%\n"
    r = run_cli(pw, "read", "sr://github/password")  # exact title only: never a near match
    assert r.returncode == 1 and "exact title 'github'" in r.stderr and "secret" not in r.stdout
    r = run_cli(pw, "read", "sr://GitHub/pin")
    assert r.returncode == 1 and "no field 'pin'" in r.stderr
    r = run_cli(env, "read", "GitHub/password")
    assert r.returncode == 2 and "sr://RECORD/FIELD" in r.stderr


def test_run_resolves_references_for_the_child_and_masks_them(
    env: dict[str, str], tmp_path: Path
) -> None:
    _unlock(env)  # no password from here on: the agent answers
    (tmp_path / "app.env").write_text(
        "# deploy\nexport DEPLOY='sr://ci%2Fdeploy/password'\nPLAIN=1\n"
    )
    script = (
        "import os, sys; print('gh=' + os.environ['GH'], flush=True); "
        "sys.stderr.write('dep=' + os.environ['DEPLOY'] + ' plain=' + os.environ['PLAIN']); "
        "print('pw' in ''.join(k for k in os.environ if k.startswith('STRONGROOM_PASSWORD'))); "
        "sys.exit(7)"
    )
    r = run_cli(
        env | {"GH": "sr://GitHub/password"},
        "run",
        "--env-file",
        str(tmp_path / "app.env"),
        "--",
        sys.executable,
        "-c",
        script,
    )
    assert r.returncode == 7, r.stderr
    assert r.stdout == "gh=<concealed by strongroom>\nFalse\n"
    assert r.stderr == "dep=<concealed by strongroom> plain=1"
    # the child really had the values: it can write them where masking does not reach
    out = tmp_path / "seen"
    r = run_cli(
        env | {"GH": "sr://GitHub/password"},
        "run",
        "--",
        sys.executable,
        "-c",
        f"import os; open({str(out)!r}, 'w').write(os.environ['GH'])",
    )
    assert r.returncode == 0 and out.read_text() == "gh-secret-1"
    assert "GH" not in os.environ


def test_run_without_agent_asks_for_the_password_and_starts_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    args = ("run", "--", "touch", str(marker))
    r = run_cli(env | {"GH": "sr://GitHub/password"}, *args)
    assert r.returncode == 2 and "no password given" in r.stderr and not marker.exists()
    r = run_cli(env | {"GH": "sr://Nope/password", "STRONGROOM_PASSWORD": PASSWORD}, *args)
    assert r.returncode == 1 and "'Nope'" in r.stderr and not marker.exists()
    r = run_cli(env | {"GH": "sr://GitHub/password", "STRONGROOM_PASSWORD": PASSWORD}, *args)
    assert r.returncode == 0 and marker.exists()
    r = run_cli(env, "run", "--", "no-such-program-strongroom")
    assert r.returncode == 127 and "command not found" in r.stderr


def test_inject_writes_an_owner_only_file_or_nothing(env: dict[str, str], tmp_path: Path) -> None:
    _unlock(env)
    template = tmp_path / "config.tpl"
    template.write_text("user: {{ sr://GitHub/username }}\npass: {{sr://GitHub/password}}\n")
    out = tmp_path / "config.yml"
    r = run_cli(env, "inject", "-i", str(template), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text() == "user: ann\npass: gh-secret-1\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "gh-secret-1" not in r.stdout + r.stderr
    template.write_text("pass: {{ sr://GitHub/password }}\nmissing: {{ sr://Gone/password }}\n")
    fresh = tmp_path / "fresh.yml"
    r = run_cli(env, "inject", "-i", str(template), "-o", str(fresh))
    assert r.returncode == 1 and "'Gone'" in r.stderr
    assert not fresh.exists() and list(tmp_path.glob(".fresh.yml*")) == []


def test_read_through_the_agent_matches_read_with_the_password(env: dict[str, str]) -> None:
    with_pw = run_cli(
        env | {"STRONGROOM_PASSWORD": PASSWORD},
        "read",
        "--json",
        "sr://GitHub/password",
        "sr://GitHub/username",
    )
    _unlock(env)
    via_agent = run_cli(env, "read", "--json", "sr://GitHub/password", "sr://GitHub/username")
    assert via_agent.returncode == 0 and via_agent.stdout == with_pw.stdout
    assert subprocess.run(["true"]).returncode == 0


def test_run_refuses_a_nul_in_an_env_file_or_a_value_and_starts_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A NUL cannot be in an environment variable: it used to reach Popen (exit 70)."""
    marker = tmp_path / "ran"
    args = ("--", "touch", str(marker))
    (tmp_path / "nul.env").write_bytes(b"# ok\nA=x\x00y\n")
    r = run_cli(env, "run", "--env-file", str(tmp_path / "nul.env"), *args)
    assert r.returncode == 2 and "nul.env line 2 holds a NUL character" in r.stderr, r.stderr
    home = Path(env["STRONGROOM_HOME"])
    from vault.vault import Vault

    v = Vault.open(home)
    v.unlock(PASSWORD)
    v.add(new_record("login", "Nul", {"password": "a\x00b"}))
    v.close()
    r = run_cli(env | {"NUL": "sr://Nul/password", "STRONGROOM_PASSWORD": PASSWORD}, "run", *args)
    assert r.returncode == 2 and "NUL: the value of sr://Nul/password holds a NUL" in r.stderr
    assert "a\x00b" not in r.stderr and not marker.exists()


def test_inject_and_env_files_are_bounded_and_a_template_is_not_overwritten(
    env: dict[str, str], tmp_path: Path
) -> None:
    """/dev/zero as a template or env file used to be read until memory ran out; -o naming the
    template (also through a link) replaced the user's template with the secrets."""
    r = run_cli(env, "inject", "-i", "/dev/zero", "-o", str(tmp_path / "out"))
    assert r.returncode == 2 and "larger than 16 MiB: not a template file" in r.stderr
    r = run_cli(env, "run", "--env-file", "/dev/zero", "--", "true")
    assert r.returncode == 2 and "larger than 16 MiB: not an env file" in r.stderr
    template = tmp_path / "config.tpl"
    template.write_text("pass: {{ sr://GitHub/password }}\n")
    (tmp_path / "alias").symlink_to(template)
    for target in (template, tmp_path / "alias"):
        r = run_cli(
            env | {"STRONGROOM_PASSWORD": PASSWORD},
            "inject",
            "-i",
            str(template),
            "-o",
            str(target),
        )
        assert r.returncode == 2 and "is the template itself" in r.stderr, r.stderr
    assert template.read_text() == "pass: {{ sr://GitHub/password }}\n"
    r = run_cli(env, "inject", "-i", str(template), "-o", str(tmp_path / "no" / "out"))
    assert r.returncode == 2 and f"the folder {tmp_path / 'no'} does not exist" in r.stderr
    assert not (tmp_path / "out").exists()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("AB_=#'\" \t\x00\r\x0bexport") | st.characters())
        | st.binary(max_size=8).map(lambda b: b.decode("latin-1")),
        max_size=8,
    )
)
def test_any_env_file_parses_to_usable_variables_or_is_refused(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    """Whatever an env file holds: variables execve can take (identifier names, no NUL), or a
    CliError with exit 2 naming the file; a NUL reached Popen as ValueError (exit 70)."""
    from cli.commands.secrets import parse_env_file
    from cli.invocation import EXIT_USAGE, CliError

    path = tmp_path_factory.mktemp("env") / "app.env"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
    try:
        found = parse_env_file(path)
    except CliError as exc:
        assert exc.code == EXIT_USAGE and str(path) in str(exc)
        return
    for key, value in found.items():
        assert key.isidentifier() and "\0" not in key + value and "=" not in key
