"""`strongroom server`: run the account server (SQLite file by default, PostgreSQL by URL)."""

from __future__ import annotations

import argparse
import sys

from ..invocation import EXIT_OK, EXIT_USAGE, CliError, Context, env_secret, secret_in_argv


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "server",
        help="run the account server (see docs/server.md)",
        description="Run the Strongroom account server. Stores only encrypted records and wrapped keys.",
    )
    p.add_argument(
        "--db",
        default="strongroom-server.db",
        metavar="URL",
        type=_database,
        help="SQLite file (default strongroom-server.db), sqlite:///PATH (sqlite:////ABS/PATH) "
        "or postgresql://… URL",
    )
    p.add_argument("--host", default="127.0.0.1", metavar="H")
    p.add_argument("--port", type=int, default=8470, metavar="P")
    p.add_argument(
        "--outbox",
        default="outbox",
        metavar="DIR",
        help="where emails go when no SMTP server is set",
    )
    p.add_argument(
        "--smtp",
        metavar="URL",
        help="smtp://[user@]host[:port] or smtps://…; the password from env "
        "STRONGROOM_SMTP_PASSWORD (in the URL, user:pass@, every local user sees it)",
    )
    p.add_argument(
        "--base-url",
        metavar="URL",
        help="public URL for emailed links (default https://HOST:PORT with --tls-cert, "
        "else http://HOST:PORT)",
    )
    p.add_argument(
        "--tls-cert",
        metavar="FILE",
        help="serve https with this PEM certificate (chain); see docs/server.md",
    )
    p.add_argument(
        "--tls-key",
        metavar="FILE",
        help="the certificate's PEM private key (unless --tls-cert holds it too)",
    )
    p.add_argument(
        "--trust-proxy",
        type=_hops,
        default=0,
        metavar="N",
        help="behind N reverse proxies of yours: rate limits take the client address from "
        "X-Forwarded-For, the entry the N-th proxy wrote, counted from the right "
        "(default 0: ignore the header, which any client can write)",
    )
    p.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="N server processes sharing the port, all state in the database (PostgreSQL "
        "for N > 1; see docs/server.md)",
    )
    p.add_argument(
        "--session-hours",
        type=float,
        default=12,
        metavar="H",
        help="a device's session ends after H hours unused (each use moves it ahead; default 12); "
        "the device then signs in again by itself",
    )
    p.add_argument(
        "--retain",
        type=_days,
        default=30.0,
        metavar="DAYS",
        help="days to keep a version that a newer one superseded (default 30): the server cannot "
        "open versions, so a forged 'newer' one never takes the good one away",
    )
    p.add_argument(
        "--blob-quota-mb",
        type=int,
        default=1024,
        metavar="MB",
        help="attachment bytes one account may keep on the server, in MiB (default 1024); an "
        "upload over it is refused with a message saying how much is used",
    )
    p.set_defaults(func=cmd_server)


def _days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        days = -1.0
    if not 0 <= days <= 36500:
        raise argparse.ArgumentTypeError(f"--retain takes 0 to 36500, not {value!r}")
    return days


def _hops(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"--trust-proxy takes a number of proxies, not {value!r}")
    return int(value)


def _workers(value: str) -> int:
    from sync.server.__main__ import _workers as workers_arg

    return workers_arg(value)


def _database(value: str) -> str:
    from sync.server.__main__ import database_arg  # the server's modules load only when it runs

    return database_arg(value)


def smtp_url(url: str) -> str:
    """--smtp with the password of STRONGROOM_SMTP_PASSWORD, which wins over one in the URL."""
    from urllib.parse import quote, urlsplit

    parts = urlsplit(url)
    if parts.password is not None:  # said now: the server runs until stopped
        print(
            secret_in_argv("the SMTP password in --smtp", "use STRONGROOM_SMTP_PASSWORD instead"),
            file=sys.stderr,
        )
    password = env_secret("STRONGROOM_SMTP_PASSWORD")
    if password is None:
        return url
    if not parts.username:
        raise CliError(
            "strongroom: STRONGROOM_SMTP_PASSWORD needs the user in --smtp (smtp://USER@HOST:PORT)",
            EXIT_USAGE,
        )
    user_info, _, host = parts.netloc.rpartition("@")
    user = user_info.partition(":")[0]
    return parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}").geturl()


def cmd_server(args: argparse.Namespace, ctx: Context) -> int:
    from sync.server.__main__ import main

    argv = [
        "--database",
        args.db,
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--outbox",
        args.outbox,
    ]
    if args.smtp:
        argv += ["--smtp", smtp_url(args.smtp)]  # the server runs in this process: not in `ps`
    if args.base_url:
        argv += ["--base-url", args.base_url]
    if args.tls_cert:
        argv += ["--tls-cert", args.tls_cert]
    if args.tls_key:
        argv += ["--tls-key", args.tls_key]
    if args.trust_proxy:
        argv += ["--trust-proxy", str(args.trust_proxy)]
    if args.workers > 1:
        argv += ["--workers", str(args.workers)]
    if args.session_hours != 12:
        argv += ["--session-hours", str(args.session_hours)]
    if args.retain != 30:
        argv += ["--retain", str(args.retain)]
    if args.blob_quota_mb != 1024:
        argv += ["--blob-quota-mb", str(args.blob_quota_mb)]
    main(argv)
    return EXIT_OK
