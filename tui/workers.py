"""The app's thread workers: Textual's `work`, plus the one error path every worker takes.

Every slow job of a screen runs in a thread worker started through `work` here (a test keeps
Textual's own decorator out of the screens). If the job raises, the app hears of it at once
(`WorkerFailed`): a log line always, and a notification naming what failed unless the screen
shows that error itself where it happened (`shows_errors=True`: a form's message line). The
worker still ends in Textual's ERROR state, so a screen's own handler sees it as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from textual import work as textual_work
from textual.dom import DOMNode
from textual.worker import Worker

from .messages import WorkerFailed

P = ParamSpec("P")
R = TypeVar("R")
N = TypeVar("N", bound=DOMNode)


def work(
    *, doing: str, group: str = "default", exclusive: bool = False, shows_errors: bool = False
) -> Callable[[Callable[Concatenate[N, P], R]], Callable[Concatenate[N, P], Worker[R]]]:
    """A thread worker whose failure reaches the app. `doing`: what a person is told failed
    ("Loading the records")."""

    def decorate(method: Callable[Concatenate[N, P], R]) -> Callable[Concatenate[N, P], Worker[R]]:
        @functools.wraps(method)
        def run(node: N, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(node, *args, **kwargs)
            except Exception as exc:
                # post_message is thread-safe; a closed app just drops it
                node.app.post_message(
                    WorkerFailed(doing, type(node).__name__, exc, shown=shows_errors)
                )
                raise

        return textual_work(run, thread=True, group=group, exclusive=exclusive, exit_on_error=False)

    return decorate
