"""Type-ahead: keys typed quickly are applied in order, each where the one before left things.

Textual hands a key to the focused widget by posting it into that widget's queue, then goes on
to the next key at once. A burst (a fast typist, a paste of keys, tmux send-keys) is therefore
forwarded before the first key's effects exist: Tab's focus move happens after the next
letters were already given to the field it leaves; a key that pushes a screen sends the
following keys to a screen not yet mounted, which drops them; a focus set with call_later
lands after the keys that were meant for it.

Keys typed while the app starts (read before its first screen is pushed) are held for it.
The gate gives out one key at a time. After each key a fence (`KeyFence`) follows it through
the same queues (the focused widget, its ancestors, the screen, the app). Queues are FIFO, so
when the fence is back at the app, the key has been handled everywhere it went, and what it
queued on the app (a focus change) has run. What the key caused may still wait in a queue the
fence passed first (Enter posts Input.Submitted to the field itself, behind the fence): while
any widget of the screen has messages waiting, the fence goes round again behind them. If the
key changed the screen, the fence goes through the new screen, which by then has mounted and
focused its field. Only then does the next key go out, to whatever is focused now.

A screen busy with work the next keys depend on (unlocking, rows of a search not shown yet)
holds them: it answers `key_waits(event)` with True and calls `TypeAhead.resume` when ready.
Keys of `app.quit` never wait.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from textual import events
from textual.app import ScreenStackError
from textual.message import Message

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump
    from textual.screen import Screen
    from textual.timer import Timer

TypedEvent = events.Key | events.Paste

#: How often a fence in flight is checked for having been lost with the widget it went to
#: (a key that closed its own screen). Only while a fence is out; an idle app has no timer.
LOST_FENCE_CHECK_S = 0.25

#: Rounds of one key's fence behind messages still queued (a widget animating at 60 fps
#: always has some); after these the next key goes anyway.
MAX_ROUNDS = 20


class KeyFence(Message):
    """Follows a key through the queues it took; back at the app, the key is fully handled."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number


@runtime_checkable
class HoldsKeys(Protocol):
    """A screen that may hold keys while it works (see the module docstring)."""

    def key_waits(self, event: TypedEvent) -> bool: ...


class TypeAhead:
    """The app's one key gate. `deliver` is Textual's own handling of a key (App.on_event);
    `passes` says which keys skip the queue (quit)."""

    def __init__(
        self,
        app: App[Any],
        deliver: Callable[[TypedEvent], Awaitable[None]],
        passes: Callable[[TypedEvent], bool],
    ) -> None:
        self._app = app
        self._deliver = deliver
        self._passes = passes
        self._held: deque[TypedEvent] = deque()
        self._fence: int | None = None  # the number of the fence in flight
        self._count = 0
        self._via: Screen[Any] | None = None  # the screen the fence goes through
        self._origin: MessagePump | None = None  # where the fence was posted
        self._watch: Timer | None = None
        self._rounds = 0

    @property
    def held(self) -> int:
        """Keys typed and not yet given out."""
        return len(self._held)

    async def take(self, event: TypedEvent) -> None:
        """A key (or paste) from the terminal, in the order typed."""
        if self._passes(event):
            await self._deliver(event)
            return
        self._held.append(event)
        await self._run()

    def _screen(self) -> Screen[Any] | None:
        """The screen shown now; None while the app starts or ends (no screen)."""
        try:
            return self._app.screen
        except ScreenStackError:
            return None

    def resume(self) -> None:
        """A screen that held keys is ready: the held keys go out, after what it queued."""
        screen = self._screen()
        if self._fence is None and self._held and screen is not None:
            self._send(screen, screen)

    def screen_changed(self) -> None:
        """Keys held by a screen that went away (locked, closed) go to the one shown now; a
        fence in flight through the old screen is replaced by one through the new screen (the
        old one may be lost with its widget; the key that changed the screen has been handled
        up to the point where it did)."""
        screen = self._screen()
        if (self._fence is not None or self._held) and screen is not None:
            self._send(screen, screen)

    async def fence_back(self, fence: KeyFence) -> None:
        """The app got a fence back (tui.app routes KeyFence here)."""
        screen = self._screen()
        if fence.number != self._fence or screen is None:
            return  # one given up as lost, or replaced; or the app is ending
        if screen is not self._via:  # the key changed the screen: once through the new one
            self._send(screen, screen)
            return
        waiting = _with_messages(screen)
        if waiting is not None and self._rounds < MAX_ROUNDS:
            self._rounds += 1
            self._send(waiting, screen)
            return
        self._fence = None
        if self._watch is not None:
            self._watch.pause()
        await self._run()

    async def _run(self) -> None:
        while self._fence is None and self._held:
            screen = self._screen()
            if screen is None or screen.id == "_default":
                return  # the app's first screen is not up yet (typed while it starts): held
            if isinstance(screen, HoldsKeys) and screen.key_waits(self._held[0]):
                return  # the screen calls resume(); a screen change does too
            event = self._held.popleft()
            self._rounds = 0
            await self._deliver(event)
            self._send(self._app.focused or screen, screen)

    def _send(self, target: MessagePump, via: Screen[Any]) -> None:
        """A fence after everything queued on `target` (a widget of `via`, or `via` itself)."""
        app = self._app
        self._count += 1
        self._fence, self._via, self._origin = self._count, via, target
        fence = KeyFence(self._count)
        fence.set_sender(app)  # a screen, whose parent the app is, passes it on to the app
        if not target.post_message(fence) and not via.post_message(fence):
            self._via = None  # neither takes messages (closing): through the current screen
            app.post_message(fence)
        if self._watch is None:
            self._watch = app.set_interval(LOST_FENCE_CHECK_S, self._check_lost)
        else:
            self._watch.resume()

    def _check_lost(self) -> None:
        """A fence sent to a widget or screen that was removed with it never comes back:
        send another through the current screen."""
        if self._fence is None:
            if self._watch is not None:
                self._watch.pause()
            return
        for node in (self._origin, self._via):
            if node is not None and (not node.is_attached or node._closing or node._closed):
                screen = self._screen()
                if screen is not None:
                    self._send(screen, screen)
                return


def _with_messages(screen: Screen[Any]) -> MessagePump | None:
    """A widget of `screen` (or the screen) with messages waiting in its queue, else None."""
    for node in screen.walk_children(with_self=True):
        if not node._message_queue.empty():
            return node
    return None


def follow_screens(app: App[Any], gate: TypeAhead) -> None:
    """Tell the gate of every screen change (see TypeAhead.screen_changed)."""
    app.screen_change_signal.subscribe(app, lambda _screen: gate.screen_changed())
