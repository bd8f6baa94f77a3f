"""SSH keys in the vault and the SSH agent, driven with the real OpenSSH tools: ssh-keygen
makes and checks keys, ssh-add lists the agent's identities, ssh-keygen -Y signs through it and
verifies, and ssh logs in to a throwaway sshd on 127.0.0.1."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clikit import account_home, cli_env, run_cli, short_runtime_dir
from pemkit import encrypted_pem, openssl_pem, with_kdf_numbers

pytestmark = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None or shutil.which("ssh-add") is None,
    reason="OpenSSH client tools are not installed (apt-get install openssh-client)",
)

PASSWORD = "ssh agent test password"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    home = account_home(tmp_path / "home", PASSWORD)
    e = cli_env(home, XDG_RUNTIME_DIR=short_runtime_dir())
    e.pop("SSH_AUTH_SOCK", None)
    yield e
    run_cli(e, "lock")


def _unlock(env: dict[str, str]) -> None:
    r = run_cli(env | {"STRONGROOM_PASSWORD": PASSWORD}, "unlock")
    assert r.returncode == 0, r.stderr


def _keygen(path: Path, kind: str, passphrase: str, comment: str) -> Path:
    args = ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", comment, "-f", str(path)]
    subprocess.run(args + (["-b", "2048"] if kind == "rsa" else []), check=True)
    return path


def _fingerprint(public_line: str, tmp_path: Path) -> str:
    pub = tmp_path / "fp.pub"
    pub.write_text(public_line + "\n")
    out = subprocess.run(
        ["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True, check=True
    )
    return out.stdout.split()[1]


@pytest.fixture
def ssh_agent(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """`strongroom ssh-agent` started; the environment it printed (stopped afterwards)."""
    r = run_cli(env, "ssh-agent")
    assert r.returncode == 0, r.stderr
    lines = dict(
        part.split("=", 1) for part in r.stdout.replace("\n", " ").split("; ") if "=" in part
    )
    assert set(lines) == {"SSH_AUTH_SOCK", "SSH_AGENT_PID"}, r.stdout
    yield env | lines
    try:
        os.kill(int(lines["SSH_AGENT_PID"]), signal.SIGTERM)
    except ProcessLookupError:
        pass


def test_generate_and_import_keys(env: dict[str, str], tmp_path: Path) -> None:
    _unlock(env)  # all through the agent
    rid = run_cli(
        env, "add", "ssh-key", "--title", "Laptop", "--generate", "--comment", "ann@laptop"
    )
    assert rid.returncode == 0, rid.stderr
    public = run_cli(env, "get", "Laptop", "--field", "public-key").stdout.strip()
    assert public.startswith("ssh-ed25519 ") and public.endswith(" ann@laptop")
    fp = run_cli(env, "get", "Laptop", "--field", "fingerprint").stdout.strip()
    assert fp == _fingerprint(public, tmp_path)
    shown = run_cli(env, "get", "Laptop").stdout
    assert "Private key: ••••••••" in shown and "PRIVATE KEY" not in shown

    key = _keygen(tmp_path / "id_work", "ed25519", "correct pass phrase", "ann@work")
    arg = ("add", "ssh-key", "--title", "Work", "--private-key", str(key))
    r = run_cli(env, *arg)
    assert r.returncode == 3 and "STRONGROOM_SSH_PASSPHRASE" in r.stderr
    r = run_cli(env | {"STRONGROOM_SSH_PASSPHRASE": "wrong"}, *arg)
    assert r.returncode == 3 and "wrong passphrase" in r.stderr
    r = run_cli(env | {"STRONGROOM_SSH_PASSPHRASE": "correct pass phrase"}, *arg)
    assert r.returncode == 0, r.stderr
    stored = run_cli(env, "get", "Work", "--field", "public-key").stdout.split()
    assert stored[:2] == (tmp_path / "id_work.pub").read_text().split()[:2]
    assert stored[2] == "ann@work"  # the comment of the .pub beside it
    # the stored private key is a usable OpenSSH key without passphrase
    pem = tmp_path / "stored"
    pem.write_text(run_cli(env, "get", "Work", "--field", "private-key").stdout)
    pem.chmod(0o600)
    derived = subprocess.run(
        ["ssh-keygen", "-y", "-P", "", "-f", str(pem)], capture_output=True, text=True
    )
    assert derived.stdout.split()[:2] == stored[:2], derived.stderr
    r = run_cli(env, "add", "ssh-key", "--title", "X")
    assert r.returncode == 2 and "--generate" in r.stderr


def test_import_with_the_password_when_no_agent(env: dict[str, str], tmp_path: Path) -> None:
    key = _keygen(tmp_path / "id_rsa", "rsa", "", "ann@rsa")
    pw = env | {"STRONGROOM_PASSWORD": PASSWORD}
    r = run_cli(
        pw, "add", "ssh-key", "--title", "RSA", "--private-key", "-", stdin=key.read_bytes()
    )
    assert r.returncode == 0, r.stderr
    public = run_cli(pw, "get", "RSA", "--field", "public-key").stdout.split()
    assert public[:2] == (tmp_path / "id_rsa.pub").read_text().split()[:2]


def test_agent_lists_signs_and_empties_when_locked(
    env: dict[str, str], ssh_agent: dict[str, str], tmp_path: Path
) -> None:
    sock = Path(ssh_agent["SSH_AUTH_SOCK"])
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
    listed = subprocess.run(["ssh-add", "-l"], env=ssh_agent, capture_output=True, text=True)
    assert listed.returncode == 1 and "no identities" in listed.stdout  # locked: none
    found = run_cli(env, "ssh-agent")  # already running; says why it has no keys (stderr)
    assert ssh_agent["SSH_AGENT_PID"] in found.stdout and "vault is locked" in found.stderr
    _unlock(env)
    run_cli(env, "add", "ssh-key", "--title", "Ed", "--generate", "--comment", "ed@test")
    rsa = _keygen(tmp_path / "id_rsa", "rsa", "", "rsa@test")
    assert (
        run_cli(env, "add", "ssh-key", "--title", "Rsa", "--private-key", str(rsa)).returncode == 0
    )
    listed = subprocess.run(["ssh-add", "-l"], env=ssh_agent, capture_output=True, text=True)
    fps = {run_cli(env, "get", t, "--field", "fingerprint").stdout.strip() for t in ("Ed", "Rsa")}
    assert (
        listed.returncode == 0 and {line.split()[1] for line in listed.stdout.splitlines()} == fps
    )

    message = tmp_path / "message.txt"
    message.write_text("signed through the strongroom agent\n")
    for title in ("Ed", "Rsa"):  # ssh-keygen asks RSA keys for rsa-sha2-512
        public = tmp_path / f"{title}.pub"
        public.write_text(run_cli(env, "get", title, "--field", "public-key").stdout)
        sig = Path(f"{message}.sig")
        sig.unlink(missing_ok=True)
        signed = subprocess.run(
            ["ssh-keygen", "-Y", "sign", "-f", str(public), "-n", "file", str(message)],
            env=ssh_agent,
            capture_output=True,
            text=True,
        )
        assert signed.returncode == 0, signed.stderr
        allowed = tmp_path / "allowed_signers"
        allowed.write_text(f"ann {public.read_text()}")
        verified = subprocess.run(
            [
                "ssh-keygen",
                "-Y",
                "verify",
                "-f",
                str(allowed),
                "-I",
                "ann",
                "-n",
                "file",
                "-s",
                str(sig),
            ],
            input=message.read_text(),
            capture_output=True,
            text=True,
        )
        assert verified.returncode == 0 and "Good" in verified.stdout, verified.stderr

    assert run_cli(env, "lock").returncode == 0
    listed = subprocess.run(["ssh-add", "-l"], env=ssh_agent, capture_output=True, text=True)
    assert listed.returncode == 1 and "no identities" in listed.stdout
    sig = Path(f"{message}.sig")
    sig.unlink(missing_ok=True)
    refused = subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(tmp_path / "Ed.pub"), "-n", "file", str(message)],
        env=ssh_agent,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and not sig.exists()
    _unlock(env)  # the same SSH agent serves the keys again
    listed = subprocess.run(["ssh-add", "-l"], env=ssh_agent, capture_output=True, text=True)
    assert len(listed.stdout.splitlines()) == 2
    again = run_cli(env, "ssh-agent")  # already running: the same socket and pid
    assert ssh_agent["SSH_AGENT_PID"] in again.stdout and str(sock) in again.stdout
    assert again.stderr == ""  # unlocked: nothing to say


def test_a_socket_in_a_shared_folder_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    r = run_cli(env, "ssh-agent", "--socket", str(shared / "agent.sock"))
    assert r.returncode == 2 and "chmod 700" in r.stderr and not (shared / "agent.sock").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(
    not os.path.exists("/usr/sbin/sshd") or os.geteuid() != 0,
    reason="needs /usr/sbin/sshd (apt-get install openssh-server) and root to run it",
)
def test_ssh_logs_in_to_a_local_sshd_with_a_vault_key(
    env: dict[str, str], ssh_agent: dict[str, str], tmp_path: Path
) -> None:
    _unlock(env)
    run_cli(env, "add", "ssh-key", "--title", "Login", "--generate")
    sshd_dir = tmp_path / "sshd"
    sshd_dir.mkdir()
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(sshd_dir / "host")], check=True
    )
    (sshd_dir / "authorized_keys").write_text(
        run_cli(env, "get", "Login", "--field", "public-key").stdout
    )
    port = _free_port()
    (sshd_dir / "config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {sshd_dir / 'host'}\n"
        f"AuthorizedKeysFile {sshd_dir / 'authorized_keys'}\nStrictModes no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nPidFile none\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)
    sshd = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(sshd_dir / "config")], stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        ssh = [
            "ssh",
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            f"UserKnownHostsFile={tmp_path / 'known_hosts'}",
            "-p",
            str(port),
            f"{getpass.getuser()}@127.0.0.1",
            "echo",
            "logged-in-with-strongroom",
        ]
        r = subprocess.run(
            ssh, env=ssh_agent | {"HOME": str(tmp_path)}, capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0 and r.stdout.strip() == "logged-in-with-strongroom", r.stderr
        run_cli(env, "lock")
        r = subprocess.run(
            ssh, env=ssh_agent | {"HOME": str(tmp_path)}, capture_output=True, text=True, timeout=60
        )
        assert r.returncode != 0 and "logged-in" not in r.stdout
    finally:
        sshd.terminate()
        sshd.wait(timeout=10)


def test_unlock_also_starts_the_ssh_agent(env: dict[str, str], tmp_path: Path) -> None:
    pw = env | {"STRONGROOM_PASSWORD": PASSWORD}
    assert run_cli(pw, "add", "ssh-key", "--title", "K", "--generate").returncode == 0
    r = run_cli(pw, "unlock", "--ssh-agent")
    assert r.returncode == 0, r.stderr
    lines = dict(
        part.split("=", 1) for part in r.stdout.replace("\n", " ").split("; ") if "=" in part
    )
    try:
        listed = subprocess.run(
            ["ssh-add", "-l"], env=env | lines, capture_output=True, text=True, timeout=30
        )
        fp = run_cli(env, "get", "K", "--field", "fingerprint").stdout.strip()
        assert listed.returncode == 0 and fp in listed.stdout
    finally:
        os.kill(int(lines["SSH_AGENT_PID"]), signal.SIGTERM)


def _sign(env: dict[str, str], public: Path, message: Path) -> subprocess.CompletedProcess[str]:
    Path(f"{message}.sig").unlink(missing_ok=True)
    return subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(public), "-n", "git", str(message)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_key_that_asks_before_each_use_is_refused_with_no_app_open(
    env: dict[str, str], ssh_agent: dict[str, str], tmp_path: Path
) -> None:
    _unlock(env)
    assert run_cli(env, "add", "ssh-key", "--title", "Asks", "--generate", "--ask").returncode == 0
    assert run_cli(env, "add", "ssh-key", "--title", "Plain", "--generate").returncode == 0
    assert run_cli(env, "get", "Asks", "--field", "ask").stdout.strip() == "yes"
    listed = subprocess.run(["ssh-add", "-l"], env=ssh_agent, capture_output=True, text=True)
    assert len(listed.stdout.splitlines()) == 2, listed.stdout  # listing never asks
    message = tmp_path / "commit.txt"
    message.write_text("a commit\n")
    keys = {}
    for title in ("Asks", "Plain"):
        keys[title] = tmp_path / f"{title}.pub"
        keys[title].write_text(run_cli(env, "get", title, "--field", "public-key").stdout)
    refused = _sign(ssh_agent, keys["Asks"], message)
    assert refused.returncode != 0 and not Path(f"{message}.sig").exists()
    assert "agent refused" in refused.stderr, refused.stderr
    assert _sign(ssh_agent, keys["Plain"], message).returncode == 0  # the other key signs

    bad = run_cli(env, "edit", "Asks", "--field", "ask=maybe")
    assert bad.returncode == 2 and "yes or no" in bad.stderr
    assert run_cli(env, "edit", "Asks", "--field", "ask=no").returncode == 0
    assert run_cli(env, "get", "Asks", "--field", "ask").returncode != 0  # the field is gone
    signed = _sign(ssh_agent, keys["Asks"], message)
    assert signed.returncode == 0, signed.stderr
    assert run_cli(env, "edit", "Asks", "--field", "ask=YES").returncode == 0
    assert _sign(ssh_agent, keys["Asks"], message).returncode != 0


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_signs_commits_with_a_vault_key(
    env: dict[str, str], ssh_agent: dict[str, str], tmp_path: Path
) -> None:
    """The README's steps: gpg.format ssh, user.signingkey the record's public key, commit -S."""
    _unlock(env)
    assert run_cli(env, "add", "ssh-key", "--title", "Signing", "--generate").returncode == 0
    public = run_cli(env, "get", "Signing", "--field", "public-key").stdout.strip()
    repo = tmp_path / "repo"
    git_env = ssh_agent | {
        "HOME": str(tmp_path),
        "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(repo), *args], env=git_env, capture_output=True, text=True
        )

    subprocess.run(["git", "init", "-q", str(repo)], env=git_env, check=True)
    for key, value in (
        ("user.name", "Ann"),
        ("user.email", "ann@example.com"),
        ("gpg.format", "ssh"),
        ("user.signingkey", public),
    ):
        assert git("config", key, value).returncode == 0
    (repo / "file.txt").write_text("signed\n")
    assert git("add", "file.txt").returncode == 0
    committed = git("commit", "-S", "-q", "-m", "signed by the vault's key")
    assert committed.returncode == 0, committed.stderr
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"ann@example.com {public}\n")
    verified = git("-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit", "HEAD")
    assert verified.returncode == 0 and 'Good "git" signature' in verified.stderr, verified.stderr

    assert run_cli(env, "edit", "Signing", "--field", "ask=yes").returncode == 0
    (repo / "file.txt").write_text("again\n")
    refused = git("commit", "-a", "-S", "-q", "-m", "not signed: no app open to ask")
    assert refused.returncode != 0 and "agent refused operation" in refused.stderr, refused.stderr


def _with_bcrypt_rounds(key: Path, rounds: int) -> bytes:
    """The OpenSSH key file at `key` with its bcrypt KDF's rounds field set to `rounds`."""
    import base64

    lines = key.read_text().strip().splitlines()
    raw = bytearray(base64.b64decode("".join(lines[1:-1])))
    pos = len(b"openssh-key-v1\0")
    for _ in range(2):  # ciphername, kdfname
        pos += 4 + int.from_bytes(raw[pos : pos + 4], "big")
    salt_at = pos + 4
    rounds_at = salt_at + 4 + int.from_bytes(raw[salt_at : salt_at + 4], "big")
    raw[rounds_at : rounds_at + 4] = rounds.to_bytes(4, "big")
    body = base64.b64encode(bytes(raw)).decode()
    return f"{lines[0]}\n{body}\n{lines[-1]}\n".encode()


def test_wrong_key_files_are_named_and_a_hostile_kdf_is_refused(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A .pub file, an empty file and a DSA key got the key library's text (a URL to its FAQ, a
    deprecation warning); a protected key asking for 2**31 bcrypt rounds decrypted for hours."""
    pw = env | {"STRONGROOM_PASSWORD": PASSWORD, "STRONGROOM_SSH_PASSPHRASE": "pp"}
    key = _keygen(tmp_path / "id_ed25519", "ed25519", "pp", "ann@x")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "hostile").write_bytes(_with_bcrypt_rounds(key, 2**31))
    cases = [
        (tmp_path / "id_ed25519.pub", "this is a public key (the .pub file)"),
        (tmp_path / "empty", "the SSH key file is empty"),
        (tmp_path / "hostile", "asks for 2147483648 bcrypt rounds"),
    ]
    if (
        shutil.which("ssh-keygen")
        and subprocess.run(
            ["ssh-keygen", "-q", "-t", "dsa", "-N", "", "-f", str(tmp_path / "dsa")],
            capture_output=True,
        ).returncode
        == 0
    ):
        cases.append((tmp_path / "dsa", "unsupported SSH key type"))
    for path, said in cases:
        r = run_cli(pw, "add", "ssh-key", "--title", "K", "--private-key", str(path), timeout=60)
        assert r.returncode == 2 and said in r.stderr, (path.name, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "http" not in r.stderr, r.stderr
    no_passphrase = env | {"STRONGROOM_PASSWORD": PASSWORD}  # refused before one is asked for
    r = run_cli(no_passphrase, "add", "ssh-key", "--title", "K", "--private-key", str(cases[2][0]))
    assert r.returncode == 2 and cases[2][1] in r.stderr, r.stderr
    r = run_cli(pw, "add", "ssh-key", "--title", "K", "--private-key", str(key))
    assert r.returncode == 0, r.stderr  # 16 rounds, as ssh-keygen writes
    assert run_cli(pw, "ls", "--json").stdout.count('"title"') == 1


def test_a_pem_key_asking_for_endless_key_derivation_is_refused_at_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    """An encrypted PKCS#8 PEM key asking for 2**31 PBKDF2 iterations kept the key library
    deriving for minutes to hours; now it is refused from its DER before any passphrase is asked
    (exit 2, nothing stored), as are PBES1 and scrypt asking too much. The timeouts only guard
    against the hang: the refusal takes no key derivation at all."""
    pw = env | {"STRONGROOM_PASSWORD": PASSWORD}
    protected = encrypted_pem(b"pp")
    files = {"pbkdf2": with_kdf_numbers(protected, 2**31)}
    said = {"pbkdf2": "asks for 2,147,483,648 PBKDF2 iterations (at most 10,000,000 are run"}
    v1 = openssl_pem(tmp_path, "pp", "-v1", "PBE-SHA1-3DES")
    if v1 is not None:
        files["pbes1"] = with_kdf_numbers(v1, 2**40)
        said["pbes1"] = "asks for 1,099,511,627,776 PBE iterations"
        scrypt = openssl_pem(tmp_path, "pp", "-scrypt")
        assert scrypt is not None
        files["scrypt"] = with_kdf_numbers(scrypt, 1024, 8, 2**31 - 1)
        said["scrypt"] = "asks for scrypt with N=1,024, r=8, p=2,147,483,647"
        asn1 = subprocess.run(
            ["openssl", "asn1parse", "-i"], input=files["pbkdf2"], capture_output=True
        )
        assert b"INTEGER           :80000000" in asn1.stdout, asn1  # real ASN.1, 2**31
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        for passphrase in ({"STRONGROOM_SSH_PASSPHRASE": "pp"}, {}):
            r = run_cli(
                pw | passphrase, "add", "ssh-key", "--title", "K", "--private-key",
                str(tmp_path / name), timeout=30,
            )  # fmt: skip
            assert r.returncode == 2 and said[name] in r.stderr, (name, r.stderr)
            assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        r = run_cli(pw, "add", "ssh-key", "--title", "K", "--private-key", "-", stdin=data)
        assert r.returncode == 2 and said[name] in r.stderr, (name, r.stderr)
    if v1 is not None:  # scrypt numbers OpenSSL refuses raised the key library's InternalError
        (tmp_path / "n3").write_bytes(with_kdf_numbers(scrypt, 3, 8, 1))
        arg = ("add", "ssh-key", "--title", "K", "--private-key", str(tmp_path / "n3"))
        r = run_cli(pw | {"STRONGROOM_SSH_PASSPHRASE": "pp"}, *arg)
        assert r.returncode == 2 and "passphrase protection is damaged" in r.stderr, r.stderr
    assert run_cli(pw, "ls", "--json").stdout.count('"title"') == 0  # nothing stored

    # set as a record's private key: refused the same way, the key kept
    assert run_cli(pw, "add", "ssh-key", "--title", "K", "--generate").returncode == 0
    before = run_cli(pw, "get", "K", "--field", "private-key").stdout
    r = run_cli(pw, "edit", "K", "--field", "private-key=" + files["pbkdf2"].decode(), timeout=30)
    assert r.returncode == 2 and said["pbkdf2"] in r.stderr, r.stderr
    assert run_cli(pw, "get", "K", "--field", "private-key").stdout == before

    # the same keys asking for sane numbers still import, legacy Proc-Type PEM too
    keys = {"pkcs8": protected, "legacy": encrypted_pem(b"pp", traditional=True)}
    keys |= {"pbes1-ok": v1, "scrypt-ok": scrypt} if v1 is not None else {}
    for name, data in keys.items():
        assert data is not None
        path = tmp_path / f"{name}.pem"
        path.write_bytes(data)
        arg = ("add", "ssh-key", "--title", name, "--private-key", str(path))
        r = run_cli(pw | {"STRONGROOM_SSH_PASSPHRASE": "wrong"}, *arg)
        assert r.returncode == 3 and "wrong passphrase" in r.stderr, (name, r.stderr)
        r = run_cli(pw | {"STRONGROOM_SSH_PASSPHRASE": "pp"}, *arg)
        assert r.returncode == 0, (name, r.stderr)
        public = run_cli(pw, "get", name, "--field", "public-key").stdout.strip()
        assert public.startswith(("ssh-ed25519 ", "ssh-rsa ")), public


def test_the_ssh_agent_survives_malformed_messages(
    env: dict[str, str], ssh_agent: dict[str, str]
) -> None:
    """Lying lengths, unknown types, a huge length, a truncated sign request, a peer that hangs
    up mid-message: each connection is answered or closed, and the agent keeps serving keys."""
    _unlock(env)
    assert run_cli(env, "add", "ssh-key", "--title", "Ed", "--generate").returncode == 0
    path = ssh_agent["SSH_AUTH_SOCK"]

    def exchange(raw: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(30)
            s.connect(path)
            out = b""
            try:
                s.sendall(raw)
                s.shutdown(socket.SHUT_WR)
                while chunk := s.recv(65536):
                    out += chunk
            except (ConnectionResetError, BrokenPipeError):  # closed with our bytes unread
                pass
            return out

    frame = lambda body: len(body).to_bytes(4, "big") + body  # noqa: E731
    hostile = [
        b"\xff\xff\xff\xff",  # 4 GiB announced
        (10**6).to_bytes(4, "big") + b"\x0b",  # over the limit, then a hang-up
        (100).to_bytes(4, "big") + b"\x0b",  # fewer bytes than announced
        frame(b""),  # an empty message
        frame(b"\x7f" + os.urandom(50)),  # an unknown type
        frame(b"\x0d\x00\x00\x10\x00abc"),  # a sign request whose key blob is cut short
        frame(b"\x0d" + frame(b"x") + (2**31).to_bytes(4, "big")),  # data length lying
        b"\x00\x00",  # a hang-up inside the length
    ]
    for raw in hostile:
        reply = exchange(raw)
        assert reply in (b"", frame(b"\x05")), (raw[:12], reply[:12])  # closed or FAILURE
    listed = subprocess.run(["ssh-add", "-l"], env=ssh_agent, capture_output=True, text=True)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 1, listed.stderr


def test_editing_a_private_key_to_garbage_is_refused(env: dict[str, str]) -> None:
    """edit --field private-key=garbage was stored, and the SSH agent then left the key out of
    its list without a word; now refused with exit 2 and the key kept."""
    pw = env | {"STRONGROOM_PASSWORD": PASSWORD}
    assert run_cli(pw, "add", "ssh-key", "--title", "K", "--generate").returncode == 0
    before = run_cli(pw, "get", "K", "--field", "private-key").stdout
    r = run_cli(pw, "edit", "K", "--field", "private-key=garbage")
    assert r.returncode == 2 and "not an SSH private key" in r.stderr, r.stderr
    assert run_cli(pw, "get", "K", "--field", "private-key").stdout == before
