"""git's credential protocol (git-credential(1)) and which login records answer a request.

A request is `key=value` lines (protocol, host, path, username, …) ended by a blank line or
EOF. A login answers when its website's scheme, host and port equal the request's (a website
written without a scheme counts as https) and, when git sends a path (credential.useHttpPath)
and the website has one, the request's path starts with it. The most specific match wins
(without a path from git, a login for the whole site wins over one for a path).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from .errors import InvalidInputError

DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22, "git": 9418}
MAX_REQUEST = 64 * 1024


@dataclass(frozen=True)
class CredentialRequest:
    protocol: str
    host: str
    path: str = ""
    username: str = ""
    password: str = ""


def parse_request(text: str) -> CredentialRequest:
    """The attributes git sent; InvalidInputError when protocol or host is missing."""
    if len(text) > MAX_REQUEST:
        raise InvalidInputError("the credential request is too long")
    attrs: dict[str, str] = {}
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if not line:
            break
        key, sep, value = line.partition("=")
        if not sep:
            raise InvalidInputError(f"the credential request line {line[:40]!r} is not key=value")
        attrs[key] = value
    if "url" in attrs and "host" not in attrs:
        url = _split(attrs["url"])
        if url is None:
            raise InvalidInputError(
                f"the credential request's url {attrs['url'][:80]!r} is malformed"
            )
        attrs.setdefault("protocol", url.scheme)
        attrs["host"] = url.netloc.rpartition("@")[2]
        attrs.setdefault("path", url.path.lstrip("/"))
    if not attrs.get("protocol") or not attrs.get("host"):
        raise InvalidInputError("the credential request names no protocol and host")
    return CredentialRequest(
        attrs["protocol"].lower(),
        attrs["host"].lower(),
        attrs.get("path", "").strip("/"),
        attrs.get("username", ""),
        attrs.get("password", ""),
    )


def _split(url: str) -> SplitResult | None:
    """The URL's parts; None when it cannot be split (an unclosed '[' of an IPv6 host, …)."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def _host_port(netloc: str, scheme: str) -> tuple[str, int | None]:
    host, _, port = netloc.rpartition("@")[2].partition(":")
    try:
        number = int(port) if port else DEFAULT_PORTS.get(scheme)
    except ValueError:
        number = None
    return host.lower(), number


def specificity(website: str, req: CredentialRequest) -> int | None:
    """How closely `website` matches the request (longer path = higher); None: no match."""
    site = website.strip()
    if not site:
        return None
    url = _split(site if "://" in site else f"https://{site}")
    if url is None:  # a website that is not a URL (imported as typed) answers no request
        return None
    if url.scheme.lower() != req.protocol:
        return None
    if _host_port(url.netloc, req.protocol) != _host_port(req.host, req.protocol):
        return None
    path = url.path.strip("/")
    if not req.path:  # git sent no path: a login for the whole site before one for a part
        return 0 if path else 1
    if not path:
        return 1
    if not (req.path == path or req.path.startswith(path + "/")):
        return None
    return len(path) + 2


def best_match(candidates: Iterable[tuple[str, str, str]], req: CredentialRequest) -> str | None:
    """The id of the best (id, website, username) candidate for the request; None when none."""
    scored = []
    for rid, website, username in candidates:
        if req.username and username != req.username:
            continue
        score = specificity(website, req)
        if score is not None:
            scored.append((score, rid))
    if not scored:
        return None
    return max(scored)[1]


def answer(username: str, password: str) -> str:
    """The reply git reads; values with a newline or NUL cannot be said in the protocol.

    A login without a password (git's erase removed it) gives its username alone, so git asks
    for the password: an empty `password=` was used as the password, failed, and git never asked
    (every push 'Authentication failed' until the helper was turned off)."""
    for value in (username, password):
        if "\n" in value or "\0" in value:
            raise InvalidInputError("the login's username or password holds a line break")
    if not password:
        return f"username={username}\n" if username else ""
    return f"username={username}\npassword={password}\n"
