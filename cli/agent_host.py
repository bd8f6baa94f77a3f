"""The agent process (`python3 -m cli.agent_host --home H --timeout S`, started by `unlock`).

The agent (agent/daemon.py) holds the unlocked vault; this module gives it the one thing it needs
from the CLI: running a command line on that vault, with output captured for the caller.
"""

from __future__ import annotations

import argparse
import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.daemon import serve
from agent.wire import AGENT_VERBS, agent_answers

from .invocation import EXIT_AUTH, EXIT_USAGE, CliError, Context
from .main import build_parser, execute

if TYPE_CHECKING:
    from vault.vault import Vault


def command_runner(home: Path) -> Any:
    """A function running one command line on an unlocked vault of `home` (parsers built once)."""
    parser = build_parser()

    def run(argv: list[str], vault: Vault, stdin: bytes | None) -> tuple[int, str, str]:
        class AgentContext(Context):
            in_agent = True

            def unlocked_vault(self) -> Any:
                return vault

            def password(self, prompt: str = "") -> str:
                raise CliError("strongroom: this command cannot run through the agent", EXIT_AUTH)

        def make_context(args: argparse.Namespace) -> Context:
            ctx = AgentContext.from_args(args)
            ctx.stdin_data = stdin if stdin is not None else b""  # never the agent's own stdin
            if ctx.home.expanduser().resolve() != home.resolve():
                raise CliError("strongroom: the agent serves another home", EXIT_USAGE)
            verb = getattr(args, "verb", None)
            if not agent_answers(args.command, verb):
                what = (
                    f"{args.command} {verb}"
                    if verb and args.command in AGENT_VERBS
                    else args.command
                )
                raise CliError(f"strongroom: {what} does not run through the agent", EXIT_USAGE)
            return ctx

        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = execute(argv, make_context, allow_app=False, parser=parser)
        return code, out.getvalue(), err.getvalue()

    return run


def main(argv: list[str] | None = None) -> int:
    from runtime.process_guard import guard_process

    guard_process()  # before it ever holds a key
    parser = argparse.ArgumentParser(prog="strongroom-agent")
    parser.add_argument("--home", required=True)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args(argv)
    home = Path(args.home).expanduser()
    return serve(home, args.timeout, command_runner(home))


if __name__ == "__main__":
    sys.exit(main())
