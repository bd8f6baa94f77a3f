"""Fuzzing the HTTP API (hypothesis) against a real server: no 500s, only typed 4xx JSON errors."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.cloud import DEVICE_HEADER
from sync.server.runner import ServerThread
from sync.server.service import Limit, Limits

from .conftest import make_config
from .helpers import sign_up

FIELDS = [
    "names",
    "email",
    "A",
    "M",
    "challenge",
    "device_id",
    "device_name",
    "account_id",
    "hint",
    "credentials",
    "generation",
    "epoch",
    "new_epoch",
    "since",
    "limit",
    "envelopes",
    "code",
    "kdf",
    "srp_salt",
    "verifier",
    "kdf_salt",
    "wrapped_vk",
    "m",
    "t",
    "p",
    "proof",
    "mac",
]
ENDPOINTS = [
    "/v1/signup",
    "/v1/prelogin",
    "/v1/signin/start",
    "/v1/signin/finish",
    "/v1/signout",
    "/v1/proof/start",
    "/v1/password",
    "/v1/sync/push",
    "/v1/sync/pull",
    "/v1/hint",
    "/v1/reset/request",
    "/v1/reset/setup-info",
    "/v1/reset/complete",
    "/v1/blobs/forget",
]

b64s = st.binary(max_size=80).map(lambda b: base64.b64encode(b).decode())
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=40),
    b64s,
    st.just("alice@example.com"),
    st.floats(allow_nan=False, allow_infinity=False),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=6)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=8),
    values,
    st.binary(max_size=60).map(lambda b: b),
)


class _Failures(logging.Handler):
    """Collects what the server logs at ERROR or with a traceback (a crash it survived)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


_failures = _Failures()


@pytest.fixture(scope="module")
def fuzz_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    limits = Limits(
        *(Limit(10**6, 60),) * 5,
        signin_pair=(Limit(10**6, 60),),
        proof_account=(Limit(10**6, 60),),
    )
    with ServerThread(make_config((str(tmp / "s.db"), None), tmp, limits=limits)) as srv:
        for name in ("uvicorn.error", "uvicorn", "starlette"):
            logging.getLogger(name).addHandler(_failures)
        try:
            _, session = sign_up(srv.url, tmp / "a")
            with httpx.Client(base_url=srv.url) as http:
                yield (
                    http,
                    {"Authorization": f"Bearer {session.token}", DEVICE_HEADER: session.device_id},
                )
        finally:
            for name in ("uvicorn.error", "uvicorn", "starlette"):
                logging.getLogger(name).removeHandler(_failures)


def _check(r: httpx.Response) -> None:
    assert not _failures.records, logging.Formatter().format(_failures.records[0])
    assert r.status_code < 500, r.text
    if r.status_code >= 400 and r.headers.get("content-type", "").startswith("application/json"):
        assert isinstance(r.json().get("error"), str) and r.json().get("message")


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(ENDPOINTS), body=bodies, auth=st.booleans())
def test_fuzz_json_endpoints(
    fuzz_server: tuple[httpx.Client, dict[str, str]], path: str, body: Any, auth: bool
) -> None:
    http, session = fuzz_server
    headers = session if auth else {}
    if isinstance(body, bytes):
        r = http.post(path, content=body, headers=headers)
    else:
        r = http.post(path, json=body, headers=headers)
    _check(r)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    segment=st.text(min_size=1, max_size=30).filter(
        lambda s: "/" not in s and "?" not in s and "#" not in s
    ),
    method=st.sampled_from(["GET", "POST", "DELETE"]),
)
def test_fuzz_paths(
    fuzz_server: tuple[httpx.Client, dict[str, str]], segment: str, method: str
) -> None:
    http, session = fuzz_server
    seg = quote(segment, safe="")
    for path in (f"/reset/{seg}", f"/v1/devices/{seg}"):
        _check(http.request(method, path, headers=session, content=b"confirm=wipe"))


proofs = st.fixed_dictionaries(
    {},
    optional={"challenge": values, "M": values, "mac": values},
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    segment=st.text(min_size=1, max_size=30).filter(
        lambda s: "/" not in s and "?" not in s and "#" not in s
    ),
    body=st.one_of(bodies, st.fixed_dictionaries({"proof": st.one_of(proofs, values)})),
    auth=st.booleans(),
)
def test_fuzz_remove_device(
    fuzz_server: tuple[httpx.Client, dict[str, str]], segment: str, body: Any, auth: bool
) -> None:
    """DELETE /v1/devices/{id} with random JSON, proofs of every shape and raw bytes."""
    http, session = fuzz_server
    path = f"/v1/devices/{quote(segment, safe='')}"
    headers = session if auth else {}
    if isinstance(body, bytes):
        r = http.request("DELETE", path, content=body, headers=headers)
    else:
        r = http.request("DELETE", path, json=body, headers=headers)
    _check(r)
    assert r.status_code != 200, r.text  # never removed without a proof


# -- structure-level attacks ---------------------------------------------------------------
def _nested(depth: int, inner: str) -> str:
    return (
        "".join(("[" if i % 2 else '{"email":') for i in range(depth))
        + inner
        + "".join(("]" if i % 2 else "}") for i in reversed(range(depth)))
    )


surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
raw_bodies = st.one_of(
    st.integers(1, 30_000).map(lambda n: "[" * n + "]" * n),  # deep nesting
    st.integers(2, 20_000).map(lambda n: _nested(n, '"a@b.c"')),
    st.integers(4300, 60_000).map(lambda n: '{"generation": ' + "9" * n + "}"),  # huge numbers
    st.sampled_from(["1e999", "-1e999", "NaN", "Infinity", '{"limit": 1e400}', '{"since": -0.0}']),
    st.tuples(st.sampled_from(FIELDS), surrogates, st.text(max_size=5)).map(
        lambda t: f'{{"{t[0]}": "{t[2].replace(chr(34), "")}\\u{ord(t[1]):04x}@example.com"}}'
    ),
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(ENDPOINTS), body=raw_bodies, auth=st.booleans())
def test_fuzz_structure(
    fuzz_server: tuple[httpx.Client, dict[str, str]], path: str, body: str, auth: bool
) -> None:
    """Nesting deep enough to exhaust a recursive parser, numbers past Python's digit limit,
    non-finite floats and lone surrogates (escaped, so valid JSON text) at every endpoint."""
    http, session = fuzz_server
    headers = session | {"content-type": "application/json"}
    r = http.post(
        path, content=body.encode(), headers=headers if auth else headers | {"Authorization": ""}
    )
    _check(r)
    assert 400 <= r.status_code < 500 or path == "/v1/signout", r.text  # signout reads no body


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    fields=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), min_size=0, max_size=40),
    raw=st.binary(max_size=60),
)
def test_fuzz_reset_form(
    fuzz_server: tuple[httpx.Client, dict[str, str]], fields: list[tuple[str, str]], raw: bytes
) -> None:
    """The reset page's form with many fields (past the 10 it reads), odd text and raw bytes."""
    http, _ = fuzz_server
    form = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in fields) + "&confirm=wipe"
    for path in ("/reset", "/reset/some-token"):
        for content in (form.encode(), raw, form.encode() + b"&x=%ED%A0%80"):
            r = http.post(
                path,
                content=content,
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            _check(r)
            assert 400 <= r.status_code < 500


def test_openapi_served(fuzz_server: tuple[httpx.Client, dict[str, str]], tmp_path: Path) -> None:
    http, _ = fuzz_server
    spec = http.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    # every JSON endpoint the fuzzer drives is described, and docs/openapi.json is current
    assert set(ENDPOINTS) <= set(spec["paths"])
    from sync.server.openapi import dumps

    doc = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
    assert doc.read_text() == dumps(), "run `python -m sync.server.openapi docs/openapi.json`"
