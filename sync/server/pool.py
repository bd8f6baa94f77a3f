"""A small database connection pool shared by the server's worker threads.

Why our own: the server needs only "at most N open connections, handed to one thread at a time,
a broken one replaced" — a few lines, where a pool package would be one more dependency. Idle
connections are kept newest first (the warm ones with prepared statements are reused); one that
failed is closed and forgotten, and the next request opens a new one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .errors import StorageError


class Pool:
    """At most `size` connections made by `connect`; `get` waits up to `timeout` s for a free one."""

    def __init__(self, connect: Callable[[], Any], size: int, timeout: float = 30.0) -> None:
        if size < 1:
            raise StorageError("the connection pool needs at least one connection")
        self._connect = connect
        self.size = size
        self.timeout = timeout
        self._idle: list[Any] = []
        self._open = 0
        self._cond = threading.Condition()
        self._closed = False

    def get(self) -> Any:
        """An idle connection, a new one while fewer than `size` are open, else wait for one."""
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while not self._idle and self._open >= self.size:
                left = deadline - time.monotonic()
                if left <= 0 or not self._cond.wait(left):
                    if self._idle or self._open < self.size:
                        break
                    raise StorageError(
                        f"the database is busy: all {self.size} connections stayed in use for "
                        f"{self.timeout:.0f} s"
                    )
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            return self._connect()
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def put(self, conn: Any, broken: bool = False) -> None:
        """Give a connection back; a broken one is closed and its place freed."""
        if broken or self._closed:
            _close(conn)
            with self._cond:
                self._open -= 1
                self._cond.notify()
            return
        with self._cond:
            self._idle.append(conn)
            self._cond.notify()

    @property
    def open_count(self) -> int:
        with self._cond:
            return self._open

    def close(self) -> None:
        """Close the idle connections; those in use are closed when given back."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for conn in idle:
            _close(conn)


def _close(conn: Any) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - closing a connection that failed is best effort
        pass
