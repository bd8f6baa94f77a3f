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

from agent.wire import MAX_STDIN
from runtime.errors import EXIT_AUTH, EXIT_NO_MATCH, EXIT_OK, EXIT_SYNC, EXIT_USAGE, explain
from vault.words import plural

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


#: More than this on stdin is not a password and a few values (50 MB of noise is refused unread);
#: the unlock agent's frame holds this much, so forwarded stdin follows the same rule.
MAX_STDIN_BYTES = MAX_STDIN


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


def read_stdin() -> bytes:
    """stdin's bytes, one more than the limit at most (what `stdin_lines` needs to refuse it)."""
    return sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)


def stdin_lines(data: bytes) -> list[str]:
    """stdin as lines (LF or CRLF; no other character splits a password), at most 512 KiB of UTF-8."""
    if len(data) > MAX_STDIN_BYTES:
        raise CliError(
            f"strongroom: stdin holds more than {MAX_STDIN_BYTES // 1024} KiB: it is read as a "
            "password line (--password-stdin) and values given as -",
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


def secret_in_argv(what: str, instead: str) -> str:
    """The warning for a secret given as an argument, which every local user can read (`ps`)."""
    return (
        f"strongroom: warning: {what} was given on the command line, where other users of this "
        f"computer can see it; {instead}"
    )


def prompt_secret(prompt: str) -> str:
    """A hidden prompt on the terminal; typed bytes that are not UTF-8 are exit 2."""
    import getpass

    try:
        return getpass.getpass(prompt)
    except UnicodeDecodeError:
        raise CliError("strongroom: what was typed is not valid UTF-8 text", EXIT_USAGE) from None


@dataclass
class Context:
    """What one command line runs with.

    stdin, when it is read, is lines: with --password-stdin first the password lines (the
    Account Password; a new one on line 2 for signup, passwd and signin --reset-code), and last
    one line per value given as `-` (`--field password=-`, `--code -`), in command-line order.
    """

    home: Path
    password_stdin: bool
    #: stdin as forwarded by the client of the unlock agent (None: this process's stdin).
    stdin_data: bytes | None = field(default=None, repr=False)
    _stdin_lines: list[str] | None = field(default=None, repr=False)
    _values_at_end: int = field(default=0, repr=False)
    #: Said on stderr once the command succeeded (an error stays one line).
    warnings: list[str] = field(default_factory=list, repr=False)
    #: Running inside the unlock agent (cli/agent_host.py): never call the agent from here.
    in_agent = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        from vault.vault import default_home

        home = Path(args.home).expanduser() if args.home else default_home()
        utf8_or_refuse(str(home), "the data folder's path (--home, STRONGROOM_HOME or HOME)")
        return cls(home=home, password_stdin=bool(args.password_stdin))

    # -- secrets ----------------------------------------------------------------------------
    def _lines(self) -> list[str]:
        if self._stdin_lines is None:
            data = self.stdin_data if self.stdin_data is not None else read_stdin()
            self._stdin_lines = stdin_lines(data)
        return self._stdin_lines

    def _stdin_line(self, index: int) -> str | None:
        """Password line `index` of --password-stdin (the lines before the `-` values)."""
        if not self.password_stdin:
            return None
        lines = self._lines()
        passwords = lines[: len(lines) - self._values_at_end]
        return passwords[index] if index < len(passwords) else None

    def stdin_values(self, names: list[str]) -> list[str]:
        """The values given as `-`, one per name: stdin's last lines (after the password line of
        --password-stdin); a hidden prompt each when stdin is a terminal. Ask before the password."""
        if not names:
            return []
        if self.stdin_data is None and not self.password_stdin and sys.stdin.isatty():
            return [prompt_secret(f"{name}: ") for name in names]
        lines = self._lines()
        before = 1 if self.password_stdin else 0
        if len(lines) < before + len(names):
            expected = "the password line, then " if before else ""
            raise CliError(
                f"strongroom: stdin has {plural('line', len(lines))}; expected {expected}one line for "
                f"each value given as - ({', '.join(names)})",
                EXIT_USAGE,
            )
        self._values_at_end = len(names)
        return lines[-len(names) :]

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

    def secret_options(self, args: argparse.Namespace, **flags: str) -> None:
        """Options that carry a secret (attribute=flag): `-` is read from stdin as `stdin_values`
        does; a value given inline (not a file's path) is warned about. Call before the password."""
        given = {attr: getattr(args, attr, None) for attr in flags}
        for attr, value in given.items():
            if value and value != "-" and not os.path.exists(value):
                self.warnings.append(
                    secret_in_argv(f"the {flags[attr]} value", f"use {flags[attr]} - instead")
                )
        wanted = [attr for attr, value in given.items() if value == "-"]
        for attr, value in zip(wanted, self.stdin_values([flags[a] for a in wanted]), strict=True):
            setattr(args, attr, value)

    def _secret(self, index: int, env: str, prompt: str, how: str) -> str:
        if self.password_stdin:
            line = self._stdin_line(index)
            if line is not None:
                return line
        value = env_secret(env)
        if value is not None:
            return value
        if sys.stdin.isatty() and not self.password_stdin:
            return prompt_secret(prompt)
        if (
            self.password_stdin
        ):  # asked for stdin, which ran out: say so, not "use --password-stdin"
            lines = len(self._lines()) - self._values_at_end
            given = (
                "stdin is empty" if lines <= 0 else f"stdin has {plural('password line', lines)}"
            )
            want = (
                "the password on line 1"
                if index == 0
                else f"the new password on line 2 or in {env}"
            )
            raise CliError(
                f"strongroom: --password-stdin was given but {given}: put {want}", EXIT_USAGE
            )
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
