"""Commands that run in this process but take what they need from the unlock agent.

`run`, `inject` and `completion` cannot run inside the agent (they start a program, write a
local file, or must never prompt), so they ask it for values with an ordinary `run` request of
a command it does answer (`read --json`, `ls --json`) and fall back to opening the vault here,
with the password, when no unlocked agent answers.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .invocation import CliError

if TYPE_CHECKING:
    from .invocation import Context


def agent_output(
    ctx: Context, argv: list[str], timeout: float = 30.0, stdin: bytes | None = None
) -> str | None:
    """stdout of `strongroom ARGV` run by this home's unlocked agent (given `stdin`, if any);
    None when there is none or it is locked, or when this already runs inside the agent. A
    command that fails there fails here with its message and exit code."""
    from base64 import b64encode

    from agent.wire import STDIN_VERSION, WireError, call_raw, request

    if ctx.in_agent:
        return None
    frame = request("run", argv=["--home", str(ctx.home), *argv])
    if stdin is not None:
        frame |= {"v": STDIN_VERSION, "stdin": b64encode(stdin).decode()}
    try:
        answer = call_raw(ctx.home, frame, timeout)
    except (OSError, WireError, UnicodeError):
        return None
    if answer is None or answer.get("locked"):
        return None
    code = int(answer.get("code", 70))
    if code:
        raise CliError(str(answer.get("err", "")).rstrip("\n"), code)
    return str(answer.get("out", ""))


def resolve_refs(ctx: Context, refs: list[str]) -> dict[str, str]:
    """Value by reference for each `sr://…` in `refs`: through the agent, else with the password.
    A malformed reference is refused before anything is asked; a missing one is exit 1."""
    from vault.refs import parse_ref

    wanted = list(dict.fromkeys(refs))
    for ref in wanted:
        parse_ref(ref)
    if not wanted:
        return {}
    out = agent_output(ctx, ["read", "--json", "--", *wanted])
    if out is not None:
        values: Any = json.loads(out)
        return {ref: str(values[ref]) for ref in wanted}
    vault = ctx.unlocked_vault()
    try:
        return {ref: vault.read_ref(ref) for ref in wanted}
    finally:
        vault.close()
