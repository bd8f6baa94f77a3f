"""Running the server: `serve` for `strongroom server`, `ServerThread` for tests and benchmarks.

uvicorn serves the ASGI app; TLS comes from its certificate options (or a reverse proxy in
front, see docs/server.md). `ServerThread` binds 127.0.0.1 on a random free port first, so a
test never races another for a port.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import socket
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
import uvicorn.config
from uvicorn.supervisors.multiprocess import Multiprocess

from ..errors import TransportSettingError
from .app import ServerApp
from .service import ServerConfig
from .storage import Storage


def check_tls_files(certfile: str, keyfile: str | None) -> None:
    """TransportSettingError unless the certificate and key load and belong together: said before
    the server starts, not as a traceback on the first connection."""
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(certfile, keyfile)
    except OSError as exc:  # ssl.SSLError is an OSError too
        why = getattr(exc, "reason", None) or exc.strerror or exc
        where = f"{certfile} / {keyfile}" if keyfile else certfile
        raise TransportSettingError(
            f"cannot use the TLS certificate and key {where} ({why}); give a PEM certificate "
            "(chain) with --tls-cert and its private key with --tls-key"
        ) from None


_TOKEN_IN_PATH = re.compile(r"(/reset/)[^?#\s\"]+")


class RedactTokens(logging.Filter):
    """Take reset link tokens out of access-log lines: whoever reads the log cannot use them.
    (Session tokens travel only in the Authorization header, which no log line holds.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_PATH.sub(r"\1<token>", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging setup with RedactTokens on its access log."""
    config: dict[str, Any] = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    config["handlers"]["access"]["filters"] = ["redact_tokens"]
    return config


def serve(
    config: ServerConfig,
    host: str = "127.0.0.1",
    port: int = 8470,
    *,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    log_level: str = "info",
    workers: int = 1,
) -> None:
    """Block serving the app: one process, or `workers` processes sharing the port.

    The database is opened (and migrated) here first, so a bad `--db` is said once; workers then
    migrate again under the lock and find nothing to do. Every worker keeps its state in the
    database; its request counters go to a shared metrics directory (metrics.py)."""
    db = Storage.open(config.database, config.pg_schema, pool_size=1)
    if not db.pg:  # where a relative path or sqlite:/// URL put it
        print(
            f"strongroom server: SQLite database {Path(config.database).resolve()}", file=sys.stderr
        )
    for fix in db.permission_fixes:
        print(f"strongroom server: warning: {fix}", file=sys.stderr)
    db.server_secret()  # made once here, not raced by the workers
    db.close()
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "ssl_certfile": ssl_certfile,
        "ssl_keyfile": ssl_keyfile,
        "log_level": log_level,
        "log_config": log_config(),
        "proxy_headers": False,  # X-Forwarded-For is read by the app, as --trust-proxy N says
        "server_header": False,
    }
    if workers <= 1:
        uvicorn.run(ServerApp(config), **options)
        return
    with tempfile.TemporaryDirectory(prefix="strongroom-metrics-") as metrics_dir:
        ucfg = uvicorn.Config(
            functools.partial(worker_app, config, Path(metrics_dir)),
            factory=True,
            workers=workers,
            **options,
        )
        sock = ucfg.bind_socket()
        try:
            Multiprocess(ucfg, sockets=[sock]).run()
        finally:
            sock.close()


def worker_app(config: ServerConfig, metrics_dir: Path) -> ServerApp:
    """The app of one `--workers` process (called in the process, after it starts)."""
    return ServerApp(config, metrics_dir=metrics_dir)


class ServerThread:
    """A real server on 127.0.0.1:<random port> in a background thread (`with` starts and stops it)."""

    def __init__(self, config: ServerConfig, app: ServerApp | None = None) -> None:
        self.app = app or ServerApp(config)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._sock.close()  # uvicorn binds the port itself (a socket handed over answered keep-alive requests 40 ms late)
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                log_config=log_config(),
                server_header=False,
                backlog=2048,
                timeout_keep_alive=30,
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.app.service.close()
        self.app.metrics.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
