"""Cloud sync from the command line, as a person or a script uses it (CLI.md, PRODUCT.md #6, #7).

A real account server runs in its own process on 127.0.0.1 (random port): `strongroom server` on
SQLite, and the same server on SQLite and on PostgreSQL when one is reachable (skipped with the
reason otherwise).
Each device is its own --home folder driven through `python -m cli` subprocesses.
"""

from __future__ import annotations

import email
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from clikit import cli_env, free_port, run_cli, run_on_terminal
from pgcheck import PG_URL, pg_unavailable
from resetform import submit_reset_form

PW = "correct horse battery staple"
NEW_PW = "tr0ub4dor & three more words"
RESET_PW = "a brand new password after the reset"
EMAIL = "ann@example.com"
_PG_SKIP = pg_unavailable()


@dataclass
class Server:
    url: str
    outbox: Path


def _start(cmd: list[str], url: str, cwd: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli_env(), cwd=cwd
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"the server exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start within 30 s")


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """The server on SQLite, and on PostgreSQL in a schema of its own. Rate limits x10: these walks sign
    one account in more often than a person would in 15 minutes (`sqlite_server` keeps the real ones)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    outbox = tmp_path / "outbox"
    common = [
        "--port",
        str(port),
        "--outbox",
        str(outbox),
        "--base-url",
        url,
        "--rate-limit-scale",
        "10",
    ]
    schema = None
    if request.param == "postgres":
        if _PG_SKIP:
            pytest.skip(_PG_SKIP)
        schema = f"t_{secrets.token_hex(6)}"
        database = ["--database", PG_URL, "--pg-schema", schema]
    else:
        database = ["--database", str(tmp_path / "server.db")]
    proc = _start([sys.executable, "-m", "sync.server", *database, *common], url, tmp_path)
    try:
        yield Server(url, outbox)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stderr:
            proc.stderr.close()
        if schema:
            from sync.server.storage import Storage

            Storage(PG_URL, schema, migrate=False).drop_schema()


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[Server]:
    """`strongroom server` as a person starts it: SQLite file, default rate limits."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start(
        [
            sys.executable,
            "-m",
            "cli",
            "server",
            "--db",
            str(tmp_path / "server.db"),
            "--port",
            str(port),
            "--outbox",
            str(tmp_path / "outbox"),
            "--base-url",
            url,
        ],
        url,
        tmp_path,
    )
    try:
        yield Server(url, tmp_path / "outbox")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stderr:
            proc.stderr.close()


class Device:
    """One device: a --home folder, used through the CLI."""

    def __init__(self, home: Path) -> None:
        self.home = home
        home.parent.mkdir(parents=True, exist_ok=True)

    def run(
        self, *args: str, password: str | None = PW, stdin: str = "", **env: str
    ) -> subprocess.CompletedProcess[str]:
        return run_cli(
            cli_env(self.home, password, **env),
            *args,
            cwd=self.home.parent,
            stdin=stdin,
            timeout=120,
        )

    def ok(self, *args: str, **kw: str) -> str:
        r = self.run(*args, **kw)  # type: ignore[arg-type]
        assert r.returncode == 0, f"{args} → {r.returncode}: {r.stderr}"
        assert "Traceback" not in r.stderr
        return r.stdout

    def json(self, *args: str, **kw: str) -> object:
        return json.loads(self.ok(*args, "--json", **kw))

    def password_of(self, query: str, **kw: str) -> str:
        return self.ok("get", query, "--field", "password", **kw).strip()


def one_error(r: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """Exit `code`, one line on stderr holding every word, no traceback."""
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]
    return lines[0]


def on_a_terminal(
    dev: Device, args: list[str], answers: list[tuple[str, str]], password: str = PW
) -> tuple[int, str]:
    """Run the CLI on a pseudo-terminal (so getpass prompts), typing each answer after its prompt."""
    return run_on_terminal(cli_env(dev.home, password), *args, answers=answers, cwd=dev.home.parent)


def kit_png(folder: Path) -> Path:
    pngs = sorted(
        folder.glob("Strongroom-Authentication-Kit-*.png"), key=lambda p: p.stat().st_mtime
    )
    assert pngs, f"no Kit in {folder}"
    return pngs[-1]


def reset_link(outbox: Path) -> str:
    for path in sorted(outbox.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes())
        if "reset requested" not in str(msg["Subject"]):
            continue
        part = msg.get_payload()[0] if msg.is_multipart() else msg  # type: ignore[index]
        text = part.get_payload(decode=True).decode()  # type: ignore[union-attr]
        m = re.search(r"(http://\S+/reset/\S+)", text)
        assert m, text
        return m.group(1)
    raise AssertionError(f"no reset email in {outbox}")


def test_two_devices_sign_up_sign_in_sync_and_change_password(
    server: Server, tmp_path: Path
) -> None:
    a, b = Device(tmp_path / "a" / "home"), Device(tmp_path / "b" / "home")
    kits = tmp_path / "kits"
    kits.mkdir()

    account_id = a.ok(
        "signup", "--email", EMAIL, "--kit-dir", str(kits), "--server", server.url
    ).strip()
    assert re.fullmatch(r"[0-9A-Z]{10}", account_id), account_id
    png = kits / f"Strongroom-Authentication-Kit-{account_id}.png"
    assert png.is_file() and png.with_suffix(".pdf").is_file()
    st = a.json("sync", "status")
    assert st["method"] == "cloud" and st["server"] == server.url  # type: ignore[index]

    a.ok(
        "add", "login", "--title", "GitHub", "--field", "username=ann", "--field", "password=first"
    )
    assert a.json("sync", "status")["pending_changes"] == 1  # type: ignore[index]
    a.ok("sync", "now")
    st = a.json("sync", "status")
    assert st["pending_changes"] == 0 and st["last_sync"]  # type: ignore[index]

    # a second device: email + password + the Kit's PNG; the vault comes down from the server
    b.ok("signin", "--email", EMAIL, "--kit", str(png), "--server", server.url)
    assert b.password_of("GitHub") == "first"
    assert b.json("sync", "status")["method"] == "cloud"  # type: ignore[index]
    text = a.ok("sync", "status")
    assert server.url in text and "Last sync:" in text and "Changes not yet synced: 0" in text

    # concurrent edits on both devices converge; the losing edit stays in the record's history
    a.ok("edit", "GitHub", "--field", "password=from-a")
    b.ok("edit", "GitHub", "--field", "password=from-b")
    b.ok("add", "note", "--title", "Only on B")
    a.ok("add", "note", "--title", "Only on A")
    for dev in (a, b, a):
        dev.ok("sync", "now")
    rec_a, rec_b = a.json("get", "GitHub"), b.json("get", "GitHub")
    assert rec_a == rec_b and rec_a["conflict"]  # type: ignore[index]
    conflicts = a.json("sync", "status")["conflicts"]  # type: ignore[index]
    assert [c["title"] for c in conflicts] == ["GitHub"]
    # resolving = a new edit on either device; both concurrent values stay in the history everywhere
    b.ok("edit", "GitHub", "--field", "password=resolved")
    for dev in (b, a):
        dev.ok("sync", "now")
    rec_a, rec_b = a.json("get", "GitHub"), b.json("get", "GitHub")
    assert rec_a == rec_b and not rec_a["conflict"]  # type: ignore[index]
    history = {f["value"] for h in rec_a["history"] for f in h["fields"] if f["name"] == "password"}  # type: ignore[index]
    assert {"from-a", "from-b"} <= history
    titles = {r["title"] for r in a.json("ls")}  # type: ignore[union-attr]
    assert titles == {r["title"] for r in b.json("ls")} == {"GitHub", "Only on A", "Only on B"}  # type: ignore[union-attr]

    # A changes the password: the server swaps it atomically; A keeps syncing with the new one
    old_png = tmp_path / "old-kit.png"
    old_png.write_bytes(png.read_bytes())
    a.ok("passwd", "--kit-dir", str(kits), STRONGROOM_NEW_PASSWORD=NEW_PW)
    a.ok("add", "note", "--title", "After the change", password=NEW_PW)
    a.ok("sync", "now", password=NEW_PW)
    # B, still on the old password, is told plainly (exit 3) and loses nothing
    one_error(
        b.run("sync", "now"), 3, "password was changed on another device", "STRONGROOM_NEW_PASSWORD"
    )
    one_error(
        b.run("sync", "now", STRONGROOM_NEW_PASSWORD="not the new one"), 3, "new account password"
    )
    assert b.password_of("GitHub") == "resolved"  # the old password still opens B
    # B, in a terminal, is asked for the new password, adopts it and syncs
    code, screen = on_a_terminal(b, ["sync", "now"], [("New Account Password:", NEW_PW)])
    assert code == 0, screen
    assert "adopted" in screen.lower() and NEW_PW not in screen
    assert "After the change" in {x["title"] for x in b.json("ls", password=NEW_PW)}  # type: ignore[union-attr]
    one_error(b.run("ls"), 3, "wrong")  # the old password no longer opens B
    # the old Kit is refused on a new device, the new one works
    c = Device(tmp_path / "c" / "home")
    one_error(
        c.run(
            "signin",
            "--email",
            EMAIL,
            "--kit",
            str(old_png),
            "--server",
            server.url,
            password=NEW_PW,
        ),
        3,
        "password change",
    )
    one_error(c.run("ls", password=NEW_PW), 2, "no account")
    assert png.read_bytes() == old_png.read_bytes()  # the old Kit's file is kept as it was
    new_png = kits / f"Strongroom-Authentication-Kit-{account_id} (2).png"
    c.ok(
        "signin", "--email", EMAIL, "--kit", str(new_png), "--server", server.url, password=NEW_PW
    )  # the new Kit, numbered beside the old one
    assert len(c.json("ls", password=NEW_PW)) == 4  # type: ignore[arg-type]


def test_account_reset_through_the_emailed_link(server: Server, tmp_path: Path) -> None:
    a, b = Device(tmp_path / "a" / "home"), Device(tmp_path / "b" / "home")
    kits, new_kits = tmp_path / "kits", tmp_path / "new-kits"
    kits.mkdir()
    new_kits.mkdir()
    account_id = a.ok(
        "signup", "--email", EMAIL, "--kit-dir", str(kits), "--server", server.url
    ).strip()
    old_png = kits / f"Strongroom-Authentication-Kit-{account_id}.png"
    a.ok("add", "login", "--title", "Mail", "--field", "password=kept-safe")
    a.ok("sync", "now")
    b.ok("signin", "--email", EMAIL, "--kit", str(old_png), "--server", server.url)
    b.ok("add", "note", "--title", "Written on B")
    b.ok("sync", "now")
    c = Device(
        tmp_path / "c" / "home"
    )  # signed in by the typed code; never syncs before signing in again
    code_text = a.ok("kit", "--code").strip()
    c.ok("signin", "--email", EMAIL, "--code", code_text, "--server", server.url)

    # locked out of every device: ask for the reset email (works from any home, no account needed)
    helper = Device(tmp_path / "elsewhere" / "home")
    r = helper.run("reset", "--email", EMAIL, "--server", server.url, password=None)
    assert r.returncode == 0, r.stderr
    assert "--reset-code" in r.stderr
    assert (
        helper.run("reset", "--email", "nobody@example.com", "--server", server.url).returncode == 0
    )
    link = reset_link(server.outbox)
    page = httpx.get(link)
    assert page.status_code == 200 and "wipes" in page.text
    done = submit_reset_form(page, confirm="wipe")
    code_m = re.search(r'id="setup-code">([^<]+)<', done.text)
    assert done.status_code == 200 and code_m
    code = code_m.group(1)

    # A meets the reset: exit 3, told plainly, its records kept in an encrypted backup file
    line = one_error(a.run("sync", "now"), 3, "reset", "backup", "sign in again")
    backup = Path(re.search(r"backup (\S+\.srbk)", line).group(1))  # type: ignore[union-attr]
    assert backup.is_file()
    assert b"kept-safe" not in backup.read_bytes()
    again = one_error(a.run("sync", "now"), 3, "reset")
    assert str(backup) in again  # one backup, not one per attempt

    # a device holding another account refuses the code before using it up
    bob = Device(tmp_path / "bob" / "home")
    bob.ok(
        "signup", "--email", "bob@example.com", "--kit-dir", str(tmp_path), "--server", server.url
    )
    one_error(
        bob.run(
            "signin",
            "--email",
            EMAIL,
            "--server",
            server.url,
            "--reset-code",
            "-",
            stdin=code,
            STRONGROOM_NEW_PASSWORD=RESET_PW,
        ),
        2,
        "already has an account",
    )

    # the new password is chosen on A with the setup code (both on stdin, out of `ps`); a new Kit
    r = a.run(
        "signin",
        "--email",
        EMAIL,
        "--server",
        server.url,
        "--reset-code",
        "-",
        "--password-stdin",
        "--kit-dir",
        str(new_kits),
        stdin=f"{RESET_PW}\n{code}\n",
        password=None,
    )
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    assert f"kept in {backup}" in r.stderr and "backup restore" in r.stderr
    new_png = kit_png(new_kits)
    assert a.json("ls", password=RESET_PW) == []  # the cloud data is gone ...
    a.ok(
        "backup", "restore", str(backup), password=RESET_PW, STRONGROOM_BACKUP_PASSWORD=PW
    )  # ... nothing is lost
    assert a.password_of("Mail", password=RESET_PW) == "kept-safe"
    a.ok("sync", "now", password=RESET_PW)
    # only a vault of an older generation of the account is replaced in place
    one_error(
        a.run(
            "signin",
            "--email",
            EMAIL,
            "--kit",
            str(new_png),
            "--server",
            server.url,
            password=RESET_PW,
        ),
        2,
        "already has an account",
    )
    assert a.password_of("Mail", password=RESET_PW) == "kept-safe"

    # B meets the reset too: backup kept, then signs in again in place with the new Kit
    line = one_error(b.run("sync", "now"), 3, "reset", "backup", "--kit")
    b_backup = Path(re.search(r"backup (\S+\.srbk)", line).group(1))  # type: ignore[union-attr]
    assert b_backup.is_file()
    one_error(
        b.run(
            "signin",
            "--email",
            EMAIL,
            "--kit",
            str(old_png),
            "--server",
            server.url,
            password=RESET_PW,
        ),
        3,
        "reset",
    )
    r = b.run(
        "signin", "--email", EMAIL, "--kit", str(new_png), "--server", server.url, password=RESET_PW
    )
    assert r.returncode == 0 and f"kept in {b_backup}" in r.stderr, r.stderr
    # C never met the reset before signing in again: its (locked) store is kept, encrypted, all the same
    r = c.run(
        "signin", "--email", EMAIL, "--kit", str(new_png), "--server", server.url, password=RESET_PW
    )
    assert r.returncode == 0, r.stderr
    kept = Path(re.search(r"kept in (\S+\.db):", r.stderr).group(1))  # type: ignore[union-attr]
    assert kept.is_file() and b"kept-safe" not in kept.read_bytes()
    assert b.password_of("Mail", password=RESET_PW) == "kept-safe"
    # what only B held is in B's backup, restorable with the old password
    assert "Written on B" not in {x["title"] for x in b.json("ls", password=RESET_PW)}  # type: ignore[union-attr]
    b.ok("backup", "restore", str(b_backup), password=RESET_PW, STRONGROOM_BACKUP_PASSWORD=PW)
    b.ok("sync", "now", password=RESET_PW)
    a.ok("sync", "now", password=RESET_PW)
    assert "Written on B" in {x["title"] for x in a.json("ls", password=RESET_PW)}  # type: ignore[union-attr]
    # the setup code works once
    d = Device(tmp_path / "d" / "home")
    one_error(
        d.run(
            "signin",
            "--email",
            EMAIL,
            "--server",
            server.url,
            "--reset-code",
            "-",
            stdin=code,
            STRONGROOM_NEW_PASSWORD=RESET_PW,
        ),
        3,
        "setup code",
    )


def test_sync_cloud_moves_a_local_account_and_shows_download_progress(
    sqlite_server: Server, tmp_path: Path
) -> None:
    """A local account (password already changed once, 2,100 records) moves to the server; a new device
    downloads it with progress on stderr. A second local account with the same email is refused."""
    from vault.records import new_record
    from vault.vault import Vault

    os.environ["STRONGROOM_INSECURE_TEST_KDF"] = "1"
    url = sqlite_server.url
    a, b = Device(tmp_path / "a" / "home"), Device(tmp_path / "b" / "home")
    kits = tmp_path / "kits"
    kits.mkdir()
    a.ok("signup", "--email", EMAIL, "--kit-dir", str(kits))
    a.ok("passwd", "--kit-dir", str(kits), STRONGROOM_NEW_PASSWORD=NEW_PW)
    vault = Vault.open(a.home)
    vault.unlock(NEW_PW)
    vault.add_many([new_record("note", f"Note {i}", {}) for i in range(2100)])
    vault.close()

    r = a.run("sync", "cloud", url, password=NEW_PW)
    assert r.returncode == 0, r.stderr
    assert "cloud sync" in r.stderr.lower()
    assert a.json("sync", "status", password=NEW_PW)["pending_changes"] == 0  # type: ignore[index]
    r = b.run(
        "signin", "--email", EMAIL, "--kit", str(kit_png(kits)), "--server", url, password=NEW_PW
    )
    assert r.returncode == 0, r.stderr
    assert "Downloading the vault" in r.stderr and "(100%)" in r.stderr
    assert "2,100 records" in r.stderr
    # running it again on A signs in to the account it already has there (no second account)
    a.ok("sync", "cloud", url, password=NEW_PW)

    other = Device(tmp_path / "other" / "home")
    other.ok("signup", "--email", EMAIL, "--kit-dir", str(tmp_path))
    one_error(other.run("sync", "cloud", url), 3, "already has an account", EMAIL)
    assert other.json("sync", "status")["method"] == "none"  # type: ignore[index]


def _point_at(home: Path, url: str) -> None:
    """The device's server address, as if the network changed (the session is kept)."""
    from sync.method import configure
    from vault.vault import Vault

    vault = Vault.open(home)
    try:
        configure(vault, "cloud", server=url)
    finally:
        vault.close()


def test_server_errors_leave_nothing_behind(sqlite_server: Server, tmp_path: Path) -> None:
    a = Device(tmp_path / "a" / "home")
    closed = f"http://127.0.0.1:{free_port()}"
    one_error(
        a.run("signup", "--email", EMAIL, "--kit-dir", str(tmp_path), "--server", closed),
        4,
        "cannot reach",
    )
    one_error(a.run("ls"), 2, "no account")  # nothing half-made on the device
    a.ok("signup", "--email", EMAIL, "--kit-dir", str(tmp_path), "--server", sqlite_server.url)
    b = Device(tmp_path / "b" / "home")
    one_error(
        b.run(
            "signup", "--email", EMAIL, "--kit-dir", str(tmp_path), "--server", sqlite_server.url
        ),
        2,
        "signin",
    )
    one_error(b.run("ls"), 2, "no account")
    png = kit_png(tmp_path)
    one_error(
        b.run(
            "signin",
            "--email",
            EMAIL,
            "--kit",
            str(png),
            "--server",
            sqlite_server.url,
            password="wrong password!",
        ),
        3,
        "wrong",
    )
    one_error(b.run("signin", "--email", EMAIL, "--server", sqlite_server.url), 2, "--kit")
    # offline (the server unreachable): the change waits in the queue, and a password change is
    # refused as a whole (the server must swap it first): the old password and Kit keep working
    _point_at(a.home, closed)
    a.ok("add", "note", "--title", "Queued")
    one_error(a.run("sync", "now"), 4, "cannot reach")
    kit_before = png.read_bytes()
    one_error(
        a.run("passwd", "--kit-dir", str(tmp_path), STRONGROOM_NEW_PASSWORD=NEW_PW),
        4,
        "cannot reach",
    )
    assert png.read_bytes() == kit_before
    assert a.json("sync", "status")["pending_changes"] == 1  # type: ignore[index]
    _point_at(a.home, sqlite_server.url)
    a.ok("sync", "now")
    assert a.json("sync", "status")["pending_changes"] == 0  # type: ignore[index]
    b.ok("signin", "--email", EMAIL, "--kit", str(png), "--server", sqlite_server.url)
    assert [x["title"] for x in b.json("ls")] == ["Queued"]  # type: ignore[index]


def test_sync_serve_polls_the_server_and_stops_on_a_password_change(
    sqlite_server: Server, tmp_path: Path
) -> None:
    url = sqlite_server.url
    a, b = Device(tmp_path / "a" / "home"), Device(tmp_path / "b" / "home")
    a.ok("signup", "--email", EMAIL, "--kit-dir", str(tmp_path), "--server", url)
    b.ok("signin", "--email", EMAIL, "--kit", str(kit_png(tmp_path)), "--server", url)
    serve = subprocess.Popen(
        [sys.executable, "-m", "cli", "sync", "serve", "--interval", "1"],
        env=cli_env(b.home, PW),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        a.ok("add", "note", "--title", "Seen by the server poller")
        a.ok("sync", "now")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "Seen by the server poller" in {x["title"] for x in b.json("ls")}:  # type: ignore[union-attr]
                break
            time.sleep(0.5)
        else:
            raise AssertionError("B's `sync serve` never brought the record in")
        b.ok("add", "note", "--title", "Sent by the poller")
        deadline = time.monotonic() + 30
        while b.json("sync", "status")["pending_changes"]:  # type: ignore[index]
            assert time.monotonic() < deadline, "B's `sync serve` never sent its change"
            time.sleep(0.5)
        a.ok("passwd", "--kit-dir", str(tmp_path), STRONGROOM_NEW_PASSWORD=NEW_PW)
        assert serve.wait(timeout=30) == 3  # told, and stopped: it needs the new password
        said = (serve.stderr.read() if serve.stderr else "").lower()
        assert (
            "password was changed on another device" in said and "strongroom_new_password" in said
        )
    finally:
        if serve.poll() is None:
            serve.terminate()
            serve.wait(timeout=15)
        if serve.stderr:
            serve.stderr.close()
    a.ok("sync", "now", password=NEW_PW)
    assert "Sent by the poller" in {x["title"] for x in a.json("ls", password=NEW_PW)}  # type: ignore[union-attr]


def test_an_account_created_on_the_server_is_never_dropped_here(
    sqlite_server: Server, tmp_path: Path
) -> None:
    """Sign-in rate-limited right after the server created the account: the device keeps the account
    (its Account Key exists nowhere else) and says how to finish."""
    import base64

    carol = "carol@example.com"
    for _ in range(
        12
    ):  # unknown emails count like known ones: the account's sign-in budget is spent
        httpx.post(
            f"{sqlite_server.url}/v1/signin/start",
            json={"email": carol, "A": base64.b64encode(secrets.token_bytes(256)).decode()},
        )
    dev = Device(tmp_path / "c" / "home")
    line = one_error(
        dev.run(
            "signup", "--email", carol, "--kit-dir", str(tmp_path), "--server", sqlite_server.url
        ),
        4,
        "created on the server",
        "kept on this device",
        "strongroom kit",
        "sync cloud",
    )
    assert "too many attempts" in line
    assert dev.json("ls") == []  # the account is here, unlocked by its password
    assert dev.json("sync", "status")["method"] == "cloud"  # type: ignore[index]
    one_error(dev.run("sync", "now"), 3, "not signed in", "sync cloud")
    dev.ok("kit", "--png", str(tmp_path / "carol.png"))


def test_rotating_the_account_key_on_a_cloud_device_keeps_it_syncing_and_retires_the_old_kit(
    sqlite_server: Server, tmp_path: Path
) -> None:
    """Settings → rotate the Account Key (sync.method.rotate_account_key): the server swaps the
    credentials first, so this device keeps syncing; a new device needs the new Kit."""
    from sync.method import rotate_account_key
    from vault.kitfile import render_png
    from vault.vault import Vault

    a, c = Device(tmp_path / "a" / "home"), Device(tmp_path / "c" / "home")
    kits = tmp_path / "kits"
    kits.mkdir()
    a.ok("signup", "--email", EMAIL, "--kit-dir", str(kits), "--server", sqlite_server.url)
    a.ok("add", "note", "--title", "Before")
    a.ok("sync", "now")
    old_png = kit_png(kits)

    v = Vault.open(a.home)
    v.unlock(PW)
    slot = rotate_account_key(v, PW)
    new_png = tmp_path / "new-kit.png"
    render_png(slot.kit, new_png)
    v.close()

    a.ok("add", "note", "--title", "After")
    a.ok("sync", "now")  # same password, new keys: the server already knows them
    assert (
        c.run(
            "signin", "--email", EMAIL, "--kit", str(old_png), "--server", sqlite_server.url
        ).returncode
        == 3
    )
    c.ok("signin", "--email", EMAIL, "--kit", str(new_png), "--server", sqlite_server.url)
    assert {r["title"] for r in c.json("ls")} == {"Before", "After"}  # type: ignore[union-attr]
