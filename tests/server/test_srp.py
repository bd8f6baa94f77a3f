"""SRP-6a glue: mutual proof, wrong secret fails, salts with a leading zero byte keep 16 bytes and work."""

from __future__ import annotations

from sync.server import srp6a


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
