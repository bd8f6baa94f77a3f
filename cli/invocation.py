"""One CLI invocation: what every handler needs (the home folder, passwords, the vault, output).

The exit codes are the runtime's error categories (runtime/errors.py), re-exported here for the
commands.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.errors import EXIT_AUTH, EXIT_NO_MATCH, EXIT_OK, EXIT_SYNC, EXIT_USAGE, explain

from .output import write_json

__all__ = [
    "EXIT_AUTH",
    "EXIT_NO_MATCH",
    "EXIT_OK",
    "EXIT_SYNC",
    "EXIT_USAGE",
    "CliError",
    "Context",
    "explain",
]

if TYPE_CHECKING:
    from vault.vault import Vault


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


#: More than this on stdin is not a password and a few values (50 MB of noise is refused unread).
MAX_STDIN_BYTES = 1 << 20


def utf8_or_refuse(text: str, what: str) -> str:
    """`text`, if it came from valid UTF-8. Python holds undecodable bytes of argv and the
    environment as lone surrogates, which fail much later (a KDF, a PDF, SQLite): refuse them
    here, naming where they came from (never the value: it may be a secret)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise CliError(f"strongroom: {what} is not valid UTF-8 text", EXIT_USAGE) from None
    return text


def env_secret(name: str) -> str | None:
    """The environment variable `name` (a password), None when unset; not UTF-8 is exit 2."""
    value = os.environ.get(name)
    return None if value is None else utf8_or_refuse(value, name)


def stdin_lines() -> list[str]:
    """stdin as lines (LF or CRLF; no other character splits a password), at most 1 MiB of UTF-8."""
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise CliError(
            "strongroom: stdin holds more than 1 MiB; --password-stdin expects a password per line",
            EXIT_USAGE,
        )
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise CliError("strongroom: stdin is not valid UTF-8 text", EXIT_USAGE) from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def prompt_secret(prompt: str) -> str:
    """A hidden prompt on the terminal; typed bytes that are not UTF-8 are exit 2."""
    import getpass

    try:
        return getpass.getpass(prompt)
    except UnicodeDecodeError:
        raise CliError("strongroom: what was typed is not valid UTF-8 text", EXIT_USAGE) from None


@dataclass
class Context:
    home: Path
    password_stdin: bool
    _stdin_lines: list[str] | None = field(default=None, repr=False)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        from vault.vault import default_home

        home = Path(args.home).expanduser() if args.home else default_home()
        utf8_or_refuse(str(home), "the data folder's path (--home, STRONGROOM_HOME or HOME)")
        return cls(home=home, password_stdin=bool(args.password_stdin))

    # -- secrets ----------------------------------------------------------------------------
    def _stdin_line(self, index: int) -> str | None:
        if self._stdin_lines is None:
            self._stdin_lines = stdin_lines() if self.password_stdin else []
        return self._stdin_lines[index] if index < len(self._stdin_lines) else None

    def password(self, prompt: str = "Account Password: ") -> str:
        """--password-stdin line 1, else STRONGROOM_PASSWORD, else a hidden prompt on a TTY."""
        return self._secret(
            0, "STRONGROOM_PASSWORD", prompt, "--password-stdin or STRONGROOM_PASSWORD"
        )

    def new_password(self, prompt: str = "New Account Password: ") -> str:
        pw = self._secret(
            1,
            "STRONGROOM_NEW_PASSWORD",
            prompt,
            "a second line with --password-stdin or STRONGROOM_NEW_PASSWORD",
        )
        if (
            sys.stdin.isatty()
            and not self.password_stdin
            and "STRONGROOM_NEW_PASSWORD" not in os.environ
        ):
            if prompt_secret("Repeat the new password: ") != pw:
                raise CliError("the two passwords differ; nothing was changed", EXIT_USAGE)
        return pw

    def _secret(self, index: int, env: str, prompt: str, how: str) -> str:
        if self.password_stdin:
            line = self._stdin_line(index)
            if line is not None:
                return line
        value = env_secret(env)
        if value is not None:
            return value
        if sys.stdin.isatty():
            return prompt_secret(prompt)
        raise CliError(
            f"strongroom: no password given: use {how}, or run in a terminal", EXIT_USAGE
        )

    # -- the vault --------------------------------------------------------------------------
    def open_vault(self) -> Vault:
        from vault.vault import Vault

        vault = Vault.open(self.home)
        for fix in vault.permission_fixes:  # made owner-only again on open: say so
            print(f"strongroom: warning: {fix}", file=sys.stderr)
        return vault

    def unlocked_vault(self) -> Vault:
        """Open and unlock (one KDF run) with the password from stdin/env/prompt."""
        vault = self.open_vault()
        vault.unlock(self.password())
        return vault

    # -- output -----------------------------------------------------------------------------
    @staticmethod
    def print_json(obj: Any) -> None:
        write_json(obj)
