"""An SSH key that asks before each use: the real `strongroom ssh-agent` and unlock agent, the
real `ssh-keygen -Y sign` as the client, and the real app (Pilot) answering the question by keys.
With no app open the signature is refused (tests/test_ssh_agent.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from clikit import cli_env, run_cli, short_runtime_dir
from pilotkit import on_screen, until

from agent.wire import call, connect, recv, request, send
from tui.app import StrongroomApp
from tui.screens.records import RecordListScreen
from tui.screens.sshask import SshAskScreen

pytestmark = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="needs ssh-keygen (apt-get install openssh-client)"
)

PW = "ssh ask test password"
SIZE = (100, 30)


def _home_with_asking_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A vault with an SSH key that asks (its public key in tmp_path/laptop.pub): the CLI's env."""
    from vault.records import new_record
    from vault.sshkeys import generate_ed25519
    from vault.vault import Vault

    home = tmp_path / "home"
    key = generate_ed25519("ann@laptop")
    v = Vault.create(home, "ann@example.com", PW)
    values = {"private-key": key.private_pem, "public-key": key.public_line, "ask": "yes"}
    v.add(new_record("ssh-key", "Laptop", values | {"fingerprint": key.fingerprint}))
    v.close()
    (tmp_path / "laptop.pub").write_text(key.public_line + "\n")
    runtime = short_runtime_dir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)  # the app finds the same agent
    e = cli_env(home, XDG_RUNTIME_DIR=runtime)
    e.pop("SSH_AUTH_SOCK", None)
    return e


@contextmanager
def _ssh_agent(e: dict[str, str]) -> Iterator[dict[str, str]]:
    """`strongroom ssh-agent` serving the home: the env with its SSH_AUTH_SOCK."""
    r = run_cli(e, "ssh-agent")
    assert r.returncode == 0, r.stderr
    lines = dict(p.split("=", 1) for p in r.stdout.replace("\n", " ").split("; ") if "=" in p)
    try:
        yield e | lines
    finally:
        try:
            os.kill(int(lines["SSH_AGENT_PID"]), signal.SIGTERM)
        except ProcessLookupError:
            pass


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A vault with an SSH key that asks, unlocked in an agent, and an SSH agent serving it."""
    e = _home_with_asking_key(tmp_path, monkeypatch)
    assert run_cli(e | {"STRONGROOM_PASSWORD": PW}, "unlock").returncode == 0
    try:
        with _ssh_agent(e) as with_sock:
            yield with_sock
    finally:
        run_cli(e, "lock")


def _start_signing(env: dict[str, str], tmp_path: Path) -> subprocess.Popen[str]:
    message = tmp_path / "commit.txt"
    message.write_text("a commit to sign\n")
    Path(f"{message}.sig").unlink(missing_ok=True)
    cmd = ["ssh-keygen", "-Y", "sign", "-f", str(tmp_path / "laptop.pub"), "-n", "git"]
    return subprocess.Popen(
        [*cmd, str(message)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _verified(tmp_path: Path) -> bool:
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("ann " + (tmp_path / "laptop.pub").read_text())
    message = tmp_path / "commit.txt"
    done = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "ann", "-n", "git", "-s"]
        + [f"{message}.sig"],
        input=message.read_text(),
        capture_output=True,
        text=True,
    )
    return done.returncode == 0 and "Good" in done.stdout


async def test_the_open_app_allows_or_refuses_each_signature(
    env: dict[str, str], tmp_path: Path
) -> None:
    home = env["STRONGROOM_HOME"]
    app = StrongroomApp(home=Path(home))
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, RecordListScreen)  # opened with the agent's keys

        def app_answers() -> bool:
            ping = call(home, {"op": "ping"}, timeout=5)
            return bool(ping and ping.get("askers") == 1)

        await until(pilot, app_answers, 20, "the app to watch the agent")

        signing = _start_signing(env, tmp_path)
        await on_screen(pilot, SshAskScreen, seconds=30)
        shown = str(app.screen.query_one("#ssh-ask").render())
        assert "Laptop" in shown and "ssh-keygen -Y sign" in shown and "SHA256:" in shown
        assert signing.poll() is None  # the SSH agent waits for the answer
        question = app.screen
        assert isinstance(question, SshAskScreen)
        await until(pilot, lambda: question.armed, 10, "the question to take answers")
        question.armed = False  # as in its first ARM_SECONDS on screen:
        await pilot.press("y")  # a y typed for something else does not allow
        assert app.screen is question and signing.poll() is None
        question.armed = True
        await pilot.press("y")
        await until(pilot, lambda: signing.poll() is not None, 30, "ssh-keygen to finish")
        assert signing.returncode == 0, signing.stderr.read() if signing.stderr else ""
        assert _verified(tmp_path)
        await on_screen(pilot, RecordListScreen)

        refused = _start_signing(env, tmp_path)
        await on_screen(pilot, SshAskScreen, seconds=30)
        await pilot.press("n")
        await until(pilot, lambda: refused.poll() is not None, 30, "ssh-keygen to finish")
        assert refused.returncode != 0 and not (tmp_path / "commit.txt.sig").exists()

        # another app answers first: its answer counts and this app's question closes
        other = connect(home, 10)
        assert other is not None
        try:
            send(other, request("watch", ssh_ask=True))
            assert recv(other)["ok"]
            await until(
                pilot,
                lambda: (call(home, {"op": "ping"}, timeout=5) or {}).get("askers") == 2,
                20,
                "the second app to watch",
            )
            elsewhere = _start_signing(env, tmp_path)
            await on_screen(pilot, SshAskScreen, seconds=30)
            asked = recv(other)  # the same question reached the other app
            assert asked["event"] == "ssh_ask" and asked["title"] == "Laptop"
            send(other, request("ssh_answer", id=asked["id"], allow=True))
            await until(pilot, lambda: elsewhere.poll() is not None, 30, "ssh-keygen to finish")
            assert elsewhere.returncode == 0 and _verified(tmp_path)
            await until(pilot, lambda: not isinstance(app.screen, SshAskScreen), 10, "closed")
        finally:
            other.close()

        # a question left open closes when the vault is locked, and the signature is refused
        waiting = _start_signing(env, tmp_path)
        await on_screen(pilot, SshAskScreen, seconds=30)
        assert run_cli(env, "lock").returncode == 0
        await until(pilot, lambda: waiting.poll() is not None, 30, "ssh-keygen to finish")
        assert waiting.returncode != 0 and not (tmp_path / "commit.txt.sig").exists()
        await until(pilot, lambda: not isinstance(app.screen, SshAskScreen), 10, "no question")


#: The unlock agent's wait for an answer in test_an_unanswered_question_is_refused_when_it_expires.
ASK_WAIT = 1.5


@pytest.fixture
def quick_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """As `env`, but the unlock agent (agent.daemon.serve, as `strongroom unlock` runs it) serves
    from a thread here with an ASK_WAIT-second wait for answers instead of 60."""
    from agent.daemon import serve
    from cli.agent_host import command_runner

    e = _home_with_asking_key(tmp_path, monkeypatch)
    home = Path(e["STRONGROOM_HOME"])
    agent = threading.Thread(
        target=serve, args=(home, 900.0, command_runner(home)), kwargs={"ask_wait": ASK_WAIT}
    )
    agent.start()
    try:
        deadline = time.monotonic() + 30
        while call(home, {"op": "ping"}, timeout=5) is None:
            assert time.monotonic() < deadline and agent.is_alive(), "the agent did not start"
            time.sleep(0.02)
        assert (call(home, {"op": "unlock", "password": PW}) or {}).get("ok")
        with _ssh_agent(e) as with_sock:
            yield with_sock
    finally:
        call(home, {"op": "lock"}, timeout=5)
        agent.join(30)
        assert not agent.is_alive()


async def test_an_unanswered_question_is_refused_when_it_expires(
    quick_env: dict[str, str], tmp_path: Path
) -> None:
    """No answer in the app: the signature is refused once the agent's wait ends (60 s; here
    ASK_WAIT), not before, the question closes by itself, and the next signature is asked
    again and allowed."""
    env = quick_env
    home = env["STRONGROOM_HOME"]
    app = StrongroomApp(home=Path(home))
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, RecordListScreen)
        await until(
            pilot,
            lambda: (call(home, {"op": "ping"}, timeout=5) or {}).get("askers") == 1,
            20,
            "the app to watch the agent",
        )
        started = time.monotonic()
        unanswered = _start_signing(env, tmp_path)
        await on_screen(pilot, SshAskScreen, seconds=30)
        question = app.screen
        assert unanswered.poll() is None  # waiting for an answer nobody gives
        await until(pilot, lambda: unanswered.poll() is not None, 30, "ssh-keygen to finish")
        assert time.monotonic() - started >= ASK_WAIT  # refused at the end of the wait
        err = unanswered.stderr.read() if unanswered.stderr else ""
        assert unanswered.returncode != 0 and "agent refused operation" in err, err
        assert not (tmp_path / "commit.txt.sig").exists()
        await until(pilot, lambda: app.screen is not question, 10, "the question to close")
        assert isinstance(app.screen, RecordListScreen)

        again = _start_signing(env, tmp_path)  # the agent and the app still ask and answer
        await on_screen(pilot, SshAskScreen, seconds=30)
        second = app.screen
        assert isinstance(second, SshAskScreen) and second is not question
        await until(pilot, lambda: second.armed, 10, "the question to take answers")
        await pilot.press("y")
        await until(pilot, lambda: again.poll() is not None, 30, "ssh-keygen to finish")
        assert again.returncode == 0 and _verified(tmp_path)
