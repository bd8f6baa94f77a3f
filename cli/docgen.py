"""Generate docs/cli.md from the real parser, so the reference never drifts from the code.

`python3 -m cli.docgen > docs/cli.md`; tests/test_clidoc.py fails when they differ.
"""

from __future__ import annotations

import argparse

from .main import build_parser

HEADER = """# strongroom command-line reference

Generated from the parser by `python3 -m cli.docgen > docs/cli.md`; do not edit by hand.
`strongroom` with no command starts the terminal app.

## Passwords without a terminal
`--password-stdin` reads the Account Password from the first line of stdin (a new password,
for `signup` and `passwd`, from the second); else `STRONGROOM_PASSWORD` (and
`STRONGROOM_NEW_PASSWORD`); else a hidden prompt on a terminal; with none of these, exit 2.
`backup restore` reads the backup's password from `STRONGROOM_BACKUP_PASSWORD` or a prompt.
Arguments, the environment and stdin must be UTF-8 text (stdin at most 512 KiB); anything else
is exit 2.

## Secrets stay out of the arguments
Every user of the computer can read a command's arguments (`ps`, /proc), so a secret given as
one draws a warning on stderr (once the command succeeded: an error stays one line). Each has
another way in: `--field NAME=-` (add, edit),
`signin --code -` and `signin --reset-code -` read the value from stdin (a hidden prompt when
stdin is a terminal); `server --smtp smtp://USER@HOST` takes the password from
`STRONGROOM_SMTP_PASSWORD`. stdin is lines, in this order: with `--password-stdin` the password
lines first (the Account Password; a new one second for `signup`, `passwd` and
`signin --reset-code`), then one line for each value given as `-`, in command-line order:

    printf '%s\\n%s\\n' "$ACCOUNT_PASSWORD" "$NEW_SECRET" |
      strongroom edit GitHub --field password=- --password-stdin

## Exit codes
| code | meaning |
| --- | --- |
| 0 | done |
| 1 | nothing matched (get/rm/edit/totp found no record, or no such field) |
| 2 | usage or bad input (unknown flag, unreadable file, malformed import, ambiguous query) |
| 3 | authentication: wrong password, invalid Kit (with the reason), password changed or account reset elsewhere |
| 4 | sync: server or peer unreachable, folder missing, obsolete sync file |
| 75 | the vault was busy: another Strongroom process held its write lock too long; nothing was changed, try again |
| 141 | the reader of stdout stopped early (`strongroom ls \\| head -1`): the rest is dropped quietly, as `cat` does |

Errors are one line on stderr; `--json` read commands print one JSON document on stdout.
Text from records is shown with control characters as visible escapes (`\\x1b`, `\\u202e`);
`--json` and `get --field` into a pipe or file are exact.
"""


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    out: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append((name, sub))
    return out


def render() -> str:
    parser = build_parser()
    parts = [HEADER, "## strongroom\n", "```", parser.format_help().rstrip(), "```\n"]
    for name, sub in _subcommands(parser):
        parts += [f"## strongroom {name}\n", "```", sub.format_help().rstrip(), "```\n"]
        for sub_name, nested in _subcommands(sub):
            parts += [
                f"### strongroom {name} {sub_name}\n",
                "```",
                nested.format_help().rstrip(),
                "```\n",
            ]
    return "\n".join(parts)


if __name__ == "__main__":
    import os

    os.environ.setdefault("COLUMNS", "100")
    print(render(), end="")
