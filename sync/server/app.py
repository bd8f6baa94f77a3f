"""The HTTP face of the account server: a Starlette ASGI app over AccountService.

JSON in and out, bytes as base64; every failure is `{"error": code, "message": text}` with a
4xx status (see errors.py), never a stack trace. Database work runs in the thread pool so the
event loop keeps answering. Bodies are size-limited before they are read in full.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vault.kdf import KdfParams

from . import pages
from .blobstore import BlobMismatchError
from .errors import ApiError, BadRequestError, TooLargeError, UnauthorizedError
from .metrics import OTHER, Metrics
from .service import AccountService, Credentials, Proof, ServerConfig
from .storage import Session

API = "/v1"
#: The header a signed-in device sends with every request: the device id its session is bound to.
DEVICE_HEADER = "X-Strongroom-Device"


# -- request parsing ------------------------------------------------------------------------
async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        obj = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):  # also numbers past Python's digit limit
        raise BadRequestError("the request body is not JSON") from None
    except RecursionError:  # nesting deeper than the parser's stack
        raise BadRequestError("the request body is nested too deeply") from None
    if not isinstance(obj, dict):
        raise BadRequestError("the request body must be a JSON object")
    return obj


def _str(d: dict[str, Any], key: str, max_len: int = 1000, default: str | None = None) -> str:
    v = d.get(key, default)
    if not isinstance(v, str):
        raise BadRequestError(f"'{key}' must be a string")
    if len(v) > max_len:
        raise BadRequestError(f"'{key}' is too long")
    try:
        v.encode()
    except UnicodeEncodeError:  # a lone surrogate from a \\uD800 escape: no text of a person
        raise BadRequestError(f"'{key}' is not valid Unicode text") from None
    return v


def _int(d: dict[str, Any], key: str, default: int | None = None) -> int:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**62:
        raise BadRequestError(f"'{key}' must be a non-negative integer")
    return v


def _b64(d: dict[str, Any], key: str, max_len: int = 4096) -> bytes:
    v = _str(d, key, max_len * 2)
    try:
        out = base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequestError(f"'{key}' must be base64") from None
    if len(out) > max_len:
        raise BadRequestError(f"'{key}' is too long")
    return out


#: A device removal's key change: ~320 bytes per remaining device, plus its header.
KEY_CHANGE_MAX = 256 * 1024


def _creds(d: dict[str, Any]) -> Credentials:
    c = d.get("credentials")
    if not isinstance(c, dict):
        raise BadRequestError("'credentials' must be an object")
    k = c.get("kdf")
    if not isinstance(k, dict):
        raise BadRequestError("'credentials.kdf' must be an object")
    return Credentials(
        _b64(c, "srp_salt", 64),
        _b64(c, "verifier", 1024),
        KdfParams(_int(k, "m"), _int(k, "t"), _int(k, "p")),
        _b64(c, "kdf_salt", 64),
        _b64(c, "wrapped_vk", 1024),
    )


def _proof(d: dict[str, Any], method: str, path: str) -> Proof | None:
    """The request's fresh proof (None when it sent none); the MAC covers the rest of the body."""
    p = d.get("proof")
    if p is None:
        return None
    if not isinstance(p, dict):
        raise BadRequestError("'proof' must be an object")
    body = {k: v for k, v in d.items() if k != "proof"}
    return Proof(
        _str(p, "challenge", 100), _b64(p, "M", 64), _b64(p, "mac", 64), method, path, body
    )


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, bytes):
        return b64(obj)
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    return obj


def _json(obj: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(_jsonable(obj), status_code=status)


def _html(page: str, status: int = 200) -> HTMLResponse:
    """A reset page, always with its security headers (pages.SECURITY_HEADERS)."""
    return HTMLResponse(page, status_code=status, headers=pages.SECURITY_HEADERS)


# -- the app --------------------------------------------------------------------------------
class ServerApp:
    """Routes bound to one AccountService; `asgi` is what uvicorn serves.

    `metrics_dir`: where the processes of one `--workers N` server keep their counters."""

    def __init__(
        self,
        config: ServerConfig,
        service: AccountService | None = None,
        metrics_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.service = service or AccountService(config)
        routes = [
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/metrics", self.metrics_text, methods=["GET"]),
            Route(f"{API}/health", self.health, methods=["GET"]),
            Route(f"{API}/signup", self.signup, methods=["POST"]),
            Route(f"{API}/prelogin", self.prelogin, methods=["POST"]),
            Route(f"{API}/signin/start", self.signin_start, methods=["POST"]),
            Route(f"{API}/signin/finish", self.signin_finish, methods=["POST"]),
            Route(f"{API}/signout", self.signout, methods=["POST"]),
            Route(f"{API}/account", self.account, methods=["GET"]),
            Route(f"{API}/account/keys", self.keys, methods=["GET"]),
            Route(f"{API}/proof/start", self.proof_start, methods=["POST"]),
            Route(f"{API}/password", self.password, methods=["POST"]),
            Route(f"{API}/devices", self.devices, methods=["GET"]),
            Route(f"{API}/keychange/{{kid}}", self.key_change, methods=["GET"]),
            Route(f"{API}/devices/{{device_id}}", self.remove_device, methods=["DELETE"]),
            Route(f"{API}/sync/push", self.push, methods=["POST"]),
            Route(f"{API}/sync/pull", self.pull, methods=["POST"]),
            Route(f"{API}/blobs", self.blob_list, methods=["GET"]),
            Route(f"{API}/blobs/forget", self.blob_forget, methods=["POST"]),
            Route(f"{API}/blobs/{{name}}", self.blob_status, methods=["GET"]),
            Route(f"{API}/blobs/{{name}}/commit", self.blob_commit, methods=["POST"]),
            Route(f"{API}/blobs/{{name}}/parts/{{idx:int}}", self.blob_put, methods=["PUT"]),
            Route(f"{API}/blobs/{{name}}/parts/{{idx:int}}", self.blob_get, methods=["GET"]),
            Route(f"{API}/hint", self.hint, methods=["POST"]),
            Route(f"{API}/reset/request", self.reset_request, methods=["POST"]),
            Route(f"{API}/reset/setup-info", self.setup_info, methods=["POST"]),
            Route(f"{API}/reset/complete", self.reset_complete, methods=["POST"]),
            Route("/reset/{token}", self.reset_page, methods=["GET"]),
            Route("/reset/{token}", self.reset_confirm, methods=["POST"]),
            Route("/reset", self.reset_confirm, methods=["POST"]),
            Route("/openapi.json", self.openapi, methods=["GET"]),
        ]
        self.starlette = Starlette(
            routes=routes,
            exception_handlers={ApiError: self._api_error, Exception: self._crash},
            lifespan=self._lifespan,
        )
        self.metrics = Metrics([r.path for r in routes], metrics_dir)
        self.asgi: ASGIApp = Measure(
            BodyLimit(
                self.starlette,
                config.max_body,
                config.max_small_body,
                large_paths=(f"{API}/sync/push",),
                large_prefix=f"{API}/blobs/",
            ),
            routes,
            self.metrics,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Size the worker-thread pool (each thread holds one database connection)."""
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = self.config.threads
        yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)

    async def _api_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        if request.url.path.startswith("/reset/"):
            return _html(pages.error_page(exc.message), exc.status)
        headers = (
            {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
        )
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    async def _crash(self, request: Request, exc: Exception) -> Response:
        return JSONResponse(
            {"error": "internal", "message": "the server failed; try again later"}, status_code=500
        )

    def _address(self, request: Request) -> str:
        """The client's address for rate limits: the peer's, or with `trust_proxy` N the entry
        of X-Forwarded-For the N-th proxy from us wrote (rightmost first). Entries further left
        come from the client itself and are never believed."""
        peer = request.client.host if request.client else "unknown"
        hops = self.config.trust_proxy
        if hops <= 0:
            return peer
        fwd = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
        fwd = [h for h in fwd if h]
        if not fwd:
            return peer
        return fwd[-hops] if len(fwd) >= hops else fwd[0]

    async def _session(self, request: Request) -> tuple[Session, str]:
        """The caller's session (bound to the device header), its expiry slid ahead."""
        token, device = _token(request), _device(request)

        def check() -> Session:
            s = self.service.session(token, device)
            self.service.keep_alive(token, s)
            return s

        return await run_in_threadpool(check), token

    async def _authed(
        self, request: Request, op: Callable[..., Any], *args: Any, write: bool = False
    ) -> Any:
        """Check the session and run `op(session, *args)` in one transaction, one trip to the
        thread pool; the session's expiry slides after it (a write only every few minutes)."""
        token, device = _token(request), _device(request)

        def both() -> Any:
            with self.service.db.tx(write=write):
                s = self.service.session(token, device)
                out = op(s, *args)
            self.service.keep_alive(token, s)
            return out

        return await run_in_threadpool(both)

    # -- endpoints ----------------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        return _json(
            {"ok": True, "schema": await run_in_threadpool(self.service.db.schema_version)}
        )

    async def healthz(self, request: Request) -> Response:
        """For load balancers and orchestrators: 200 when the database answers and its schema
        is this build's, else 503; a fresh connection each time, so it proves reachability."""
        report = await run_in_threadpool(self.service.db.health)
        return JSONResponse(
            report, status_code=200 if report["status"] == "ok" else 503, headers=_NO_STORE
        )

    async def metrics_text(self, request: Request) -> Response:
        return Response(
            self.metrics.render(),
            media_type="text/plain; version=0.0.4; charset=utf-8",
            headers=_NO_STORE,
        )

    async def openapi(self, request: Request) -> Response:
        from .openapi import spec

        return _json(spec())

    async def signup(self, request: Request) -> Response:
        d = await _body(request)
        await run_in_threadpool(
            self.service.signup,
            _str(d, "email", 254),
            _str(d, "account_id", 10),
            _str(d, "hint", 200, ""),
            _creds(d),
            self._address(request),
        )
        return _json({"ok": True}, 201)

    async def prelogin(self, request: Request) -> Response:
        d = await _body(request)
        return _json(await run_in_threadpool(self.service.prelogin, _str(d, "email", 254)))

    async def signin_start(self, request: Request) -> Response:
        d = await _body(request)
        return _json(
            await run_in_threadpool(
                self.service.signin_start,
                _str(d, "email", 254),
                _b64(d, "A", 512),
                self._address(request),
                _held_token(request),
            )
        )

    async def signin_finish(self, request: Request) -> Response:
        d = await _body(request)
        r = await run_in_threadpool(
            self.service.signin_finish,
            _str(d, "email", 254),
            _str(d, "challenge", 100),
            _b64(d, "M", 64),
            _str(d, "device_id", 64),
            _str(d, "device_name", 100),
        )
        return _json(
            {
                "token": r.token,
                "M2": r.server_proof,
                "account_id": r.account_id,
                "email": r.email,
                "generation": r.generation,
                "epoch": r.epoch,
                "wrapped_vk": r.wrapped_vk,
                "kdf": {"m": r.kdf.m_kib, "t": r.kdf.t, "p": r.kdf.p},
                "kdf_salt": r.kdf_salt,
                "revision": r.revision,
                "plan": r.plan,
            }
        )

    async def signout(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        await run_in_threadpool(self.service.signout, auth[7:].strip())
        return _json({"ok": True})

    async def account(self, request: Request) -> Response:
        s, _ = await self._session(request)
        return _json(await run_in_threadpool(self.service.status, s))

    async def keys(self, request: Request) -> Response:
        s, _ = await self._session(request)
        return _json(await run_in_threadpool(self.service.keys, s))

    async def proof_start(self, request: Request) -> Response:
        s, _ = await self._session(request)
        d = await _body(request)
        return _json(await run_in_threadpool(self.service.proof_start, s, _b64(d, "A", 512)))

    async def password(self, request: Request) -> Response:
        s, token = await self._session(request)
        d = await _body(request)
        epoch, h_amk = await run_in_threadpool(
            self.service.change_password,
            s,
            token,
            _int(d, "epoch"),
            _int(d, "new_epoch"),
            _creds(d),
            _proof(d, "POST", f"{API}/password"),
            _b64(d, "key_change", KEY_CHANGE_MAX) if d.get("key_change") is not None else None,
            _int(d, "revision") if d.get("revision") is not None else None,
        )
        return _json({"epoch": epoch, "M2": h_amk})

    async def key_change(self, request: Request) -> Response:
        """A device removal's key change, for a device still holding the keys it replaced: its
        session may predate the change (any epoch), never a revoked one."""
        token, device = _token(request), _device(request)
        kid = str(request.path_params["kid"])[:64]

        def fetch() -> bytes:
            s = self.service.session(token, device, any_epoch=True)
            return self.service.key_change(s, kid)

        data = await run_in_threadpool(fetch)
        return _json({"key_change": b64(data)})

    async def devices(self, request: Request) -> Response:
        s, _ = await self._session(request)
        devs = await run_in_threadpool(self.service.devices, s)
        return _json(
            {
                "devices": [
                    {
                        "device_id": d.device_id,
                        "name": d.name,
                        "created": d.created,
                        "last_seen": d.last_seen,
                        "this": d.device_id == s.device_id,
                    }
                    for d in devs
                ]
            }
        )

    async def remove_device(self, request: Request) -> Response:
        s, _ = await self._session(request)
        d = await _body(request)
        device_id = str(request.path_params["device_id"])[:200]
        h_amk = await run_in_threadpool(
            self.service.remove_device,
            s,
            device_id,
            _proof(d, "DELETE", f"{API}/devices/{device_id}"),
        )
        return _json({"ok": True} | ({"M2": h_amk} if h_amk is not None else {}))

    async def push(self, request: Request) -> Response:
        _token(request)
        d = await _body(request)
        envs = d.get("envelopes")
        if not isinstance(envs, list) or not all(isinstance(e, str) for e in envs):
            raise BadRequestError("'envelopes' must be a list of base64 strings")
        blobs = [_b64({"e": e}, "e", 16 * 1024 * 1024) for e in envs]
        result = await self._authed(
            request,
            self.service.push,
            _int(d, "generation"),
            _int(d, "epoch"),
            blobs,
            write=True,
        )
        self.metrics.add("strongroom_sync_pushes_total")
        self.metrics.add("strongroom_sync_envelopes_pushed_total", int(result["stored"]))
        return _json(result)

    async def pull(self, request: Request) -> Response:
        _token(request)
        d = await _body(request)
        r = await self._authed(
            request,
            self.service.pull,
            _int(d, "generation"),
            _int(d, "since"),
            _int(d, "limit", 2000),
        )
        self.metrics.add("strongroom_sync_pulls_total")
        self.metrics.add("strongroom_sync_envelopes_pulled_total", len(r.envelopes))
        return _json(
            {"envelopes": r.envelopes, "next": r.next_rev, "revision": r.revision, "more": r.more}
        )

    # -- attachment blobs (sync/server/blobstore.py) --------------------------------------------
    async def blob_list(self, request: Request) -> Response:
        _token(request)
        return _json(await self._authed(request, self.service.blobs.listing))

    async def blob_status(self, request: Request) -> Response:
        _token(request)
        name = request.path_params["name"]
        return _json(await self._authed(request, self.service.blobs.status, name))

    async def blob_put(self, request: Request) -> Response:
        _token(request)
        name, idx = request.path_params["name"], int(request.path_params["idx"])
        data = await request.body()
        out = await self._authed(
            request, self.service.blobs.put_part, name, idx, data, int(time.time()), write=True
        )
        return _json(out)

    async def blob_commit(self, request: Request) -> Response:
        _token(request)
        d = await _body(request)
        name = request.path_params["name"]
        out = await self._authed(
            request,
            self.service.blobs.commit,
            name,
            _int(d, "size"),
            _int(d, "parts"),
            int(time.time()),
            write=True,
        )
        if not out["ok"]:  # the dropped upload is committed; now say why
            raise BlobMismatchError("the uploaded bytes do not carry the blob's name")
        return _json(out)

    async def blob_forget(self, request: Request) -> Response:
        _token(request)
        d = await _body(request)
        names = d.get("names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise BadRequestError("names: a list of blob names")
        out = await self._authed(
            request, self.service.blobs.forget, names, int(time.time()), write=True
        )
        return _json(out)

    async def blob_get(self, request: Request) -> Response:
        _token(request)
        name, idx = request.path_params["name"], int(request.path_params["idx"])
        data = await self._authed(request, self.service.blobs.part, name, idx)
        return Response(data, media_type="application/octet-stream")

    async def hint(self, request: Request) -> Response:
        d = await _body(request)
        await run_in_threadpool(
            self.service.request_hint, _str(d, "email", 254), self._address(request)
        )
        return _json(
            {"ok": True, "message": "if an account uses this email, its hint is on the way"}, 202
        )

    async def reset_request(self, request: Request) -> Response:
        d = await _body(request)
        await run_in_threadpool(
            self.service.request_reset, _str(d, "email", 254), self._address(request)
        )
        return _json(
            {"ok": True, "message": "if an account uses this email, a reset link is on the way"},
            202,
        )

    async def setup_info(self, request: Request) -> Response:
        d = await _body(request)
        return _json(
            await run_in_threadpool(
                self.service.setup_info,
                _str(d, "email", 254),
                _str(d, "code", 64),
                self._address(request),
            )
        )

    async def reset_complete(self, request: Request) -> Response:
        d = await _body(request)
        await run_in_threadpool(
            self.service.complete_reset,
            _str(d, "email", 254),
            _str(d, "code", 64),
            _int(d, "generation"),
            _creds(d),
            self._address(request),
        )
        return _json({"ok": True})

    async def reset_page(self, request: Request) -> Response:
        """Opening the emailed link trades it for the confirm form's token (the link works once)."""
        token = str(request.path_params["token"])[:200]
        acct, form = await run_in_threadpool(self.service.open_reset_link, token)
        return _html(pages.confirm_page(acct.email, form))

    async def reset_confirm(self, request: Request) -> Response:
        """The form's post (token in the body), or a post straight to an unopened link."""
        form = await _form(request)
        token = form.get("token", [""])[0] or str(request.path_params.get("token", ""))
        token = token[:200]
        if form.get("confirm") != ["wipe"]:
            acct = await run_in_threadpool(self.service.reset_link, token)
            return _html(pages.confirm_page(acct.email, token, missing_confirm=True), 400)
        acct, code = await run_in_threadpool(self.service.confirm_reset, token)
        return _html(pages.done_page(acct.email, code))


async def _form(request: Request) -> dict[str, list[str]]:
    """A urlencoded form of at most 10 fields, else BadRequestError."""
    try:
        raw = (await request.body()).decode("utf-8")
        return parse_qs(raw, max_num_fields=10, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequestError("the form is not a form this page sends") from None


def _held_token(request: Request) -> str | None:
    """The bearer token a signing-in device may send to show it holds a session (optional)."""
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def _device(request: Request) -> str | None:
    """The device id the caller says it is (its session must have been issued to it)."""
    value = request.headers.get(DEVICE_HEADER)
    return value[:200] if value is not None else None


def _token(request: Request) -> str:
    token = _held_token(request)
    if token is None:
        raise UnauthorizedError("sign in first")
    return token


_NO_STORE = {"Cache-Control": "no-store"}


class Measure:
    """Count every answer by route template and status, with its latency, in `metrics`.

    The outermost layer, so refusals (413 before the body is read, 404s) are counted too."""

    def __init__(self, app: ASGIApp, routes: list[Route], metrics: Metrics) -> None:
        self.app, self.routes, self.metrics = app, routes, metrics
        self._static = {r.path: r.path for r in routes if "{" not in r.path}

    def route_of(self, scope: Scope) -> str:
        path = scope["path"]
        if path in self._static:
            return self._static[path]
        for route in self.routes:
            if route.matches(scope)[0] != Match.NONE:
                return route.path
        return OTHER

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def measured(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
            await send(msg)

        try:
            await self.app(scope, receive, measured)
        finally:
            self.metrics.observe(self.route_of(scope), status, time.perf_counter() - start)


class BodyLimit:
    """Refuse bodies over the limit (413) from Content-Length or while streaming, before parsing."""

    def __init__(
        self,
        app: ASGIApp,
        large: int,
        small: int,
        large_paths: tuple[str, ...],
        large_prefix: str = "",
    ) -> None:
        self.app, self.large, self.small, self.large_paths = app, large, small, large_paths
        self.large_prefix = large_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        large = path in self.large_paths or (
            bool(self.large_prefix) and path.startswith(self.large_prefix)
        )
        limit = self.large if large else self.small
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = True
                if too_big:
                    await _refuse(send, limit)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:  # the app's ApiError handler answers 413
                    raise TooLargeError(f"the request body is larger than {limit} bytes")
            return msg

        await self.app(scope, limited, send)


async def _refuse(send: Send, limit: int) -> None:
    err = TooLargeError(f"the request body is larger than {limit} bytes")
    body = json.dumps(err.body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": err.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


Handler = Callable[[Request], Awaitable[Response]]
