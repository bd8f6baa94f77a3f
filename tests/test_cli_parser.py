"""The CLI builds only the parser of the command it runs; that shortcut must never change a command."""

from __future__ import annotations

import argparse
import importlib

import pytest

from cli.main import COMMAND_AREAS, COMMAND_MODULES, build_parser, command_word, execute


def _registered_by(module_name: str) -> set[str]:
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(module_name).register(sub)
    return set(sub.choices)


def test_every_command_is_mapped_to_the_area_that_registers_it() -> None:
    registered = {cmd: name for name in COMMAND_MODULES for cmd in _registered_by(name)}
    assert COMMAND_AREAS == registered


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["get", "GitHub"], "get"),
        (["--home", "/x", "get", "GitHub"], "get"),
        (["--home=/x", "--password-stdin", "ls"], "ls"),
        (["--help"], None),
        (["-h", "get"], None),
        ([], None),
        (["--home", "get"], None),  # `get` is the value of --home here, not a command
    ],
)
def test_the_command_word_is_found_after_the_global_options(
    argv: list[str], word: str | None
) -> None:
    assert command_word(argv) == word


def test_one_areas_parser_parses_a_command_exactly_as_the_full_parser() -> None:
    argv = ["--home", "/tmp/h", "get", "GitHub", "--field", "password", "--password-stdin"]
    full = vars(build_parser().parse_args(argv))
    only = vars(build_parser(command_word(argv)).parse_args(argv))
    assert {k: v for k, v in only.items() if k != "func"} == {
        k: v for k, v in full.items() if k != "func"
    }
    assert only["func"] is full["func"]


def test_an_unknown_command_still_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert execute(["frobnicate"], allow_app=False) == 2
    err = capsys.readouterr().err
    for name in COMMAND_AREAS:
        assert name in err, name
