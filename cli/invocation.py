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


@dataclass
class Context:
    home: Path
    password_stdin: bool
    _stdin_lines: list[str] | None = field(default=None, repr=False)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        from vault.vault import default_home

        home = Path(args.home).expanduser() if args.home else default_home()
        return cls(home=home, password_stdin=bool(args.password_stdin))

    # -- secrets ----------------------------------------------------------------------------
    def _stdin_line(self, index: int) -> str | None:
        if self._stdin_lines is None:
            self._stdin_lines = sys.stdin.read().splitlines() if self.password_stdin else []
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
            import getpass

            if getpass.getpass("Repeat the new password: ") != pw:
                raise CliError("the two passwords differ; nothing was changed", EXIT_USAGE)
        return pw

    def _secret(self, index: int, env: str, prompt: str, how: str) -> str:
        if self.password_stdin:
            line = self._stdin_line(index)
            if line is not None:
                return line
        if env in os.environ:
            return os.environ[env]
        if sys.stdin.isatty():
            import getpass

            return getpass.getpass(prompt)
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
