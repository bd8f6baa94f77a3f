"""What the CLI writes: human text never carries a control character; exact text only on request.

While a command runs, sys.stdout and sys.stderr escape every control character, C1 control and
bidi override visibly (runtime/safe_text.py), so no handler can forget it. Lines that are data
for a program say so: `write_exact` (the ANSI Kit drawing, a single value for a pipe) and
`write_json` (the same JSON value, with what JSON allows raw written as \\u escapes).
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from runtime.safe_text import json_safe, printable

#: The exit code when the reader of stdout went away, as for a process ended by SIGPIPE (`cat`).
EXIT_READER_GONE = (
    128 + 13
)  # SIGPIPE: 13 on Linux, macOS and the BSDs (importing signal costs ~0.5 ms)


class OutputClosed(Exception):
    """Whoever read stdout stopped reading (`strongroom ls | head -1`): not an error to report."""


def reader_gone() -> int:
    """End quietly: point stdout at /dev/null so the flush at exit cannot fail again."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)
    return EXIT_READER_GONE


class EscapingStream(io.TextIOBase):
    """A text stream that writes to `target` with control characters escaped (lines kept)."""

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self.target = target

    def write(self, text: str) -> int:
        _write(self.target, printable(text, multiline=True))
        return len(text)

    def flush(self) -> None:
        try:
            self.target.flush()
        except BrokenPipeError:
            raise OutputClosed from None

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.target.encoding


@contextmanager
def human_output() -> Iterator[None]:
    """sys.stdout and sys.stderr escaped for the duration (whatever they are now: a terminal, a
    pipe, the agent's capture)."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = EscapingStream(saved[0]), EscapingStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _write(target: TextIO, text: str) -> None:
    try:
        target.write(text)
    except BrokenPipeError:
        raise OutputClosed from None


def _exact_stdout() -> TextIO:
    out = sys.stdout
    return out.target if isinstance(out, EscapingStream) else out


def write_exact(text: str) -> None:
    """`text` to stdout as it is: only for output meant for a program or drawn on purpose."""
    _write(_exact_stdout(), text)


class _BinaryOut:
    """stdout's bytes, with a vanished reader turned into OutputClosed."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def write(self, data: bytes) -> int:
        try:
            return int(self._target.write(data))
        except BrokenPipeError:
            raise OutputClosed from None


def exact_binary_stdout() -> _BinaryOut:
    """stdout as bytes, exactly (`attach get` into a pipe): never for a terminal."""
    text = _exact_stdout()
    text.flush()
    return _BinaryOut(text.buffer)


def write_json(obj: Any) -> None:
    """One JSON document on stdout (`--json`): exact JSON, never a raw control character."""
    write_exact(json_safe(json.dumps(obj, ensure_ascii=False, indent=2)) + "\n")


def write_value(text: str) -> None:
    """A single value (`get --field`): byte-exact into a pipe or file, escaped on a terminal."""
    if sys.stdout.isatty():
        print(printable(text, multiline=True))
    else:
        write_exact(text + "\n")
