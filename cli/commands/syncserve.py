"""`strongroom sync serve`: the app's background sync runners (runtime/runners.py), one line each.

Runs until Ctrl-C / SIGTERM, or until an error only a person can mend (a password changed or the
account reset on another device, a session the server refuses): that stops with its exit code and
says what to do. Other errors (a folder or server out of reach) are said once and retried.
"""

from __future__ import annotations

import queue
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any

from ..invocation import EXIT_AUTH, EXIT_OK, CliError

if TYPE_CHECKING:
    from runtime.runners import SyncEvent


def serve(vault: Any, cfg: dict[str, Any], interval: float) -> int:
    """Run the runner for `cfg`'s method on its own connection to `vault` until stopped."""
    from runtime.runners import runner_for

    events: queue.SimpleQueue[SyncEvent] = queue.SimpleQueue()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    lines = _Lines(str(cfg.get("server") or ""))
    runner = runner_for(vault, cfg, events.put, interval=interval)
    runner.start()
    try:
        while not stop.is_set():
            try:
                event = events.get(timeout=0.2)
            except queue.Empty:
                continue
            lines.show(event)
    finally:
        runner.stop()
    return EXIT_OK


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _Lines:
    """Turns runner events into lines on stderr: each distinct error once, until a sync works."""

    def __init__(self, url: str) -> None:
        from .remote import download_progress

        self.url = url
        self.progress = download_progress()
        self.last_error: str | None = None

    def show(self, event: SyncEvent) -> None:
        if event.progress is not None:
            self.progress(*event.progress)
        if event.status is not None:
            _say(f"{event.status[:1].upper()}{event.status[1:]} (Ctrl-C stops).")
        if event.error is not None:
            self.failed(event.error, event.ended)
        outcome = event.outcome
        if outcome is not None and (outcome.received or outcome.sent):
            _say(f"Synced ({outcome.method}): {outcome.detail}.")
        if event.synced and self.last_error is not None:
            self.last_error = None
            _say("Sync works again.")

    def failed(self, exc: BaseException, ended: bool) -> None:
        """Say a passing error once; stop on one that retrying cannot mend."""
        from runtime.errors import explain
        from runtime.runners import needs_a_person
        from vault.errors import EpochChangedError

        from .remote import server_errors

        if isinstance(exc, EpochChangedError):
            raise CliError(
                "strongroom: the Account Password was changed on another device; run `strongroom sync now` "
                "once with the new password in STRONGROOM_NEW_PASSWORD (or a terminal prompt), then start "
                "`sync serve` again with the new password",
                EXIT_AUTH,
            ) from None
        if ended or needs_a_person(exc):
            with server_errors(self.url):  # a refused session: "sign in again", as `sync now` says
                raise exc
        text = explain(exc)[1]
        if text != self.last_error:
            self.last_error = text
            _say(f"strongroom: sync failed: {text}")
