"""pass / gopass stores: a folder of `.gpg` files, each decrypted by the user's own gpg.

One `gpg --decrypt` per entry, as `pass show` does (`--batch`, so the user's gpg-agent asks
for the key's passphrase its own way), or with the passphrase given (loopback pinentry, the
passphrase on gpg's stdin, never its argv). Nothing decrypted is written anywhere.

An entry's first line is its password (unless it is already a `key: value` line of a known
key, as some exporters write notes), `key: value` lines are fields (login/user/username/email
→ username, url/website → URL, comments/notes → notes), an `otpauth://` line is the TOTP,
gopass's `---` separator is dropped and other lines are notes. Folders become tags
("Emails/WS"). Hidden files and folders (.git, .extensions, …) are not entries, as `pass ls`
does not list them; files that are not `.gpg` and entries that are not text are named.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from ..errors import FileSecretNeededError, FormatError, WrongFileSecretError
from ..templates import FieldKind
from .common import Draft, ImportReport, build

WHAT = "pass store"
MAX_ENTRY_BYTES = 16 * 1024 * 1024
GPG_TIMEOUT_S = 300
_USERNAME = {"login", "user", "username", "email", "e-mail", "mail"}
_URL = {"url", "website", "site", "link", "uri"}
_NOTES = {"comments", "comment", "notes", "note", "description"}
_KNOWN = _USERNAME | _URL | _NOTES | {"otpauth", "password", "pass", "pin"}
_FIELD = re.compile(r"^([^:\s][^:]{0,63}?)\s*:\s?(.*)$")
#: What gpg says (on stderr) when the passphrase was wrong or missing.
_BAD_PASSPHRASE = ("Bad passphrase", "bad passphrase", "No passphrase given", "Operation cancelled")
#: What gpg says when it would have to ask for the passphrase and was told not to.
_NO_PINENTRY = "No pinentry"


def is_store(path: Path) -> bool:
    """A pass (or gopass) store: a folder with a `.gpg-id` file at its root."""
    return path.is_dir() and (path / ".gpg-id").is_file()


def entries(root: Path) -> tuple[list[Path], list[Path]]:
    """(the store's entries, its other visible files), both sorted; hidden ones left out."""
    found: list[Path] = []
    other: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            (found if name.endswith(".gpg") else other).append(path)
    return found, other


def decrypt(
    path: Path, passphrase: str | None = None, *, pinentry: bool = True
) -> tuple[bytes | None, str]:
    """(plaintext, "") or (None, gpg's reason). FormatError when gpg is not installed.

    `pinentry=False`: the agent must not ask (a full-screen app owns the terminal), so a key
    not unlocked already fails instead."""
    gpg = shutil.which("gpg2") or shutil.which("gpg")
    if gpg is None:
        raise FormatError(
            "gpg is not installed; a pass store is decrypted with your own gpg "
            "(install GnuPG, or export the store to another format first)"
        )
    cmd = [gpg, "--yes", "--batch", "--no-tty"]  # not --quiet: it hides "Bad passphrase"
    if passphrase is not None:
        cmd += ["--pinentry-mode", "loopback", "--passphrase-fd", "0"]
    elif not pinentry:
        cmd += ["--pinentry-mode", "error"]
    cmd += ["--decrypt", "--", str(path)]
    try:
        done = subprocess.run(
            cmd,
            input=(passphrase + "\n").encode() if passphrase is not None else None,
            stdin=None if passphrase is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=GPG_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"gpg gave no answer in {GPG_TIMEOUT_S} s"
    except OSError as exc:
        return None, f"gpg could not be run ({exc.strerror})"
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        said = [ln for ln in lines if any(s in ln for s in (*_BAD_PASSPHRASE, _NO_PINENTRY))]
        said = said or lines
        return None, (said[-1] if said else f"gpg exited {done.returncode}")[:200]
    return done.stdout, ""


def read_store(root: Path, passphrase: str | None = None, *, pinentry: bool = True) -> ImportReport:
    """Decrypt and read every entry of the store at `root` (see `decrypt` for `pinentry`)."""
    if not root.is_dir():
        raise FormatError(f"this is not a {WHAT}: {root} is not a folder")
    found, other = entries(root)
    if not found:
        raise FormatError(f"this is not a {WHAT}: {root} holds no .gpg entries")
    report = ImportReport("pass")
    failures: list[str] = []
    for path in found:
        name = path.relative_to(root).with_suffix("").as_posix()
        where = f"entry {name}"
        if path.stat().st_size > MAX_ENTRY_BYTES:
            report.lose(
                where,
                "attachment",
                "larger than 16 MiB (a file, not a password); not imported",
                skipped=True,
            )
            continue
        plain, why = decrypt(path, passphrase, pinentry=pinentry)
        if plain is None:
            failures.append(why)
            report.skip(where, f"gpg could not decrypt it: {why}")
            if passphrase is not None and any(s in why for s in _BAD_PASSPHRASE):
                raise WrongFileSecretError(
                    f"gpg refused the passphrase given for the key of {name} ({why})"
                )
            continue
        try:
            content = plain.decode("utf-8")
        except UnicodeDecodeError:
            report.lose(
                where, "attachment", "binary content (a stored file); not imported", skipped=True
            )
            continue
        folder = path.parent.relative_to(root).as_posix()
        build(parse(content, path.stem, "" if folder == "." else folder), report, where)
    if failures and len(failures) == len(found):
        if not pinentry and passphrase is None and any(_NO_PINENTRY in f for f in failures):
            raise FileSecretNeededError(
                "the store's gpg key needs its passphrase (gpg cannot ask for it here)"
            )
        hint = (
            "; here gpg cannot ask for the key's passphrase: unlock the key first (pass show "
            "one entry) or set STRONGROOM_IMPORT_PASSWORD"
            if not pinentry and passphrase is None
            else ""
        )
        raise FormatError(
            f"gpg could not decrypt any entry of this {WHAT} ({failures[0]}); is its key in "
            f"your keyring (gpg --list-secret-keys)?{hint}"
        )
    for path in other:
        report.skip(f"file {path.relative_to(root).as_posix()}", "not a .gpg entry; not read")
    return report


def parse(content: str, title: str, folder: str) -> Draft:
    """One decrypted entry → a draft (see the module's docstring for the layout)."""
    lines = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    draft = Draft("login", title)
    draft.tags.append(folder)
    notes: list[str] = []
    if lines and not _known_field(lines[0]):
        draft.set("password", lines.pop(0))
    in_notes = False
    for line in lines:
        stripped = line.strip()
        if stripped == "---" and not notes:
            continue  # gopass: the YAML part follows
        if stripped.startswith("otpauth://"):
            if not draft.totp:
                draft.totp = stripped
            else:
                draft.add_extra("one-time password", stripped, FieldKind.TOTP)
            continue
        m = _FIELD.match(line)
        if m is None or m.group(2).startswith("//") or in_notes and not _known_field(line):
            notes.append(line)
            continue
        key, value = m.group(1).strip(), m.group(2)
        low = key.lower()
        if low in _USERNAME and "username" not in draft.values and value.strip():
            draft.set("username", value)
        elif low in _URL and "url" not in draft.values and value.strip():
            draft.set("url", value)
        elif low in _NOTES:
            notes.append(value)
            in_notes = True
        else:
            draft.add_extra(key, value, FieldKind.URL if low in _URL else FieldKind.TEXT)
    draft.notes = "\n".join(notes).strip("\n")
    return draft


def _known_field(line: str) -> bool:
    m = _FIELD.match(line)
    return m is not None and m.group(1).strip().lower() in _KNOWN
