"""Creating an account and linking a device to one: the one home of sign-up and sign-in.

The app's Welcome/Sign-up/Sign-in screens and the CLI's `signup`/`signin` gather input and show
results; everything between is here, so both accept the same Kit (a file or a typed code), the
same sources (sync folder, Wi-Fi peer, account server) and sign in again in place after an
account reset, whatever the source.

Each flow is two calls: `prepare_*` checks everything that needs no password (a bad Kit, a
device that already holds an account, a missing Kit folder) so a front end can refuse before
asking for the password; `sign_up`/`sign_in` then run the key derivation and the network (slow:
call them from a worker thread in the app). Errors are those of vault/ and sync/ plus the
`InvalidInputError` subclasses below; runtime/errors.py `explain()` words every one.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vault.errors import AccountExistsError, InvalidInputError, KitError, KitReason

from .kitfiles import kit_folder, save_kit

if TYPE_CHECKING:
    from sync.tls import Transport
    from vault.kitcode import KitPayload
    from vault.vault import Vault

MIN_PASSWORD = 8
#: The least zxcvbn score (0-4) an Account Password must reach: 3 ("strong", about 10^8 guesses or
#: more). Below it zxcvbn finds a common password, a word with small changes or a keyboard walk.
MIN_STRENGTH = 3
KIT_SUFFIXES = (".png", ".jpg", ".jpeg", ".pdf", ".txt")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: A typed code (groups of letters and digits between dashes or spaces) or the QR text (one run).
_CODE = re.compile(r"[A-Za-z0-9]+(?:[\s_-]+[A-Za-z0-9]+)+|[A-Za-z0-9]{16,}")


class KitNeededError(InvalidInputError):
    """This sign-in needs the Authentication Kit and none was given (`source` says why)."""

    def __init__(self, message: str, source: str) -> None:
        super().__init__(message)
        self.source = source


# -- what a person typed ----------------------------------------------------------------------
def check_email(email: str) -> str:
    email = email.strip()
    if not _EMAIL.match(email) or not email.isprintable():
        raise InvalidInputError(f"{email!r} is not an email address")
    return email


def new_password_problem(password: str) -> str | None:
    """What breaks the rules for a chosen Account Password (sign-up, after a reset, a password
    change), as a sentence for the screen; None when it is acceptable. The rules: at least
    MIN_PASSWORD characters, no space at either end, and zxcvbn's score at least MIN_STRENGTH."""
    if len(password) < MIN_PASSWORD:
        return f"The Account Password needs at least {MIN_PASSWORD} characters."
    if password != password.strip():
        return "The Account Password must not start or end with a space."
    from vault.strength import LABELS, estimate

    strength = estimate(password)
    if strength.score < MIN_STRENGTH:
        why = f" ({strength.warning.rstrip('.')})" if strength.warning else ""
        return (
            f"The Account Password is too easy to guess: rated {strength.label}{why}. Choose one "
            f"rated {LABELS[MIN_STRENGTH]} or better, such as four or more unrelated words."
        )
    return None


def check_new_password(password: str) -> None:
    """`new_password_problem` as an error (InvalidInputError, CLI exit 2)."""
    problem = new_password_problem(password)
    if problem:
        raise InvalidInputError(problem[0].lower() + problem[1:].rstrip("."))


def is_kit_file(source: str) -> bool:
    """Is this Kit given as a file (True) or as its typed code or QR text (False)?

    The one rule for both front ends: an existing path, anything with a folder part or a Kit
    file's suffix is a file; text shaped like a code (groups between dashes or spaces, or one
    long run) is a code, checked as one; anything else is a file name, so a mistyped name is
    reported as a missing file, not as a bad code."""
    text = source.strip()
    path = Path(text).expanduser()
    if path.exists() or "/" in text or text.startswith("~"):
        return True
    if path.suffix.lower() in KIT_SUFFIXES:
        return True
    return not _CODE.fullmatch(text)


def read_kit(source: str) -> KitPayload:
    """The Kit from a file path (PNG/JPG/PDF or a text file holding the code) or a typed code."""
    from vault.kitfile import read_kit_file, read_kit_text

    if is_kit_file(source):
        return read_kit_file(Path(source.strip()).expanduser())
    return read_kit_text(source)


# -- sign-up ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignUp:
    """A sign-up checked as far as it can be without the password."""

    home: Path
    email: str
    kit_dir: Path
    server: str = ""
    hint: str = ""
    transport: Transport | None = None
    """The server's TLS settings (sync/tls.py: a CA file, plain http allowed)."""


@dataclass(frozen=True)
class Account:
    """The outcome of a sign-up or sign-in: the unlocked vault and what a person is told."""

    vault: Vault
    kit_files: list[Path] = field(default_factory=list)
    """The Kit written here (sign-up, or a new Kit after a reset); empty when none was made."""
    kept: Path | None = None
    """What this device held before an account reset, kept encrypted (signing in again)."""


def prepare_sign_up(
    home: Path,
    email: str,
    *,
    kit_dir: Path | str | None = None,
    server: str = "",
    hint: str = "",
    transport: Transport | None = None,
) -> SignUp:
    """Refuse early: a bad email, a device with an account, a server address that would not be
    used (plain http to another machine). The Kit folder is made now (0700) so one that cannot
    be made stops the sign-up before an account exists."""
    from vault.vault import Vault

    email = check_email(email)
    if Vault.exists(home):
        raise AccountExistsError(f"this device already has an account (home {home})")
    server = server.strip().rstrip("/")
    if server:
        _check_server(server, transport)
    return SignUp(home, email, kit_folder(kit_dir), server, hint, transport)


def sign_up(plan: SignUp, password: str) -> Account:
    """Create the account (here, and on the server when one is given) and write its Kit."""
    check_new_password(password)
    if plan.server:
        from sync.cloudlink import signup

        vault = signup(
            plan.home, plan.server, plan.email, password, plan.hint, transport=plan.transport
        )
    else:
        from vault.vault import Vault

        vault = Vault.create(plan.home, plan.email, password, hint=plan.hint)
    return Account(vault, save_kit(vault.slot, plan.kit_dir))


# -- sign-in ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FolderSource:
    """A sync folder holding `<AccountID>/data.mssb` (Dropbox, iCloud Drive, …)."""

    folder: Path


@dataclass(frozen=True)
class WifiSource:
    """A device of the account on the same network; no addresses: every LAN address."""

    interfaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServerSource:
    """The account server; `reset_code`: the setup code of its reset page (a new password then)."""

    url: str
    reset_code: str = ""
    transport: Transport | None = None
    """The server's TLS settings (sync/tls.py: a CA file, plain http allowed)."""


Source = FolderSource | WifiSource | ServerSource


@dataclass(frozen=True)
class SignIn:
    """A sign-in checked as far as it can be without the password."""

    home: Path
    email: str
    source: Source
    kit: KitPayload | None
    kit_dir: Path | None = None
    """After a reset with a setup code: where the new Kit is written."""
    hint: str = ""
    """After a reset with a setup code: the new password's hint."""


def prepare_sign_in(
    home: Path,
    email: str,
    source: Source,
    kit: str = "",
    *,
    kit_dir: Path | str | None = None,
    hint: str = "",
) -> SignIn:
    """Read the Kit (a file path or a typed code: `read_kit`), check this device may take the
    account, and that the source can do without a Kit when none is given."""
    email = check_email(email)
    reset_code = source.reset_code.strip() if isinstance(source, ServerSource) else ""
    if isinstance(source, ServerSource):
        source = ServerSource(source.url.strip().rstrip("/"), reset_code, source.transport)
        _check_server(source.url, source.transport)
    if reset_code and kit.strip():
        raise InvalidInputError("give either the Kit or the reset page's setup code, not both")
    payload = read_kit(kit) if kit.strip() else None
    if payload is None and not reset_code:
        _check_kit_not_needed(source)
    _check_room(home, payload, reset_code)
    folder = kit_folder(kit_dir) if reset_code else None
    return SignIn(home, email, source, payload, folder, hint)


def _check_server(url: str, transport: Transport | None) -> None:
    """Plain http to another machine is refused before the password is even asked for."""
    from sync.tls import Transport, check_server_url

    check_server_url(url, transport or Transport())


def _check_kit_not_needed(source: Source) -> None:
    if isinstance(source, WifiSource):
        raise KitNeededError("signing in over Wi-Fi needs your Authentication Kit", "wifi")
    if isinstance(source, ServerSource):
        raise KitNeededError(
            "signing in on the account server needs your Authentication Kit (or, after an "
            "account reset, the setup code from the reset page)",
            "server",
        )
    from sync.folderkey import find

    if source.folder.is_dir() and not find(source.folder):
        raise KitNeededError(
            f"the folder {source.folder} holds no saved account key, so your Authentication Kit "
            "is needed: give the path of its PNG/JPG/PDF or its typed code",
            "folder",
        )


def _check_room(home: Path, kit: KitPayload | None, reset_code: str) -> None:
    """A device holding an account takes only that account after a reset (a newer generation).

    With a setup code the server names the account first (sync/cloudlink.py checks it); without
    a Kit (a folder's saved key) the generation is known only once the vault is built, which
    happens beside the old one (`_replace_after_reset`)."""
    from vault.vault import Vault

    if reset_code or not Vault.exists(home):
        return
    old = Vault.open(home)
    try:
        account, generation = old.slot.account_id, old.slot.generation
    finally:
        old.close()
    met = met_reset(home) is not None
    if kit is not None and kit.account_id == account:
        if kit.generation > generation:
            return
        if met:
            raise KitError(
                KitReason.BEFORE_RESET, "this device met that reset: use the Kit made after it"
            )
    elif kit is None and met:
        return
    raise AccountExistsError(f"this device already has an account (home {home})")


def met_reset(home: Path) -> Path | None:
    """The encrypted backup this device kept when it met an account reset (folder or server
    sync), or None: such a device may sign in again in place."""
    from sync.cloudlink import RESET_SETTING
    from sync.folder import reset_backup_of
    from vault.vault import Vault

    if not Vault.exists(home):
        return None
    kept = reset_backup_of(home)
    if kept is not None:
        return kept
    vault = Vault.open(home)
    try:
        mark = vault.settings().get(RESET_SETTING) or {}
    finally:
        vault.close()
    backup = Path(str(mark.get("backup", "")))
    return backup if mark.get("backup") and backup.is_file() else None


Step = Callable[[str], None]
Download = Callable[[int, int], None]


def sign_in(
    plan: SignIn,
    password: str,
    *,
    on_step: Step | None = None,
    on_download: Download | None = None,
    wifi_timeout: float = 5.0,
) -> Account:
    """Link this device (or sign it in again after a reset) and fetch the vault from the source.

    `on_step(text)` is told how far a Wi-Fi search got, `on_download(done, total)` how far a
    server download is; both are called from this thread."""
    source = plan.source
    if isinstance(source, ServerSource):
        return _from_server(plan, source, password, on_download)
    from vault.vault import Vault

    def build(home: Path) -> Vault:
        if isinstance(source, WifiSource):
            return _from_wifi(home, plan, password, source, on_step, wifi_timeout)
        from sync.folder import bootstrap_from_folder

        vault: Vault = bootstrap_from_folder(home, source.folder, plan.email, password, plan.kit)
        return vault

    if Vault.exists(plan.home):
        return _replace_after_reset(plan.home, build)
    return Account(build(plan.home))


def _from_server(
    plan: SignIn, source: ServerSource, password: str, on_download: Download | None
) -> Account:
    from sync.cloudlink import kept_before_reset, signin, signin_after_reset

    if source.reset_code:  # a new password chosen here, new keys and a new Kit made here
        check_new_password(password)
        vault = signin_after_reset(
            plan.home,
            source.url,
            plan.email,
            source.reset_code,
            password,
            plan.hint,
            on_download,
            transport=source.transport,
        )
        return Account(vault, save_kit(vault.slot, plan.kit_dir), kept_before_reset(vault))
    assert plan.kit is not None  # prepare_sign_in asked for it
    vault = signin(
        plan.home,
        source.url,
        plan.email,
        password,
        plan.kit,
        on_download,
        transport=source.transport,
    )
    return Account(vault, [], kept_before_reset(vault))


def _from_wifi(
    home: Path,
    plan: SignIn,
    password: str,
    source: WifiSource,
    on_step: Step | None,
    timeout: float,
) -> Vault:
    import asyncio

    from sync.errors import SourceUnavailableError
    from sync.wifi import bootstrap, lan_addresses

    interfaces = list(source.interfaces) or lan_addresses()
    if not interfaces:
        raise SourceUnavailableError(
            "this machine has no network address to look for devices on; give the address of "
            "its Wi-Fi or LAN interface"
        )
    assert plan.kit is not None  # prepare_sign_in asked for it
    vault: Vault = asyncio.run(
        bootstrap(
            home, plan.email, password, plan.kit, interfaces, timeout=timeout, progress=on_step
        )
    )
    return vault


def _replace_after_reset(home: Path, build: Callable[[Path], Vault]) -> Account:
    """Sign in again in place: the new vault is built beside the old one first, so a wrong
    password or Kit changes nothing; only the same account at a newer generation (an account
    reset) then takes its place, the old store kept in `<home>/backups` (never deleted)."""
    from sync.cloudlink import KEPT_SETTING
    from vault.vault import DB_NAME, Vault

    old = Vault.open(home)
    account, generation = old.slot.account_id, old.slot.generation
    old.close()
    kept = met_reset(home)
    staging = home / f".signin-{secrets.token_hex(4)}"
    try:
        new = build(staging)
        same, newer = new.slot.account_id == account, new.slot.generation > generation
        keys = new.keys
        new.close()
        if not (same and newer):
            raise AccountExistsError(
                f"this device already has {'this' if same else 'an'} account (home {home})"
            )
        backups = home / "backups"
        backups.mkdir(exist_ok=True, mode=0o700)
        aside = backups / f"replaced-gen{generation}-{time.strftime('%Y%m%d-%H%M%S')}.db"
        for suffix in ("", "-wal", "-shm"):
            src = home / f"{DB_NAME}{suffix}"
            if src.exists():
                src.rename(aside.with_name(aside.name + suffix))
        for suffix in ("", "-wal", "-shm"):
            src = staging / f"{DB_NAME}{suffix}"
            if src.exists():
                src.rename(home / f"{DB_NAME}{suffix}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    vault = Vault.open(home)
    vault.unlock_with_keys(keys)
    vault.update_settings(**{KEPT_SETTING: str(kept or aside)})
    return Account(vault, [], kept or aside)
