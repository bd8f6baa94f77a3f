"""Real gpg for the pass-store tests: a GNUPGHOME of their own, throwaway keys, stores."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

GPG = shutil.which("gpg")
UID = "Strongroom Test <test@example.invalid>"


def gpg(home: Path, *args: str, data: bytes = b"") -> bytes:
    done = subprocess.run(
        [str(GPG), "--batch", "--yes", "--quiet", *args],
        input=data,
        capture_output=True,
        env=os.environ | {"GNUPGHOME": str(home)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def stop_agent(home: Path) -> None:
    """Stop the gpg-agent of `home` (it forgets any cached passphrase)."""
    subprocess.run(
        ["gpgconf", "--kill", "gpg-agent"],
        env=os.environ | {"GNUPGHOME": str(home)},
        capture_output=True,
        check=False,
        timeout=30,
    )


@contextlib.contextmanager
def gnupg_home(copy_of: Path | None = None) -> Iterator[Path]:
    """A new GNUPGHOME (short path: the agent's socket lives in it), its agent stopped after."""
    home = Path(tempfile.mkdtemp(prefix="srg"))
    if copy_of is not None:
        shutil.copytree(copy_of, home, dirs_exist_ok=True, ignore=shutil.ignore_patterns("S.*"))
    home.chmod(0o700)
    try:
        yield home
    finally:
        stop_agent(home)
        shutil.rmtree(home, ignore_errors=True)


def throwaway_key(home: Path, passphrase: str = "") -> str:
    """A new key pair (ed25519 + cv25519), its fingerprint; the agent is stopped after, so
    the passphrase is not cached."""
    gpg(
        home,
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        passphrase,
        "--quick-gen-key",
        UID,
        "future-default",
        "default",
        "never",
    )
    listing = gpg(home, "--with-colons", "--list-secret-keys").decode()
    stop_agent(home)
    return next(ln.split(":")[9] for ln in listing.splitlines() if ln.startswith("fpr:"))


def make_store(home: Path, root: Path, key: str, entries: dict[str, bytes]) -> Path:
    """A pass store at `root`: `.gpg-id` and each entry encrypted to `key`."""
    root.mkdir()
    (root / ".gpg-id").write_text(key + "\n")
    for name, content in entries.items():
        target = root / f"{name}.gpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gpg(home, "--trust-model", "always", "-r", key, "-e", data=content))
    return root
