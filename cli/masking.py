"""`strongroom run`'s output filter: a child's stdout/stderr with the secrets it was given masked.

The child's output is passed on as it arrives (a prompt without a newline shows at once); only
a tail that could be the start of a secret is held back until the next bytes tell, so a value
split across two reads is masked too.
"""

from __future__ import annotations

import os
import re
import selectors
from collections.abc import Iterable

MASK = b"<concealed by strongroom>"


class Masker:
    """Replaces every occurrence of the given secrets in a byte stream fed in pieces, in one
    pass (leftmost, longest first), so the result does not depend on how the stream was split."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted({s.encode() for s in secrets if s}, key=len, reverse=True)
        self._secrets = values
        self._pattern = re.compile(b"|".join(re.escape(v) for v in values)) if values else None
        self._held = b""

    def feed(self, data: bytes) -> bytes:
        buf = self._held + data
        if self._pattern is None:
            self._held = b""
            return buf
        # A match may only start before `limit`: from there on, more bytes could still make a
        # (longer) secret, so that tail is held until they come.
        limit = len(buf) - self._partial_tail(buf)
        out, pos = [], 0
        for m in self._pattern.finditer(buf):
            if m.start() >= limit:
                break
            out += [buf[pos : m.start()], MASK]
            pos = m.end()
        cut = max(pos, limit)
        out.append(buf[pos:cut])
        self._held = buf[cut:]
        return b"".join(out)

    def flush(self) -> bytes:
        buf, self._held = self._held, b""
        return self._pattern.sub(MASK, buf) if self._pattern is not None else buf

    def _partial_tail(self, buf: bytes) -> int:
        """Length of the longest tail of `buf` that is a proper prefix of a secret."""
        best = 0
        for secret in self._secrets:
            for n in range(min(len(secret) - 1, len(buf)), best, -1):
                if buf.endswith(secret[:n]):
                    best = n
                    break
        return best


def pump(sources: dict[int, int], secrets: list[str]) -> None:
    """Copy each source fd to its target fd (child stdout → 1, stderr → 2), masked, until EOF."""
    maskers = {src: Masker(secrets) for src in sources}
    sel = selectors.DefaultSelector()
    for src in sources:
        sel.register(src, selectors.EVENT_READ)
    open_fds = set(sources)
    while open_fds:
        for key, _ in sel.select():
            src = int(key.fd)
            chunk = os.read(src, 65536)
            if chunk:
                _write_all(sources[src], maskers[src].feed(chunk))
                continue
            _write_all(sources[src], maskers[src].flush())
            sel.unregister(src)
            os.close(src)
            open_fds.discard(src)
    sel.close()


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            n = os.write(fd, data)
        except BrokenPipeError:
            return  # our reader left; the child learns it from its own next write
        data = data[n:]
