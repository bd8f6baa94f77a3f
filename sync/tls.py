"""TLS for the connections Strongroom opens (the account server, SMTP): what it trusts, and when
plain http is refused.

Trusted: the system's CA store, certifi's (a bare container has none), and a CA file the user
names for a private CA or a self-signed server (`--ca-file`, or STRONGROOM_CA_FILE for every
command and the app). Verification is never turned off.

Plain `http://` carries the SRP sign-in exchange, the session token and the (encrypted) records
readable and changeable by anyone on the path, so it is refused to anything but this machine
(loopback: a test server, or a TLS proxy on the same host) unless the person says the path is
theirs (`--insecure-http`, remembered with the server in the sync settings). The check runs
before any connection is made.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import TransportSettingError

CA_FILE_ENV = "STRONGROOM_CA_FILE"


@dataclass(frozen=True)
class Transport:
    """How this device reaches one server beyond the defaults: an extra CA file to trust, and
    whether plain http to a host other than this machine was allowed."""

    ca_file: str = ""
    insecure_http: bool = False

    def settings(self) -> dict[str, Any]:
        """What the sync settings keep beside the server URL (nothing when all is default)."""
        kept: dict[str, Any] = {}
        if self.ca_file:
            kept["ca_file"] = self.ca_file
        if self.insecure_http:
            kept["insecure_http"] = True
        return kept

    @classmethod
    def from_settings(cls, cfg: dict[str, Any]) -> Transport:
        return cls(str(cfg.get("ca_file") or ""), bool(cfg.get("insecure_http")))


def is_loopback(host: str) -> bool:
    """This machine by name or address (127.0.0.0/8, ::1, localhost); nothing is resolved."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def check_server_url(url: str, transport: Transport = Transport()) -> None:
    """TransportSettingError unless `url` is https, or http to this machine, or http allowed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise TransportSettingError(
            f"{url!r} is not a server address: write https://HOST[:PORT] (or http://127.0.0.1:PORT "
            "for a server on this machine)"
        )
    if parts.scheme == "http" and not is_loopback(host) and not transport.insecure_http:
        raise TransportSettingError(
            f"refusing plain http:// to {host}: the sign-in exchange, the session token and your "
            "encrypted records would cross the network unprotected, readable and changeable by "
            "anyone on the way; use an https:// address (docs/server.md: running the server "
            "with TLS), or, if every network between here and that server is yours, allow it "
            "with --insecure-http"
        )


def trusted_context(ca_file: str = "") -> ssl.SSLContext:
    """A verifying client context: system CAs + certifi + `ca_file` + STRONGROOM_CA_FILE."""
    extra = tuple(f for f in (ca_file, os.environ.get(CA_FILE_ENV, "")) if f)
    return _context(extra)


@functools.cache
def _context(extra: tuple[str, ...]) -> ssl.SSLContext:
    """Built once per set of CA files in a process (loading certifi costs ~80 ms)."""
    import certifi

    ctx = ssl.create_default_context()
    ctx.load_verify_locations(certifi.where())
    for path in extra:
        try:
            ctx.load_verify_locations(os.path.expanduser(path))
        except (OSError, ssl.SSLError) as exc:
            why = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
            raise TransportSettingError(
                f"cannot use the CA file {path} ({why}); give a PEM file of the certificate "
                f"authority that signed the server's certificate (--ca-file or {CA_FILE_ENV})"
            ) from None
    return ctx
