"""The TUI's side of the unlock agent: take its keys, lock it, hear when it locks.

Every socket call runs on one daemon thread (`AgentLink`), never on the UI thread, in the order
the app asked (a `lock` queued by ctrl+l always reaches the agent before the lock screen's
`keys` request). Each call has a short timeout, and anything going wrong — no socket file,
connection refused, a timeout, an agent that exits mid-call, a malformed answer — means "no
agent": the app then simply asks for the password. Results reach the app through callbacks the
app makes thread-safe (`post_message`).
"""

from __future__ import annotations

import base64
import binascii
import os
import queue
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from .wire import WireError, call, connect, recv, request, send

if TYPE_CHECKING:
    import _socket

    from vault.keys import UnlockedKeys

CALL_TIMEOUT = (
    3.0  # a busy agent (a long `run`) may take a moment; the password field works meanwhile
)
WATCH_POLL = 0.2  # how often the link looks at the watch connection and its queue
RECONNECT_EVERY = 1.0  # how often an unlocked app looks for an agent to watch
TOUCH_EVERY = 5.0  # at most one activity frame per this many seconds

_NO_AGENT = (OSError, WireError, ValueError, TypeError, KeyError, binascii.Error)


def fetch_keys(home: str | os.PathLike[str], timeout: float = CALL_TIMEOUT) -> UnlockedKeys | None:
    """The keys an unlocked agent holds for this home, or None (no agent, locked, any failure)."""
    try:
        answer = call(home, {"op": "keys"}, timeout=timeout)
        if answer is None or not answer.get("ok"):
            return None
        from vault.keys import UnlockedKeys

        b64 = base64.b64decode
        return UnlockedKeys(
            account_id=str(answer["account_id"]),
            generation=int(answer["generation"]),
            epoch=int(answer["epoch"]),
            ak=b64(answer["ak"], validate=True),
            vk=b64(answer["vk"], validate=True),
            x_auth=b64(answer["x_auth"], validate=True),
        )
    except _NO_AGENT:
        return None


def lock_agent(home: str | os.PathLike[str], timeout: float = CALL_TIMEOUT) -> bool:
    """Tell this home's agent to forget its keys (it exits); False when there was none."""
    try:
        return call(home, {"op": "lock"}, timeout=timeout) is not None
    except _NO_AGENT:
        return False


class AgentLink:
    """One daemon thread that does all of the app's agent IO.

    While `is_unlocked()` holds, it keeps a `watch` connection to the agent (looking for one
    every second) and reports `on_locked(why)` when the agent forgets its keys (`strongroom
    lock`, its idle timeout, the home removed). An agent that merely vanishes (killed) is not a
    lock: the app keeps working. App activity (`last_activity()` moving) is sent as `touch`, so
    working in the app keeps the agent's unlock alive. With `on_ssh_ask`, the app also answers
    "ask before each use" SSH keys: `on_ssh_ask(question)` when the agent asks, `answer_ssh(id,
    allow)` sends the answer, `on_ssh_asked(id)` when a question is closed (answered elsewhere,
    expired, locked).
    """

    def __init__(
        self,
        home: str | os.PathLike[str],
        *,
        on_locked: Callable[[str], None],
        is_unlocked: Callable[[], bool],
        last_activity: Callable[[], float],
        on_ssh_ask: Callable[[dict[str, Any]], None] | None = None,
        on_ssh_asked: Callable[[int], None] | None = None,
    ) -> None:
        self.home = home
        self._on_locked = on_locked
        self._on_ssh_ask = on_ssh_ask
        self._on_ssh_asked = on_ssh_asked
        self._is_unlocked = is_unlocked
        self._last_activity = last_activity
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watch: _socket.socket | None = None
        self._next_look = 0.0
        self._touched = 0.0
        self._sent_touch_at = 0.0

    # -- the app's calls (any thread; they never block the caller on socket IO) ---------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="strongroom-agent-link", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def lock(self) -> None:
        """Queue `lock` for the agent (fire and forget)."""
        self._submit(lambda: lock_agent(self.home))

    def answer_ssh(self, ask_id: int, allow: bool) -> None:
        """Queue the app's answer to an `ssh_ask` (on the watch connection that was asked)."""

        def send_answer() -> None:
            if self._watch is not None:
                try:
                    send(self._watch, request("ssh_answer", id=ask_id, allow=allow))
                except _NO_AGENT:
                    self._close_watch()

        self._submit(send_answer)

    def keys(self, wait: float = CALL_TIMEOUT + 2.0) -> UnlockedKeys | None:
        """The agent's keys, after every request queued before; blocks the calling worker thread."""
        future = self._submit(lambda: fetch_keys(self.home))
        try:
            result: UnlockedKeys | None = future.result(timeout=wait)
        except Exception:  # noqa: BLE001 - a timeout or a stopped link: no agent
            return None
        return result

    def _submit(self, job: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        if self._stop.is_set():
            future.set_result(None)
        else:
            self._jobs.put((job, future))
        return future

    # -- the link thread ----------------------------------------------------------------------
    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    job, future = self._jobs.get(timeout=WATCH_POLL)
                except queue.Empty:
                    pass
                else:
                    try:
                        future.set_result(job())
                    except Exception as exc:  # noqa: BLE001 - handed to the waiting caller
                        future.set_exception(exc)
                    continue  # run queued jobs first (a lock before the next keys request)
                self._tend_watch()
        finally:
            self._close_watch()
            while not self._jobs.empty():
                self._jobs.get_nowait()[1].set_result(None)

    def _tend_watch(self) -> None:
        if not self._is_unlocked():
            self._close_watch()
            return
        if self._watch is None:
            now = time.monotonic()
            if now >= self._next_look:
                self._next_look = now + RECONNECT_EVERY
                self._open_watch()
            return
        try:
            ready, _, _ = select.select([self._watch], [], [], 0)
            if ready:
                event = recv(self._watch)
                kind = event.get("event")
                if kind == "ssh_ask" and self._on_ssh_ask and isinstance(event.get("id"), int):
                    self._on_ssh_ask(event)
                    return
                if kind == "ssh_asked" and self._on_ssh_asked and isinstance(event.get("id"), int):
                    self._on_ssh_asked(int(event["id"]))
                    return
                self._close_watch()
                if kind == "locked":
                    self._on_locked(str(event.get("why", "lock")))
                return
            self._maybe_touch()
        except _NO_AGENT:
            self._close_watch()  # the agent vanished (killed): not a lock, look for a new one later

    def _open_watch(self) -> None:
        sock = None
        try:
            sock = connect(self.home, CALL_TIMEOUT)
            if sock is None:
                return
            if self._on_ssh_ask is not None:
                send(sock, request("watch", ssh_ask=True))
            else:
                send(sock, request("watch"))
            if not recv(sock).get("ok"):
                sock.close()
                return
        except _NO_AGENT:
            if sock is not None:
                sock.close()
            return
        self._watch = sock
        self._touched = self._last_activity()

    def _maybe_touch(self) -> None:
        assert self._watch is not None
        activity = self._last_activity()
        now = time.monotonic()
        if activity > self._touched and now - self._sent_touch_at >= TOUCH_EVERY:
            send(self._watch, request("touch"))
            self._touched, self._sent_touch_at = activity, now

    def _close_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
