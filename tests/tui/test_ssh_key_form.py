"""Generate an Ed25519 SSH key in the app's add form (keys only): the private key stays
concealed, the public key and fingerprint show, and the saved key is one OpenSSH's own
ssh-keygen accepts; a pasted key fills in its public half; a bad "ask" is refused."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pilotkit import on_screen, typed, unlock, until
from textual import events
from textual.widgets import Input, Static

from tui.app import StrongroomApp
from tui.screens.records import EditRecordScreen, RecordDetailScreen, RecordListScreen
from tui.screens.sshkeyform import KeyPassphraseScreen
from tui.widgets.secret_input import SecretInput
from vault.vault import Vault

pytestmark = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="needs ssh-keygen (apt-get install openssh-client)"
)

PW = "ssh key form test password"


def _keygen(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(["ssh-keygen", *args], input=stdin, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def _new_ssh_key_form(pilot: object, app: StrongroomApp) -> EditRecordScreen:
    await unlock(pilot, PW)
    await pilot.press("n")  # type: ignore[attr-defined]
    await on_screen(pilot, EditRecordScreen)
    kind = app.screen.query_one("#type", Input)
    kind.value = ""
    await typed(pilot, "ssh-key")
    await pilot.press("enter")  # type: ignore[attr-defined]
    await until(pilot, lambda: bool(app.screen.query("#f-private-key")), what="the SSH key form")
    screen = app.screen
    assert isinstance(screen, EditRecordScreen)
    await pilot.press("tab")  # type: ignore[attr-defined]  # from the type to the title
    assert screen.focused is screen.query_one("#title", Input)
    return screen


async def test_generate_an_ed25519_key_in_the_add_form(home: Path, tmp_path: Path) -> None:
    Vault.create(home, "ann@example.com", PW).close()
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 50)) as pilot:
        screen = await _new_ssh_key_form(pilot, app)
        await typed(pilot, "Laptop")
        screen.query_one("#f-comment", Input).focus()
        await typed(pilot, "ann@laptop")
        await pilot.press("ctrl+g")
        private = screen.query_one("#f-private-key", Input)
        await until(pilot, lambda: bool(private.value), what="a generated key")
        assert isinstance(private, SecretInput) and private.password  # concealed
        public = screen.query_one("#f-public-key", Input).value
        fingerprint = screen.query_one("#f-fingerprint", Input).value
        assert public.startswith("ssh-ed25519 ") and public.endswith(" ann@laptop")
        assert fingerprint.startswith("SHA256:")
        screen.query_one("#f-ask", Input).focus()
        await typed(pilot, "maybe")
        await pilot.press("ctrl+s")
        message = screen.query_one("#message", Static)
        await until(pilot, lambda: "yes or no" in str(message.render()), what="the refusal")
        await pilot.press("end", "ctrl+u")
        await typed(pilot, "yes")
        await pilot.press("ctrl+s")
        await on_screen(pilot, RecordListScreen)
        await pilot.press("enter")
        await on_screen(pilot, RecordDetailScreen)
        shown = str(app.screen.query_one("#detail", Static).render())
        assert public in shown and fingerprint in shown and "PRIVATE KEY" not in shown

    v = Vault.open(home)
    v.unlock(PW)
    rec = v.record(v.find("Laptop"))
    v.close()
    assert rec.value("ask") == "yes"
    key_file = tmp_path / "laptop_key"
    key_file.write_text(rec.value("private-key") or "")
    key_file.chmod(0o600)
    derived = _keygen("-y", "-P", "", "-f", str(key_file)).split()
    assert derived[:2] == public.split()[:2]
    listed = _keygen("-lf", "-", stdin=public + "\n").split()
    assert listed[1] == fingerprint


async def test_a_pasted_private_key_fills_in_its_public_key(home: Path, tmp_path: Path) -> None:
    Vault.create(home, "ann@example.com", PW).close()
    key_file = tmp_path / "id_ecdsa"
    _keygen("-q", "-t", "ecdsa", "-N", "", "-C", "ann@work", "-f", str(key_file))
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 50)) as pilot:
        screen = await _new_ssh_key_form(pilot, app)
        await typed(pilot, "Work")
        private = screen.query_one("#f-private-key", Input)
        private.focus()
        private.post_message(events.Paste(key_file.read_text()))  # as a terminal pastes it
        await until(pilot, lambda: "END OPENSSH PRIVATE KEY" in private.value, what="the paste")
        screen.query_one("#f-comment", Input).focus()
        await typed(pilot, "ann@work")
        await pilot.press("ctrl+g")  # refuses to replace a key already in the form
        await pilot.press("ctrl+s")
        await on_screen(pilot, RecordListScreen)
    v = Vault.open(home)
    v.unlock(PW)
    rec = v.record(v.find("Work"))
    v.close()
    own = (tmp_path / "id_ecdsa.pub").read_text().split()
    assert (rec.value("public-key") or "").split() == own
    assert rec.value("fingerprint") == _keygen("-lf", str(key_file)).split()[1]
    assert rec.value("private-key") and rec.value("ask") is None


async def test_a_key_file_with_a_passphrase_is_imported_by_its_path(
    home: Path, tmp_path: Path
) -> None:
    Vault.create(home, "ann@example.com", PW).close()
    key_file = tmp_path / "id_ed25519"
    _keygen(
        "-q", "-t", "ed25519", "-N", "the key's own phrase", "-C", "ann@home", "-f", str(key_file)
    )
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 50)) as pilot:
        screen = await _new_ssh_key_form(pilot, app)
        await typed(pilot, "Home")
        screen.query_one("#f-private-key", Input).focus()
        await typed(pilot, str(key_file))
        await pilot.press("ctrl+s")
        await on_screen(pilot, KeyPassphraseScreen)
        await typed(pilot, "not it")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                "Wrong passphrase" in str(app.screen.query_one("#key-message", Static).render())
            ),
            what="the refusal",
        )
        await typed(pilot, "the key's own phrase")
        await pilot.press("enter")
        await on_screen(pilot, RecordListScreen)
    v = Vault.open(home)
    v.unlock(PW)
    rec = v.record(v.find("Home"))
    v.close()
    assert (rec.value("public-key") or "").split()[:2] == (
        tmp_path / "id_ed25519.pub"
    ).read_text().split()[:2]
    stored = tmp_path / "stored"
    stored.write_text(rec.value("private-key") or "")
    stored.chmod(0o600)
    derived = _keygen("-y", "-P", "", "-f", str(stored)).split()  # no passphrase any more
    assert derived[:2] == (rec.value("public-key") or "").split()[:2]


async def test_a_pem_key_file_asking_for_endless_pbkdf2_is_refused_in_the_form(
    home: Path, tmp_path: Path
) -> None:
    """A PKCS#8 PEM key file asking for 2**31 PBKDF2 iterations: the form says so before any
    passphrase is asked (the key library derived for minutes to hours); the same kind of key
    asking for OpenSSL's 2,048 is decrypted in the passphrase dialog and saved."""
    from pemkit import encrypted_pem, with_kdf_numbers

    Vault.create(home, "ann@example.com", PW).close()
    protected = encrypted_pem(b"pp")
    (tmp_path / "hostile.pem").write_bytes(with_kdf_numbers(protected, 2**31))
    (tmp_path / "id.pem").write_bytes(protected)
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 50)) as pilot:
        screen = await _new_ssh_key_form(pilot, app)
        await typed(pilot, "Pem")
        private = screen.query_one("#f-private-key", Input)
        private.focus()
        await typed(pilot, str(tmp_path / "hostile.pem"))
        await pilot.press("ctrl+s")
        message = screen.query_one("#message", Static)
        await until(
            pilot,
            lambda: "2,147,483,648 PBKDF2 iterations" in str(message.render()),
            what="the refusal",
        )
        assert app.screen is screen and "at most 10,000,000" in str(message.render())
        private.value = str(tmp_path / "id.pem")
        await pilot.press("ctrl+s")
        await on_screen(pilot, KeyPassphraseScreen)
        await typed(pilot, "pp")
        await pilot.press("enter")
        await on_screen(pilot, RecordListScreen)
    v = Vault.open(home)
    v.unlock(PW)
    titles = [s.title for s in v.summaries()]
    rec = v.record(v.find("Pem"))
    v.close()
    assert titles == ["Pem"] and (rec.value("public-key") or "").startswith("ssh-ed25519 ")
