"""Shell completion scripts (`strongroom completion bash|zsh|fish`), made from the real parser.

Commands, their options, option and argument choices (formats, record types, actions) and file
arguments come from argparse, so the scripts never drift from the CLI. Record titles (for get,
edit, rm, totp) come at completion time from `strongroom completion --titles`, which asks an
unlocked agent only: completing never prompts for a password or opens the vault.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

#: Commands whose QUERY argument is a record: titles are offered there.
TITLE_COMMANDS = ("get", "edit", "rm", "totp")
_FILE_METAVARS = {"F", "FILE", "D", "DIR", "TEMPLATE"}
_GLOBAL_OPTIONS = ["--home", "--password-stdin", "--help"]


@dataclass
class CommandSpec:
    name: str
    options: list[str] = field(default_factory=list)
    #: option → its choices; options taking a file or folder map to None.
    option_values: dict[str, list[str] | None] = field(default_factory=dict)
    #: words for the first positional argument: choices, subcommands or record types.
    words: list[str] = field(default_factory=list)
    files: bool = False  # a positional argument is a file
    titles: bool = False


def command_specs(parser: argparse.ArgumentParser) -> list[CommandSpec]:
    from vault.templates import TEMPLATES

    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    specs = []
    for name, cp in sub.choices.items():
        spec = CommandSpec(name, titles=name in TITLE_COMMANDS)
        for parser_ in [cp, *_nested(cp)]:
            for action in parser_._actions:
                _add_action(spec, action)
        if name == "add":
            spec.words = list(TEMPLATES)
        specs.append(spec)
    return specs


def _nested(cp: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    return [
        p
        for a in cp._actions
        if isinstance(a, argparse._SubParsersAction)
        for p in a.choices.values()
    ]


def _add_action(spec: CommandSpec, action: argparse.Action) -> None:
    if isinstance(action, argparse._SubParsersAction):
        spec.words += [w for w in action.choices if w not in spec.words]
        return
    if action.help == argparse.SUPPRESS:
        return
    if action.option_strings:
        for opt in action.option_strings:
            if opt.startswith("--") and opt not in spec.options:
                spec.options.append(opt)
                if action.choices:
                    spec.option_values[opt] = [str(c) for c in action.choices]
                elif action.metavar in _FILE_METAVARS:
                    spec.option_values[opt] = None
        return
    if action.choices:
        spec.words += [str(c) for c in action.choices if str(c) not in spec.words]
    if action.dest == "file" or action.metavar in _FILE_METAVARS:
        spec.files = True


def _words(items: list[str]) -> str:
    return " ".join(items)


def bash_script(specs: list[CommandSpec]) -> str:
    cases_opts = "\n".join(f"        {s.name}) opts={_sh(_words(s.options))} ;;" for s in specs)
    value_cases = []
    for s in specs:
        for opt, values in s.option_values.items():
            action = (
                'COMPREPLY=($(compgen -f -- "$cur"))'
                if values is None
                else f'COMPREPLY=($(compgen -W {_sh(_words(values))} -- "$cur"))'
            )
            value_cases.append(f"        '{s.name} {opt}') {action}; return ;;")
    word_cases = "\n".join(
        f"        {s.name}) words={_sh(_words(s.words))} ;;" for s in specs if s.words
    )
    file_cmds = "|".join(s.name for s in specs if s.files) or "__none__"
    title_cmds = "|".join(s.name for s in specs if s.titles)
    commands = _words([s.name for s in specs])
    return f"""# strongroom completion for bash: source it, or put it in ~/.local/share/bash-completion/completions/strongroom
_strongroom() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    local cmd="" i w home=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${{COMP_WORDS[i]}}"
        case "$w" in
            --home) home=(--home "${{COMP_WORDS[i+1]}}"); ((i++)) ;;
            -*) ;;
            *) [[ -z $cmd ]] && cmd="$w" ;;
        esac
    done
    COMPREPLY=()
    if [[ -z $cmd ]]; then
        if [[ $prev == --home ]]; then COMPREPLY=($(compgen -d -- "$cur")); return; fi
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W {_sh(_words(_GLOBAL_OPTIONS))} -- "$cur"))
        else
            COMPREPLY=($(compgen -W {_sh(commands)} -- "$cur"))
        fi
        return
    fi
    case "$cmd $prev" in
{chr(10).join(value_cases)}
    esac
    local opts="" words=""
    case "$cmd" in
{cases_opts}
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
        return
    fi
    case "$cmd" in
{word_cases}
    esac
    if [[ -n $words ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return
    fi
    case "$cmd" in
        {title_cmds})
            local IFS=$'\\n' t plain="${{cur//\\\\/}}"
            for t in $(strongroom "${{home[@]}}" completion --titles 2>/dev/null); do
                [[ $t == "$plain"* ]] && COMPREPLY+=("$(printf '%q' "$t")")
            done ;;
        {file_cmds}) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
}}
complete -F _strongroom strongroom
"""


def zsh_script(specs: list[CommandSpec]) -> str:
    return (
        "# strongroom completion for zsh: source it from ~/.zshrc (after compinit)\n"
        "autoload -U +X compinit && { (( $+functions[compdef] )) || compinit -u }\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(specs)
    )


def fish_script(specs: list[CommandSpec]) -> str:
    lines = [
        "# strongroom completion for fish: save as ~/.config/fish/completions/strongroom.fish",
        "complete -c strongroom -f",
        "complete -c strongroom -n __fish_use_subcommand -l home -r -F -d 'data folder'",
        "complete -c strongroom -n __fish_use_subcommand -l password-stdin",
        "function __strongroom_titles",
        "    set -l home (string match -r -- '--home[= ]\\S+' (commandline -c))",
        "    strongroom (string split ' ' -- (string replace '=' ' ' -- $home)) completion --titles 2>/dev/null",
        "end",
    ]
    for s in specs:
        lines.append(f"complete -c strongroom -n __fish_use_subcommand -a {_fish(s.name)}")
        seen = f"__fish_seen_subcommand_from {_fish(s.name)}"
        for opt in s.options:
            values = s.option_values.get(opt, [])
            extra = " -r -F" if opt in s.option_values and values is None else ""
            if values:
                extra = f" -x -a {_fish(_words(values))}"
            lines.append(f"complete -c strongroom -n {_fish(seen)} -l {opt[2:]}{extra}")
        if s.words:
            lines.append(f"complete -c strongroom -n {_fish(seen)} -a {_fish(_words(s.words))}")
        if s.titles:
            lines.append(f"complete -c strongroom -n {_fish(seen)} -a '(__strongroom_titles)'")
        if s.files:
            lines.append(f"complete -c strongroom -n {_fish(seen)} -F")
    return "\n".join(lines) + "\n"


def _sh(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _fish(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


SCRIPTS = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}
