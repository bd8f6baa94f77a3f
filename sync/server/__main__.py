"""`python -m sync.server --database PATH|URL [--host H] [--port P] …`: what `strongroom server` runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import TransportSettingError
from .errors import StorageError
from .runner import check_tls_files, serve
from .service import Limits, ServerConfig
from .storage import database_target


def database_arg(value: str) -> str:
    """`--db`/`--database` for argparse: a SQLite path or PostgreSQL URL, else a usage error."""
    try:
        return database_target(value)
    except StorageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _workers(value: str) -> int:
    """--workers for argparse: 1 to 64 processes."""
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"--workers takes a number from 1 to 64, not {value!r}")
    return int(value)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m sync.server", description="Run the Strongroom account server."
    )
    ap.add_argument(
        "--database",
        default="strongroom-server.db",
        type=database_arg,
        help="SQLite path, sqlite:///PATH or postgresql://… URL",
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8470)
    ap.add_argument(
        "--base-url", help="public URL used in emailed links (default http://HOST:PORT)"
    )
    ap.add_argument(
        "--smtp",
        help="smtp://[user:pass@]host[:port] or smtps://…; default: write .eml to --outbox",
    )
    ap.add_argument("--outbox", type=Path, default=Path("outbox"))
    ap.add_argument(
        "--trust-proxy",
        type=int,
        nargs="?",
        const=1,
        default=0,
        metavar="N",
        help="N proxies in front: take the client address from X-Forwarded-For, the entry the "
        "N-th proxy wrote, counted from the right (bare flag: 1; default 0 = ignore the header)",
    )
    ap.add_argument(
        "--tls-cert",
        "--ssl-certfile",
        dest="ssl_certfile",
        help="serve https with this PEM certificate (chain); emailed links then use https",
    )
    ap.add_argument(
        "--tls-key",
        "--ssl-keyfile",
        dest="ssl_keyfile",
        help="the certificate's PEM private key (unless --tls-cert holds it too)",
    )
    ap.add_argument("--pg-schema", help="PostgreSQL schema to use (default: the URL's search_path)")
    ap.add_argument(
        "--rate-limit-scale",
        type=int,
        default=1,
        help="multiply every rate limit (benchmarks with hundreds of clients on one address)",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=40,
        help="worker threads (= database connections) per process",
    )
    ap.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="server processes sharing the port (state lives in the database; "
        "use PostgreSQL for more than one, see docs/server.md)",
    )
    ap.add_argument(
        "--session-hours",
        type=float,
        default=12,
        help="a session ends after this many hours unused (each use moves it ahead; default 12)",
    )
    ap.add_argument(
        "--session-max-days",
        type=float,
        default=30,
        help="and at the latest this many days after sign-in (default 30); devices then sign in "
        "again by themselves",
    )
    ap.add_argument(
        "--retain",
        type=float,
        default=30.0,
        metavar="DAYS",
        help="keep (and serve) a version another supersedes this long before deleting it "
        "(default 30): devices then still hold the good one if a forged 'newer' one arrives",
    )
    ap.add_argument(
        "--blob-quota-mb",
        type=int,
        default=1024,
        metavar="MB",
        help="attachment bytes one account may keep on the server, in MiB (default 1024)",
    )
    ap.add_argument(
        "--blob-grace-hours",
        type=float,
        default=24.0,
        metavar="HOURS",
        help="keep a blob at least this long after its upload, even when a device asks the "
        "server to forget it (default 24): the records naming a new file follow its blob",
    )
    ap.add_argument("--log-level", default="info")
    a = ap.parse_args(argv)
    if not 0 <= a.retain <= 36500:
        ap.error("--retain takes a number of days from 0 to 36500")
    if not 0 <= a.blob_grace_hours <= 24 * 365:
        ap.error("--blob-grace-hours takes a number of hours from 0 to 8760")
    if a.ssl_keyfile and not a.ssl_certfile:
        ap.error("--tls-key needs --tls-cert")
    if a.ssl_certfile:
        try:
            check_tls_files(a.ssl_certfile, a.ssl_keyfile)
        except TransportSettingError as exc:
            ap.exit(2, f"strongroom server: {exc}\n")
    scheme = "https" if a.ssl_certfile else "http"
    cfg = ServerConfig(
        database=a.database,
        base_url=a.base_url or f"{scheme}://{a.host}:{a.port}",
        smtp_url=a.smtp,
        outbox=a.outbox,
        trust_proxy=a.trust_proxy,
        pg_schema=a.pg_schema,
        threads=a.threads,
        session_ttl_s=max(60, int(a.session_hours * 3600)),
        session_max_s=max(60, int(a.session_max_days * 86400)),
        limits=Limits().scaled(a.rate_limit_scale),
        keep_superseded_s=int(a.retain * 86400),
        blob_quota=max(0, a.blob_quota_mb) * 1024 * 1024,
        blob_grace_s=int(a.blob_grace_hours * 3600),
    )
    serve(
        cfg,
        a.host,
        a.port,
        ssl_certfile=a.ssl_certfile,
        ssl_keyfile=a.ssl_keyfile,
        log_level=a.log_level,
        workers=a.workers,
    )


if __name__ == "__main__":
    main()
