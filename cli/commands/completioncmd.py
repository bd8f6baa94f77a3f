"""`completion bash|zsh|fish` (the script) and `completion --titles` (what the script asks)."""

from __future__ import annotations

import argparse
import json

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context
from ..output import write_exact


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "completion",
        help="print the shell completion script for bash, zsh or fish",
        description="Print a completion script: commands, options, formats and record types; "
        "record titles too while an agent is unlocked (`strongroom unlock`). "
        "bash: source <(strongroom completion bash); zsh: source <(strongroom completion zsh); "
        "fish: strongroom completion fish > ~/.config/fish/completions/strongroom.fish",
    )
    p.add_argument("shell", nargs="?", choices=("bash", "zsh", "fish"))
    p.add_argument(
        "--titles",
        action="store_true",
        help="print the record titles, one a line, if an agent is unlocked (nothing otherwise; "
        "never asks for the password): what the scripts call",
    )
    p.set_defaults(func=cmd_completion)


def cmd_completion(args: argparse.Namespace, ctx: Context) -> int:
    if args.titles:
        from ..viaagent import agent_output

        try:
            out = agent_output(ctx, ["ls", "--json"], timeout=3.0)
        except CliError:
            return EXIT_OK
        if out:
            titles = sorted({str(row["title"]) for row in json.loads(out)}, key=str.lower)
            write_exact("".join(t + "\n" for t in titles if "\n" not in t))
        return EXIT_OK
    if args.shell is None:
        raise CliError("strongroom: give the shell: completion bash|zsh|fish", EXIT_USAGE)
    from ..completion import SCRIPTS, command_specs
    from ..main import build_parser

    write_exact(SCRIPTS[args.shell](command_specs(build_parser())))
    return EXIT_OK
