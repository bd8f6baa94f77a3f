"""Attachment blobs between two Wi-Fi peers, streamed after the records (blob phase v1).

Only when both peers announced `"bv": 1` in their STATE (an older peer never sees these frames).
After DONE, driven by the client:

    C → S   BLOB_HAVE  JSON list of the blob names the client holds
    S → C   BLOB_HAVE  the server's
    C → S   BLOB_WANT  names the client wants that the server holds
    S → C   (BLOB {"name", "size"}  BLOB_DATA* )*  BLOBS_END      each wanted blob, 1 MiB a frame
    S → C   BLOB_WANT  names the server wants from the client
    C → S   (BLOB BLOB_DATA*)*  BLOBS_END
    S → C   BLOBS_END                                  done: what it was sent is kept or refused

A device wants the blobs named by records changed since its last Wi-Fi exchange (and those still
wanted from before), whatever their size: a peer may not be around when the file is first asked
for. Each arrives in a temp file, one frame in memory at a time, and is kept only once it opens in
full under its record's key (vault/blobs.py `receive`); one that does not is dropped, reported,
and still wanted.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from vault import attachstore, safejson
from vault.errors import TamperError

from .. import blobsync
from . import protocol as p
from .channel import Channel, ChannelError

BLOB_HAVE = 20
BLOB_WANT = 21
BLOB = 22
BLOB_DATA = 23
BLOBS_END = 24
BLOB_VERSION = p.BLOB_VERSION
FRAME = 1024 * 1024
MARKER = "sync.wifi.blobs"
MAX_NAMES = 100_000
#: How long the server waits for a client that announced the blob phase to start it.
QUIET_SECONDS = 30.0


def _names(body: bytes) -> list[str]:
    try:
        names = safejson.loads(body)
        if not isinstance(names, list) or len(names) > MAX_NAMES:
            raise ValueError
        return [n for n in names if isinstance(n, str) and len(n) == 64]
    except ValueError:
        raise ChannelError("malformed blob list") from None


async def exchange(ch: Channel, vault: Any, client: bool) -> blobsync.BlobReport:
    """The blob phase, on either side (`client`: the side that opened the session)."""
    report = blobsync.BlobReport()
    have = sorted(attachstore.blob_dir(vault).names())
    if client:
        await ch.send(BLOB_HAVE, json.dumps(have).encode())
        theirs = set(_names(await p.expect(ch, BLOB_HAVE)))
        await _receive(ch, vault, await _want(ch, vault, theirs), report)
        await _send(ch, vault, _names(await p.expect(ch, BLOB_WANT)), report)
        await p.expect(ch, BLOBS_END)  # the server has kept (or refused) what it was sent
    else:  # a peer that announced the phase and then goes quiet does not hold this slot
        try:
            first = await asyncio.wait_for(p.expect(ch, BLOB_HAVE), QUIET_SECONDS)
        except TimeoutError:
            raise ChannelError("the peer did not start the blob phase it announced") from None
        theirs = set(_names(first))
        await ch.send(BLOB_HAVE, json.dumps(have).encode())
        await _send(ch, vault, _names(await p.expect(ch, BLOB_WANT)), report)
        await _receive(ch, vault, await _want(ch, vault, theirs), report)
        await ch.send(BLOBS_END)
    return report


async def _want(ch: Channel, vault: Any, theirs: set[str]) -> _Wanted:
    """Ask for what this device wants and the peer holds."""
    seq, wanted = blobsync.wanted(vault, MARKER)
    await ch.send(BLOB_WANT, json.dumps(sorted(n for n in wanted if n in theirs)).encode())
    return _Wanted(seq, wanted)


class _Wanted:
    def __init__(self, seq: int, names: dict[str, tuple[str, Any]]) -> None:
        self.seq, self.names = seq, names


async def _send(ch: Channel, vault: Any, names: list[str], report: blobsync.BlobReport) -> None:
    local = attachstore.blob_dir(vault)
    for name in names:
        try:
            src = open(local.path(name), "rb")  # noqa: SIM115 (closed by the block below)
        except FileNotFoundError:  # not here (collected since listed: nothing names it)
            continue
        with src:
            size = src.seek(0, 2)
            src.seek(0)
            await ch.send(BLOB, json.dumps({"name": name, "size": size}).encode())
            while block := src.read(FRAME):
                await ch.send(BLOB_DATA, block)
        report.sent += 1
        report.bytes_sent += size
    await ch.send(BLOBS_END)


async def _receive(ch: Channel, vault: Any, wanted: _Wanted, report: blobsync.BlobReport) -> None:
    """The blobs the peer sends, each kept only once it opens in full under its record's key."""
    local = attachstore.blob_dir(vault)
    got: set[str] = set()
    msg, body = await ch.recv()
    while msg != BLOBS_END:
        if msg != BLOB:
            raise ChannelError(f"unexpected message {msg} among blobs")
        try:
            head = safejson.loads(body)
            name, size = str(head["name"]), int(head["size"])
        except (ValueError, KeyError, TypeError):
            raise ChannelError("malformed blob header") from None
        if name not in wanted.names or size < 0:
            raise ChannelError("the peer sent a blob that was not asked for")
        att = wanted.names[name][1]
        try:
            with local.receive(name, attachstore.checker(vault, att)) as out:
                left = size
                while left > 0:
                    data = await p.expect(ch, BLOB_DATA)
                    if len(data) > left:
                        raise ChannelError("the peer sent more of a blob than it announced")
                    out.write(data)
                    left -= len(data)
            got.add(name)
            report.received += 1
            report.bytes_received += att.size
        except TamperError as exc:
            report.problems.append(f"{name[:12]}: {exc}")
        msg, body = await ch.recv()
    still = {n: rid for n, (rid, _) in wanted.names.items() if n not in got}
    blobsync.remember(vault, MARKER, wanted.seq, still)
