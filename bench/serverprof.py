"""`python3 -m bench.serverprof ARGS…`: the account server (`python -m sync.server ARGS…`) with a
sampling profiler in every process, for `bench.server --profile DIR`.

Why sampling: cProfile sees one thread, and the server's time is spread over the event loop and
the worker threads that talk to the database. Every 2 ms a thread of ours reads every other
thread's stack (sys._current_frames) and counts the innermost frame, split into the event-loop
thread and the worker threads; idle threads (a worker waiting for a job) are not counted, and
nothing is counted unless DIR/on exists (the benchmark makes it for its measured phases). Each process
writes its counts to DIR/<pid>.json every second (a `--workers` child is spawned and imports this
module as its main, so it samples itself too). `summarise(DIR)` adds them up.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType

ENV = "STRONGROOM_BENCH_PROFILE"
INTERVAL_S = 0.002


def _where(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        parts = Path(path).parts
        path = "/".join(parts[-2:])
    return f"{path}:{code.co_name}"


def _idle(frame: FrameType) -> bool:
    """A thread with nothing to do: a worker waiting for its next job (anyio's loop in
    queue.get), uvicorn's health-check thread, the `--workers` supervisor."""
    f: FrameType | None = frame
    while f is not None:
        name, path = f.f_code.co_name, f.f_code.co_filename
        if name == "get" and path.endswith("queue.py"):
            caller = f.f_back
            return caller is not None and "anyio" in caller.f_code.co_filename
        if name in ("always_pong", "run") and "supervisors" in path:
            return True
        f = f.f_back
    return False


#: Where a sample's innermost frame is, in words (first match wins).
CATEGORIES = (
    ("psycopg/connection.py:wait", "waiting for PostgreSQL's answer"),
    ("selectors.py", "waiting for PostgreSQL's answer"),
    ("psycopg/", "psycopg, Python side (sending queries, reading rows)"),
    ("asyncio/runners.py:run", "event loop idle or in C (uvloop, httptools)"),
    ("server/storage.py", "our storage layer (SQLite calls run here)"),
    ("server/pool.py", "our storage layer (SQLite calls run here)"),
    ("server/service.py", "our service: sessions, merge, checks"),
    ("vault/", "envelope parsing and merge rules (vault)"),
    ("server/app.py", "our HTTP layer: parsing, base64, JSON"),
    ("server/metrics.py", "metrics"),
    ("json/", "JSON"),
    ("starlette/", "Starlette"),
    ("anyio/", "thread hand-off (anyio)"),
    ("threading.py", "thread hand-off (anyio)"),
    ("uvicorn/", "uvicorn"),
)


def category(where: str) -> str:
    for prefix, name in CATEGORIES:
        if prefix in where:
            return name
    return "other"


def _sample(out_dir: Path) -> None:
    me = threading.get_ident()
    main = threading.main_thread().ident
    loop: Counter[str] = Counter()
    workers: Counter[str] = Counter()
    samples = 0
    last_write = time.monotonic()
    path = out_dir / f"{os.getpid()}.json"
    on = out_dir / "on"
    while True:
        time.sleep(INTERVAL_S)
        if not on.exists():  # the benchmark switches sampling on for its measured phases
            continue
        samples += 1
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            if _idle(frame):
                continue
            if ident == main:
                loop[_where(frame)] += 1
            else:
                workers[_where(frame)] += 1
        if time.monotonic() - last_write > 0.5:
            last_write = time.monotonic()
            tmp = path.with_suffix(".tmp")
            tmp.write_text(
                json.dumps({"samples": samples, "loop": dict(loop), "workers": dict(workers)})
            )
            tmp.replace(path)


def start(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    threading.Thread(target=_sample, args=(out_dir,), daemon=True, name="sampler").start()


def summarise(out_dir: Path, top: int = 8) -> dict[str, list[tuple[str, float]]]:
    """Over every process, per kind of thread: the share of non-idle samples by category, then
    the busiest places, in percent."""
    loop: Counter[str] = Counter()
    workers: Counter[str] = Counter()
    for f in out_dir.glob("*.json"):
        d = json.loads(f.read_text())
        loop.update(d["loop"])
        workers.update(d["workers"])
    out: dict[str, list[tuple[str, float]]] = {}
    for name, counts in (("event loop thread", loop), ("worker threads", workers)):
        total = sum(counts.values()) or 1
        kinds: Counter[str] = Counter()
        for k, v in counts.items():
            kinds[category(k)] += v
        out[f"{name}: by category"] = [
            (k, round(100 * v / total, 1)) for k, v in kinds.most_common()
        ]
        out[f"{name}: top places"] = [
            (k, round(100 * v / total, 1)) for k, v in counts.most_common(top)
        ]
    return out


if os.environ.get(ENV):  # also in a spawned --workers child, which imports this as __mp_main__
    start(Path(os.environ[ENV]))
if os.environ.get("BENCH_SWITCH_INTERVAL"):  # experiments: the GIL's hand-over interval
    sys.setswitchinterval(float(os.environ["BENCH_SWITCH_INTERVAL"]))

if __name__ == "__main__":
    from sync.server.__main__ import main

    main(sys.argv[1:])
