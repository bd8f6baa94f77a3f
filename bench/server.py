"""The account server: `python3 -m bench server [--quick] [--pg]`, or `python3 -m bench.server
[--pg URL] [--clients N] [--rounds N] [--records N]` for one run.

Runs a real server in a subprocess (uvicorn, one process) on 127.0.0.1 and measures:
1. 200 concurrent clients (one account each) syncing small changes (push one envelope, pull
   since their cursor): latency percentiles, closed loop (every client back-to-back) and paced
   (each client syncs about once a second, like devices after edits);
2. bytes on the wire for a one-record change in a 10,000-record vault (request + response);
3. first sign-in of a new device on a 10,000-record vault: SRP + download + store.
The KDF is excluded from every figure: the cheap test profile is on for the run (this process and
the server it starts) and off again afterwards.

`--quick`: 50 clients, 5 rounds, 2,000 records. `--pg`: the same run against PostgreSQL too
(STRONGROOM_TEST_PG or postgresql://postgres@127.0.0.1:5432/test; a fresh schema, dropped
afterwards). Targets (issue 5): p99 < 100 ms, < 4 KB per one-record change, first sign-in < 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import insecure_test_kdf
from sync.cloud import CloudClient, CloudSession, CloudSync, save_session
from vault import keys as keymod
from vault.envelope import Envelope, RecordCipher
from vault.keys import KeySlot, UnlockedKeys
from vault.merge import next_version
from vault.records import new_record


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, database: str, tmp: Path, pg_schema: str | None) -> None:
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            sys.executable,
            "-m",
            "sync.server",
            "--database",
            database,
            "--port",
            str(self.port),
            "--outbox",
            str(tmp / "outbox"),
            "--rate-limit-scale",
            "1000",
            "--log-level",
            "warning",
            "--threads",
            os.environ.get("BENCH_THREADS", "40"),
        ]
        if pg_schema:
            args += ["--pg-schema", pg_schema]
        self.proc = subprocess.Popen(args, env=os.environ.copy())
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(self.url + "/v1/health", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("the benchmark server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def account(client: CloudClient, n: int) -> tuple[KeySlot, UnlockedKeys, CloudSession]:
    slot, keys = keymod.create_account(
        f"bench{n}-{secrets.token_hex(3)}@example.com", "bench password"
    )
    session = client.signup(slot, keys, f"dev{n}", f"bench device {n}")
    return slot, keys, session


def envelope(keys: UnlockedKeys, device: str, title: str) -> Envelope:
    rec = new_record(
        "login",
        title,
        {
            "username": "someone",
            "password": secrets.token_urlsafe(16),
            "url": "https://example.com/login",
        },
    )
    vv, hlc = next_version([], device)
    return RecordCipher(keys.account_id, keys.subkey("records")).seal(rec, rec.id, vv, hlc, device)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000


class RawConnection:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams: the load generator must cost far less
    than the server it measures (httpx's pool with hundreds of connections did not)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def concurrent_clients(
    url: str, sessions: list[tuple[UnlockedKeys, CloudSession]], rounds: int, pace_s: float | None
) -> dict[str, Any]:
    import json

    lat: list[float] = []
    sync_lat: list[float] = []
    errors = 0
    host, port = url.split("//")[1].split(":")
    # envelopes sealed up front, so the clients' loop is network only
    bodies = [
        [
            json.dumps(
                {
                    "generation": s.generation,
                    "epoch": s.epoch,
                    "envelopes": [
                        base64.b64encode(
                            envelope(keys, s.device_id, f"change {r}").to_bytes()
                        ).decode()
                    ],
                }
            ).encode()
            for r in range(rounds)
        ]
        for keys, s in sessions
    ]

    async def one(i: int, s: CloudSession) -> None:
        nonlocal errors
        conn = RawConnection(host, int(port))
        since = 0
        if pace_s:
            await asyncio.sleep(random.random() * pace_s)
        for r in range(rounds):
            t0 = time.perf_counter()
            st1, _ = await conn.post("/v1/sync/push", bodies[i][r], s.token)
            t1 = time.perf_counter()
            pull = json.dumps({"generation": s.generation, "since": since}).encode()
            st2, out = await conn.post("/v1/sync/pull", pull, s.token)
            t2 = time.perf_counter()
            if st1 != 200 or st2 != 200:
                errors += 1
            else:
                since = int(json.loads(out)["next"])
            lat.extend([t1 - t0, t2 - t1])
            sync_lat.append(t2 - t0)
            if pace_s:
                await asyncio.sleep(pace_s * (0.5 + random.random()))
        conn.close()

    t = time.perf_counter()
    await asyncio.gather(*(one(i, s) for i, (_, s) in enumerate(sessions)))
    wall = time.perf_counter() - t
    return {
        "requests": len(lat),
        "errors": errors,
        "wall_s": round(wall, 2),
        "req_per_s": round(len(lat) / wall),
        "p50_ms": round(pct(lat, 50), 1),
        "p99_ms": round(pct(lat, 99), 1),
        "max_ms": round(max(lat) * 1000, 1),
        "sync_p99_ms": round(pct(sync_lat, 99), 1),
    }


def big_vault(url: str, tmp: Path, records: int) -> dict[str, Any]:
    client = CloudClient(url)
    slot, keys, session = account(client, 999_999)
    t = time.perf_counter()
    envs = [envelope(keys, session.device_id, f"Record {i}") for i in range(records)]
    client.push(session, envs)
    upload = time.perf_counter() - t
    # the one-record change, measured on the wire
    wire: list[int] = []

    def count(request: httpx.Request) -> None:
        wire.append(
            len(request.read()) + sum(len(k) + len(v) + 4 for k, v in request.headers.raw) + 40
        )

    def count_resp(response: httpx.Response) -> None:
        response.read()
        wire.append(
            -(
                len(response.content)
                + sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
                + 20
            )
        )

    from vault.vault import Vault

    home_a = tmp / "device-a"
    a = Vault.adopt(home_a, slot, keys, [])
    save_session(a, session)
    CloudSync(a, client, session).sync_now()  # device A is current
    a.add(
        new_record(
            "login",
            "One change",
            {"username": "u", "password": "p" * 20, "url": "https://x.example"},
        )
    )
    metered = CloudClient(url)
    metered._http.event_hooks = {"request": [count], "response": [count_resp]}
    CloudSync(a, metered, session).sync_now()
    sent = sum(w for w in wire if w > 0)
    received = -sum(w for w in wire if w < 0)
    # first sign-in of a new device: SRP + download + store
    b_client = CloudClient(url)
    t = time.perf_counter()
    slot_b, keys_b, s_b = b_client.signin_with_kit(
        slot.email, "bench password", slot.kit, "devnew", "new"
    )
    b = Vault.adopt(tmp / "device-b", slot_b, keys_b, [])
    save_session(b, s_b)
    rep = CloudSync(b, b_client, s_b).sync_now()
    first = time.perf_counter() - t
    n = len(b.summaries())
    return {
        "records": records,
        "upload_s": round(upload, 2),
        "one_change_bytes_sent": sent,
        "one_change_bytes_received": received,
        "first_signin_s": round(first, 2),
        "first_signin_records": n,
        "received": rep.received,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--pg", help="PostgreSQL URL (a fresh schema is used and dropped)")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--records", type=int, default=10_000)
    a = ap.parse_args(argv)
    with insecure_test_kdf(), tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        schema = f"bench_{secrets.token_hex(4)}" if a.pg else None
        database = a.pg or str(tmp / "server.db")
        srv = Server(database, tmp, schema)
        try:
            client = CloudClient(srv.url)
            sessions = [(keys, s) for _, keys, s in (account(client, i) for i in range(a.clients))]
            print("backend:", "postgresql" if a.pg else "sqlite", flush=True)
            closed = asyncio.run(concurrent_clients(srv.url, sessions, a.rounds, None))
            print(f"{a.clients} clients, closed loop:", closed, flush=True)
            paced = asyncio.run(concurrent_clients(srv.url, sessions, a.rounds, 1.0))
            print(f"{a.clients} clients, each syncing about once a second:", paced, flush=True)
            print("10k vault:", big_vault(srv.url, tmp, a.records), flush=True)
        finally:
            srv.stop()
            if a.pg and schema:
                from sync.server.storage import Storage

                Storage(a.pg, schema, migrate=False).drop_schema()


def run() -> None:
    """`python3 -m bench server`: the full run (or `--quick`), then PostgreSQL with `--pg`."""
    quick = "--quick" in sys.argv
    args = ["--clients", "50", "--rounds", "5", "--records", "2000"] if quick else []
    main(args)
    if "--pg" in sys.argv:
        main(
            [
                *args,
                "--pg",
                os.environ.get("STRONGROOM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"),
            ]
        )


if __name__ == "__main__":
    main()
