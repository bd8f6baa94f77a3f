"""Sign-in rate limits that stop a guesser without locking the owner out.

Strangers hammer `signin/start` with Alice's email from other loopback addresses (127.0.0.x:
Linux routes all of 127/8 to the loopback device); her devices keep signing in. Default limits.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx
import pytest

from sync.cloud import CloudClient, CloudRateLimitedError, load_session
from sync.server.runner import ServerThread
from sync.server.service import Limits

from .conftest import make_config
from .helpers import sign_up

EMAIL = "alice@example.com"
A = base64.b64encode(b"\x05" * 256).decode()


def _clear_of_window_edge() -> None:
    """Limits count in fixed windows (a minute, 15 minutes, … all starting on whole minutes):
    start the counting at least 8 s before the next edge, so one test sees one window."""
    left = 60 - time.time() % 60
    if left < 8:
        time.sleep(left + 0.1)


def _stranger(url: str, address: str, xff: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": xff} if xff else {}
    with httpx.Client(transport=httpx.HTTPTransport(local_address=address)) as http:
        return http.post(f"{url}/v1/signin/start", json={"email": EMAIL, "A": A}, headers=headers)


def test_a_stranger_backs_off_while_the_owner_signs_in(
    db_target: tuple[str, str | None], tmp_path: Path
) -> None:
    with ServerThread(make_config(db_target, tmp_path, limits=Limits())) as server:
        vault, _ = sign_up(server.url, tmp_path / "a")
        _clear_of_window_edge()
        answers = [_stranger(server.url, "127.0.0.2") for _ in range(12)]
        codes = [r.status_code for r in answers]
        assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}, codes
        # the back-off grows while the stranger keeps trying: a minute, then 15 minutes
        waits = [int(r.headers["retry-after"]) for r in answers[5:]]
        assert waits[0] == 60 and waits[-1] == 900, waits
        # Alice's device, elsewhere, is not touched by it (before: 429 for 15 minutes)
        signed = CloudClient(server.url).signin(EMAIL, vault.keys.x_auth, vault.device, "laptop")
        assert signed.session.account_id == vault.slot.account_id


def test_a_device_with_a_session_signs_in_through_a_crowd(
    db_target: tuple[str, str | None], tmp_path: Path
) -> None:
    with ServerThread(make_config(db_target, tmp_path, limits=Limits())) as server:
        vault, _ = sign_up(server.url, tmp_path / "a")
        _clear_of_window_edge()
        # many addresses together exhaust the account's own limit (30 per 15 minutes)
        for n in range(2, 10):
            for _ in range(5):
                _stranger(server.url, f"127.0.0.{n}")
        assert _stranger(server.url, "127.0.0.20").status_code == 429
        client = CloudClient(server.url)
        with pytest.raises(CloudRateLimitedError):  # a device without a session waits
            client.signin(EMAIL, vault.keys.x_auth, "newdev", "phone")
        held = load_session(vault).token  # a device that holds one does not
        signed = client.signin(EMAIL, vault.keys.x_auth, vault.device, "laptop", held_token=held)
        assert signed.session.account_id == vault.slot.account_id


@pytest.mark.parametrize("hops", [0, 1, 2])
def test_x_forwarded_for_counts_only_from_trusted_hops(
    db_target: tuple[str, str | None], tmp_path: Path, hops: int
) -> None:
    """A stranger writes any X-Forwarded-For entries it likes on the left; only the `hops`
    rightmost, written by the proxies in front, name the address the limits count."""
    config = make_config(db_target, tmp_path, limits=Limits(), trust_proxy=hops)
    with ServerThread(config) as server:
        sign_up(server.url, tmp_path / "a")
        _clear_of_window_edge()
        codes = [
            _stranger(server.url, "127.0.0.2", f"10.9.{i}.1, 198.51.100.7, 192.0.2.1").status_code
            for i in range(7)
        ]
        assert codes == [200] * 5 + [429] * 2, codes  # forging the left part changes nothing
        # a different address in the trusted position is someone else (with hops > 0)
        other = _stranger(server.url, "127.0.0.2", "10.9.0.1, 203.0.113.5, 192.0.2.1")
        assert other.status_code == (200 if hops == 2 else 429)
        other = _stranger(server.url, "127.0.0.2", "10.9.0.1, 198.51.100.7, 192.0.2.9")
        assert other.status_code == (200 if hops == 1 else 429)
