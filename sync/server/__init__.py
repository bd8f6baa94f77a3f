"""The Strongroom account server (cloud sync): sign-up, SRP sign-in, incremental sync, resets.

Python API (used by `strongroom server` and by tests):

    from sync.server import ServerConfig, ServerApp, ServerThread, serve
    cfg = ServerConfig(database="server.db", base_url="https://vault.example", outbox=Path("outbox"))
    serve(cfg, host="0.0.0.0", port=8470)                 # blocks (uvicorn)
    with ServerThread(cfg) as srv: ... srv.url ...         # 127.0.0.1, random port

`database` is a SQLite path or a `postgresql://` URL. The client is `sync.cloud.CloudClient`.
Modules: storage (schema + migrations), service (the logic, no HTTP), app (Starlette routes),
srp6a (SRP glue shared with the client), pages (reset HTML), runner (uvicorn). Its emails:
sync/mail/server_notices.py.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServerApp", "ServerConfig", "ServerThread", "serve"]


def __getattr__(name: str) -> Any:
    # Lazy, so the client can import sync.server.srp6a without pulling in Starlette/uvicorn.
    if name == "ServerConfig":
        from .service import ServerConfig

        return ServerConfig
    if name == "ServerApp":
        from .app import ServerApp

        return ServerApp
    if name in ("ServerThread", "serve"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(name)
