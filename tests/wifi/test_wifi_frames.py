"""Property tests of the frame reader and message parsers: any bytes → a typed WifiError or a
correct message, never another exception."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.wifi import WifiError
from sync.wifi import protocol as p
from sync.wifi.channel import _C2S, _S2C, Channel

KEY_A, KEY_B = secrets.token_bytes(32), secrets.token_bytes(32)


def sender() -> Channel:
    """The client end, used only to seal frames."""
    return Channel(None, None, 1, AESGCM(KEY_A), AESGCM(KEY_B), _C2S, _S2C)  # type: ignore[arg-type]


def receiver_of(data: bytes) -> Channel:
    """The server end, reading `data` then end of stream (call inside a running loop)."""
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return Channel(reader, None, 1, AESGCM(KEY_B), AESGCM(KEY_A), _S2C, _C2S, read_timeout=1.0)  # type: ignore[arg-type]


def run_reader(data: bytes, read: Callable[[Channel], Awaitable[object]]) -> object:
    async def go() -> object:
        try:
            return await read(receiver_of(data))
        except WifiError as exc:
            return exc

    return asyncio.run(go())


READERS: list[Callable[[Channel], Awaitable[object]]] = [
    lambda ch: ch.recv(),
    p.recv_summary,
    p.recv_envelopes,
    lambda ch: p.expect(ch, p.STATE),
]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.integers(0, len(READERS) - 1))
def test_random_bytes_give_typed_errors(data: bytes, which: int) -> None:
    run_reader(data, READERS[which])


messages = st.lists(
    st.tuples(
        st.sampled_from([p.STATE, p.SUMMARY, p.SUMMARY_END, p.ENVS, p.ENVS_END, 0, 255]),
        st.binary(max_size=80),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(messages, st.integers(0, 10_000), st.integers(0, 7), st.integers(0, len(READERS) - 1))
def test_mutated_authentic_streams_give_typed_errors(
    msgs: list[tuple[int, bytes]], pos: int, bit: int, which: int
) -> None:
    ch = sender()
    frames = [ch.seal_frame(t, b) for t, b in msgs]
    stream = bytearray(b"".join(frames))
    at = pos % len(stream)
    stream[at] ^= 1 << bit
    result = run_reader(bytes(stream), READERS[which])
    if 4 <= at < len(frames[0]):  # inside the first frame (after its length): it must not open
        assert isinstance(result, WifiError)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=120))
def test_state_parser(body: bytes) -> None:
    try:
        p.parse_state(body)
    except WifiError:
        pass


def test_authentic_stream_reads_back() -> None:
    ch = sender()
    state = p.state_body(3, 4, "name")
    data = ch.seal_frame(p.STATE, state) + ch.seal_frame(p.SUMMARY_END, b"")
    assert run_reader(data, lambda ch: p.expect(ch, p.STATE)) == state
