"""SRP-6a glue: mutual proof, wrong secret fails, salts with a leading zero byte keep 16 bytes and work."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync.cloud import CloudClient, CloudError
from sync.server import srp6a
from sync.server.app import b64


def _login(email: str, x_auth: bytes, salt: bytes, verifier: bytes) -> bool:
    client = srp6a.ClientLogin(email, x_auth)
    b = srp6a.new_server_secret()
    b_pub = srp6a.server_challenge(email, salt, verifier, client.a_pub, b)
    assert b_pub is not None and len(client.a_pub) <= srp6a.GROUP_BYTES
    proof = client.proof(salt, b_pub)
    assert proof is not None
    h_amk = srp6a.server_verify(email, salt, verifier, client.a_pub, b, proof)
    return h_amk is not None and client.server_is_genuine(h_amk)


def test_right_and_wrong_secret() -> None:
    salt, verifier = srp6a.new_verifier("a@example.com", b"k" * 32)
    assert len(salt) == 16
    assert _login("a@example.com", b"k" * 32, salt, verifier)
    assert not _login("a@example.com", b"j" * 32, salt, verifier)
    assert not _login("b@example.com", b"k" * 32, salt, verifier)
    assert "k" * 8 not in repr(srp6a.ClientLogin("a@example.com", b"k" * 32))


def test_salt_with_leading_zero_byte() -> None:
    for _ in range(5000):
        salt, verifier = srp6a.new_verifier("a@example.com", b"k" * 32)
        assert len(salt) == srp6a.SALT_LEN
        if salt[0] == 0:
            assert _login("a@example.com", b"k" * 32, salt, verifier)
            return
    raise AssertionError("no salt with a leading zero in 5000 tries")


def test_zero_a_is_refused() -> None:
    salt, verifier = srp6a.new_verifier("a@example.com", b"k" * 32)
    assert (
        srp6a.server_challenge(
            "a@example.com", salt, verifier, b"\0" * 512, srp6a.new_server_secret()
        )
        is None
    )


def test_b_congruent_to_zero_is_refused() -> None:
    """B ≡ 0 (mod N) fixes the session key whatever the verifier: a fake server could then
    prove itself. 0, N and 2N are all refused without an exception."""
    for b in (0, srp6a.N, 2 * srp6a.N):
        client = srp6a.ClientLogin("a@example.com", b"k" * 32)
        assert client.proof(b"s" * 16, b.to_bytes(srp6a.GROUP_BYTES + 1, "big")) is None


def test_the_client_sends_no_proof_to_a_server_answering_b_equal_to_n() -> None:
    """A fake server on loopback answers sign-in with B = N (and 2N): the client stops with a
    clear error before it sends a proof the fake server could check against a known key."""
    seen: list[str] = []

    class Fake(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("content-length", 0)))
            seen.append(self.path)
            if self.path.endswith("/signin/start"):
                body = json.dumps(
                    {"challenge": "c", "srp_salt": b64(b"s" * 16), "B": b64(bad)}
                ).encode()
                self.send_response(200)
            else:
                body = json.dumps({"error": "signin_failed", "message": "no"}).encode()
                self.send_response(401)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Fake) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            for multiple in (1, 2):
                bad = (multiple * srp6a.N).to_bytes(srp6a.GROUP_BYTES + 1, "big").lstrip(b"\0")
                client = CloudClient(f"http://127.0.0.1:{httpd.server_address[1]}")
                with pytest.raises(CloudError, match="challenge is invalid"):
                    client.signin("a@example.com", b"k" * 32, "d1", "laptop")
        finally:
            httpd.shutdown()
    assert seen == ["/v1/signin/start"] * 2  # no /v1/signin/finish: no proof left the device
