"""The scripting interface (CLI.md): `strongroom COMMAND …`; no command starts the TUI.

Never imports Textual (fast start; tests/test_cli_imports.py enforces it). Each area of
commands lives in `cli/commands/<area>.py` with a `register(subparsers)` function; handlers
take (args, ctx) and return an exit code. Errors become one line on stderr and the exit code
of CLI.md, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from .invocation import EXIT_OK, EXIT_USAGE, CliError, Context, explain, utf8_or_refuse
from .output import OutputClosed, human_output, reader_gone

#: The area (a module with register(subparsers)) that registers each command: running one command
#: builds only that area's parsers (building all ~30 cost about 12 ms of every call).
#: tests/test_cli_parser.py keeps it true. Order of the areas = order in --help.
COMMAND_AREAS: dict[str, str] = {
    **dict.fromkeys(("signup", "passwd", "reset", "lock"), "cli.commands.account"),
    **dict.fromkeys(("ls", "get", "add", "edit", "rm"), "cli.commands.records"),
    "attach": "cli.commands.attachcmd",
    **dict.fromkeys(("history", "trash"), "cli.commands.history"),
    "kit": "cli.commands.kitcmd",
    "devices": "cli.commands.devicescmd",
    "backup": "cli.commands.backupcmd",
    **dict.fromkeys(("import", "export"), "cli.commands.transfer"),
    **dict.fromkeys(("generate", "totp", "audit"), "cli.commands.tools"),
    **dict.fromkeys(("read", "run", "inject"), "cli.commands.secrets"),
    "git-credential": "cli.commands.gitcred",
    "completion": "cli.commands.completioncmd",
    **dict.fromkeys(("signin", "sync"), "cli.commands.synccmd"),
    "server": "cli.commands.servercmd",
    "unlock": "cli.commands.agentcmd",
    "ssh-agent": "cli.commands.sshcmd",
}
COMMAND_MODULES = list(dict.fromkeys(COMMAND_AREAS.values()))
#: Options of the main parser that take a value (to find the command word after them).
_GLOBAL_WITH_VALUE = ("--home",)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{self.prog}: {message} (see `{self.prog} --help`)", EXIT_USAGE)


def command_word(args_list: Sequence[str]) -> str | None:
    """The command a command line runs (`get` in `--home X get GitHub`); None when help, the app or
    something unknown is asked for, which needs every command's parser."""
    skip_value = False
    for token in args_list:
        if skip_value:
            skip_value = False
        elif token in _GLOBAL_WITH_VALUE:
            skip_value = True
        elif token.startswith("--home=") or token == "--password-stdin":
            continue
        elif token.startswith("-"):
            return None
        else:
            return token
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for every command, or (given a known command word) for that command's area only."""
    parser = _Parser(
        prog="strongroom",
        description="Strongroom: a password manager for the terminal. With no command, starts the app.",
    )
    parser.add_argument(
        "--home",
        help="this device's data folder (env STRONGROOM_HOME; default: the platform's user data dir)",
    )
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the Account Password from the first line of stdin (a new password from the second)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    area = COMMAND_AREAS.get(command) if command else None
    for name in [area] if area else COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for command_parser in sub.choices.values():
        _accept_globals_after(command_parser)
    return parser


def _accept_globals_after(parser: argparse.ArgumentParser) -> None:
    """Let --home/--password-stdin also follow the command (`strongroom get X --password-stdin`)."""
    parser.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    parser.add_argument(
        "--password-stdin", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for nested in action.choices.values():
                _accept_globals_after(nested)


def refuse_undecodable(args_list: Sequence[str]) -> None:
    """Exit 2 for an argument that is not UTF-8 (never echoed: it may be a secret)."""
    for i, arg in enumerate(args_list):
        option = arg if arg.startswith("--") else args_list[i - 1] if i else ""
        what = f"the value of {option.partition('=')[0]}" if option.startswith("--") else ""
        utf8_or_refuse(arg, what or f"argument {i + 1}")


def execute(
    args_list: list[str],
    make_context: Callable[[argparse.Namespace], Context] = Context.from_args,
    *,
    allow_app: bool = True,
    parser: argparse.ArgumentParser | None = None,
) -> int:
    """Parse and run one command; every error becomes one line on stderr and an exit code.

    A command's output is human text (control characters escaped, cli/output.py); the app,
    started when no command is given, draws on the terminal itself.
    """
    with human_output():
        try:
            refuse_undecodable(args_list)
            parser = parser or build_parser(command_word(args_list))
            args = parser.parse_args(args_list)
            if getattr(args, "command", None):
                ctx = make_context(args)
                code = int(args.func(args, ctx))
                if code == EXIT_OK:  # said after success: an error stays one line
                    for warning in ctx.warnings:
                        print(warning, file=sys.stderr)
                return code
            if not allow_app:
                raise CliError("strongroom: no command given", EXIT_USAGE)
        except OutputClosed:
            return reader_gone()
        except CliError as exc:
            print(exc.message, file=sys.stderr)
            return exc.code
        except KeyboardInterrupt:
            print("strongroom: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:  # noqa: BLE001 - the edge: every error becomes one clear line
            code, message = explain(exc)
            print(f"strongroom: {message}", file=sys.stderr)
            return code
    from tui.launch import run_app

    return run_app(args)


def main(argv: Sequence[str] | None = None, *, agent: bool = True) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        code = None
        if agent:
            from agent.wire import try_agent

            code = try_agent(args_list)
        if code is None:
            code = execute(args_list)
        sys.stdout.flush()
    except BrokenPipeError:
        return reader_gone()
    return code


if __name__ == "__main__":
    sys.exit(main())
