"""Sign-up and sign-in through the account server or a Wi-Fi peer (the sync issues' sources)."""

from __future__ import annotations

from typing import Any

from ..context import EXIT_USAGE, CliError, Context


def signin_over_wifi(ctx: Context, email: str, kit: Any, interfaces: list[str]) -> Any:
    import asyncio

    from sync.engine import wifi_interfaces
    from sync.wifi import bootstrap

    if kit is None:
        raise CliError("strongroom: signing in over Wi-Fi needs your Authentication Kit (--kit FILE or --code CODE)",
                       EXIT_USAGE)
    password = ctx.password()
    return asyncio.run(bootstrap(ctx.home, email, password, kit, wifi_interfaces(interfaces), timeout=5.0))


def _cloud() -> Any:
    import importlib

    try:
        cloud = importlib.import_module("sync.cloud")
    except ModuleNotFoundError:
        raise CliError("strongroom: this build has no account-server client yet; sync through a folder or Wi-Fi",
                       EXIT_USAGE) from None
    return cloud


def signup_on_server(ctx: Context, url: str, email: str, password: str, hint: str) -> Any:
    return _cloud().cli_signup(ctx.home, url, email, password, hint)


def signin_on_server(ctx: Context, url: str, email: str, kit: Any) -> Any:
    return _cloud().cli_signin(ctx.home, url, email, ctx.password(), kit)
