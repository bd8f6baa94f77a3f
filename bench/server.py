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
import json
import os
import random
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import insecure_test_kdf, write_marked_section
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
    def __init__(
        self,
        database: str,
        tmp: Path,
        pg_schema: str | None,
        workers: int = 1,
        profile: Path | None = None,
    ) -> None:
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            sys.executable,
            "-m",
            "bench.serverprof",  # the server, sampled when `profile` names a folder
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
            os.environ.get("BENCH_THREADS", "24"),
        ]
        if pg_schema:
            args += ["--pg-schema", pg_schema]
        if workers > 1:
            args += ["--workers", str(workers)]
        env = os.environ.copy()
        if profile:
            from bench.serverprof import ENV

            env[ENV] = str(profile)
        self.proc = subprocess.Popen(args, env=env)
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
        self.proc.wait(timeout=20)

    def cpu_s(self) -> float:
        """CPU seconds used so far by the server's processes (the supervisor and its workers)."""
        pids = [self.proc.pid, *_children(self.proc.pid)]
        return sum(_proc_cpu_s(p) for p in pids)


def _proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append(int(stat.parent.name))
    return out


def _pg_backends_cpu(pg_url: str, app_name: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving connections named `app_name`."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        pids = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name=%s", (app_name,)
            )
        ]
    return {p: _proc_cpu_s(p) for p in pids}


class CpuMeter:
    """CPU seconds spent between `start()` and `stop()` by the server's processes, its
    PostgreSQL backends, and this process (the load generator)."""

    def __init__(self, srv: Server, pg_url: str | None, app_name: str) -> None:
        self.srv, self.pg_url, self.app_name = srv, pg_url, app_name

    def _now(self) -> tuple[float, dict[int, float], float]:
        pg = _pg_backends_cpu(self.pg_url, self.app_name) if self.pg_url else {}
        own = resource.getrusage(resource.RUSAGE_SELF)
        return self.srv.cpu_s(), pg, own.ru_utime + own.ru_stime

    def start(self) -> None:
        self._t0 = self._now()

    def stop(self, rounds: int) -> dict[str, float]:
        """Milliseconds of CPU per sync round (push + pull) for each party."""
        srv0, pg0, me0 = self._t0
        srv1, pg1, me1 = self._now()
        pg = sum(v - pg0.get(p, 0.0) for p, v in pg1.items())
        per = 1000 / max(rounds, 1)
        return {
            "server_cpu_ms_per_round": round((srv1 - srv0) * per, 2),
            "postgres_cpu_ms_per_round": round(pg * per, 2),
            "clients_cpu_ms_per_round": round((me1 - me0) * per, 2),
        }


#: PostgreSQL with synchronous_commit=off: like SQLite in WAL mode with synchronous=NORMAL (what
#: the server uses), a crash of the machine may lose the last commits but never corrupts.
POSTGRESQL_ASYNC = "postgresql-async"


def _with_app_name(url: str, name: str) -> str:
    return url + ("&" if "?" in url else "?") + f"application_name={name}"


def scale_run(
    backend: str,
    workers: int,
    pg_url: str | None,
    clients: int,
    rounds: int,
    tmp: Path,
    profile: Path | None,
) -> dict[str, Any]:
    """One server configuration under `clients` concurrent clients: a closed loop (throughput)
    and a paced run (each client syncing about once a second: latency), whole rounds."""
    tag = f"bench_{secrets.token_hex(4)}"
    schema = tag if backend.startswith("postgresql") else None
    database = _with_app_name(pg_url, tag) if pg_url and schema else str(tmp / f"{tag}.db")
    if backend == POSTGRESQL_ASYNC:  # SQLite's durability: commits not flushed one by one
        database += "&options=-csynchronous_commit%3Doff"
    srv = Server(database, tmp, schema, workers, profile)
    out: dict[str, Any] = {"backend": backend, "workers": workers}
    try:
        client = CloudClient(srv.url)
        sessions = [(keys, s) for _, keys, s in (account(client, i) for i in range(clients))]
        meter = CpuMeter(srv, pg_url if schema else None, tag)
        out["load_before"] = round(os.getloadavg()[0], 1)
        if profile:
            (profile / "on").touch()
        meter.start()
        closed = asyncio.run(concurrent_clients(srv.url, sessions, rounds, None))
        out["closed"] = closed | meter.stop(clients * rounds)
        meter.start()
        paced = asyncio.run(concurrent_clients(srv.url, sessions, rounds, 1.0))
        out["paced"] = paced | meter.stop(clients * rounds)
        out["load_after"] = round(os.getloadavg()[0], 1)
        if profile:
            (profile / "on").unlink()
            time.sleep(1.2)  # every process writes its counts once more
    finally:
        srv.stop()
        if schema and pg_url:
            from sync.server.storage import Storage

            Storage(pg_url, schema, migrate=False).drop_schema()
    return out


def scale(
    pg_url: str | None, clients: int, rounds: int, repeats: int, profile: bool
) -> list[dict[str, Any]]:
    """SQLite, PostgreSQL with one worker and with two, side by side and interleaved `repeats`
    times (the machine is shared: a burst of someone else's load then spoils one run, not one
    configuration)."""
    configs = [("sqlite", 1)]
    if pg_url:
        configs += [("postgresql", 1), ("postgresql", 2), (POSTGRESQL_ASYNC, 1)]
        configs += [(POSTGRESQL_ASYNC, 2)]
    results: list[dict[str, Any]] = []
    with insecure_test_kdf(), tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for rep in range(repeats):
            for backend, workers in configs:
                prof = tmp / f"prof-{backend}-{workers}-{rep}" if profile else None
                r = scale_run(backend, workers, pg_url, clients, rounds, tmp, prof)
                if prof is not None:
                    from bench.serverprof import summarise

                    r["profile"] = summarise(prof)
                print(json.dumps(r), flush=True)
                results.append(r)
    return results


def scale_table(results: list[dict[str, Any]]) -> list[str]:
    """Markdown rows: the median over repeats of each figure, per configuration."""
    import statistics

    rows = [
        "| configuration | paced: round p50 / p99 (min–max) | closed loop: rounds/s (min–max) "
        "| closed: round p99 "
        "| CPU ms per round: server / PostgreSQL / clients (closed) | load avg (1 min) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    seen: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in results:
        seen.setdefault((r["backend"], r["workers"]), []).append(r)
    for (backend, workers), rs in seen.items():

        def med(phase: str, key: str, rs: list[dict[str, Any]] = rs) -> float:
            return float(statistics.median(float(r[phase][key]) for r in rs))

        def spread(phase: str, key: str, rs: list[dict[str, Any]] = rs) -> str:
            xs = [float(r[phase][key]) for r in rs]
            return f"{med(phase, key):.0f} ({min(xs):.0f}–{max(xs):.0f})"

        loads = [r["load_before"] for r in rs] + [r["load_after"] for r in rs]
        label = {
            "sqlite": "SQLite",
            "postgresql": "PostgreSQL",
            POSTGRESQL_ASYNC: "PostgreSQL, synchronous_commit=off",
        }[backend]
        name = f"{label}, {workers} worker" + ("s" if workers > 1 else "")
        errors = sum(int(r[phase]["errors"]) for r in rs for phase in ("closed", "paced"))
        if errors:  # a failed round is not a fast one: said where the figures are
            name += f" — {errors} FAILED ROUNDS"
        rows.append(
            f"| {name} | {med('paced', 'round_p50_ms'):.0f} / {spread('paced', 'round_p99_ms')} ms "
            f"| {spread('closed', 'rounds_per_s')} | {med('closed', 'round_p99_ms'):.0f} ms "
            f"| {med('closed', 'server_cpu_ms_per_round'):.1f} / "
            f"{med('closed', 'postgres_cpu_ms_per_round'):.1f} / "
            f"{med('closed', 'clients_cpu_ms_per_round'):.1f} "
            f"| {min(loads):.1f}–{max(loads):.1f} |"
        )
    return rows


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

    async def post(self, path: str, body: bytes, token: str, device: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
            f"X-Strongroom-Device: {device}\r\n"
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
            st1, _ = await conn.post("/v1/sync/push", bodies[i][r], s.token, s.device_id)
            t1 = time.perf_counter()
            pull = json.dumps({"generation": s.generation, "since": since}).encode()
            st2, out = await conn.post("/v1/sync/pull", pull, s.token, s.device_id)
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
        "rounds_per_s": round(len(sync_lat) / wall, 1),
        "round_p50_ms": round(pct(sync_lat, 50), 1),
        "round_p99_ms": round(pct(sync_lat, 99), 1),
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
    ap.add_argument(
        "--scale",
        action="store_true",
        help="SQLite, PostgreSQL (--pg) with 1 and 2 workers side by side, whole sync rounds",
    )
    ap.add_argument("--repeats", type=int, default=3, help="--scale: interleaved repeats")
    ap.add_argument("--profile", action="store_true", help="--scale: sample the servers' stacks")
    ap.add_argument("--markdown", type=Path, help="--scale: write the table into this file")
    a = ap.parse_args(argv)
    if a.scale:
        results = scale(a.pg, a.clients, a.rounds, a.repeats, a.profile)
        table = scale_table(results) + profile_lines(results)
        print("\n".join(table))
        if a.markdown:
            write_section(a.markdown, table, a.clients, a.rounds, a.repeats)
        return
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


def profile_lines(results: list[dict[str, Any]]) -> list[str]:
    """Where the servers' time went (the last repeat of each configuration), as a list."""
    last: dict[tuple[str, int], dict[str, Any]] = {}
    for r in results:
        if "profile" in r:
            last[(r["backend"], r["workers"])] = r["profile"]
    if not last:
        return []
    lines = [
        "",
        "Where the server's time goes (`--profile`: every thread's stack sampled every 2 ms "
        "during the measured phases, idle threads left out; share of the samples):",
        "",
    ]
    for (backend, workers), prof in last.items():
        for kind in ("worker threads", "event loop thread"):
            parts = ", ".join(f"{k} {v:.0f}%" for k, v in prof[f"{kind}: by category"] if v >= 2)
            lines.append(f"- {backend}, {workers} worker(s), {kind}: {parts}")
    return lines


SECTION_START = "<!-- bench server --scale: start -->"
SECTION_END = "<!-- bench server --scale: end -->"


def write_section(path: Path, table: list[str], clients: int, rounds: int, repeats: int) -> None:
    """Put the table between this suite's markers in `path` (appended the first time)."""
    import datetime
    import platform

    commit = (
        os.environ.get("BENCH_COMMIT")
        or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    )
    body = [
        "## The account server: SQLite and PostgreSQL, one and two workers",
        "",
        f"Written by `python3 -m bench.server --scale --pg URL --profile --markdown {path}` "
        f"({datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}). {clients} concurrent "
        f"clients on loopback, one account and one keep-alive connection each, {rounds} whole "
        "sync rounds each (push one new envelope, pull since the cursor); paced = each client "
        "syncs about once a second, closed loop = back to back. Medians over "
        f"{repeats} interleaved repeats. The clients share the cores with the server and "
        "PostgreSQL, and the machine is shared with other work: the load average says how much.",
        "",
        *table,
    ]
    write_marked_section(path, SECTION_START, SECTION_END, body)


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
