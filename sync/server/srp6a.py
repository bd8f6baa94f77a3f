"""SRP-6a glue shared by the server and the client: SHA-256, RFC 5054 4096-bit group and padding.

identity = normalised email, password = x_auth (32 bytes from the two-secret derivation), so the
verifier is useless without both the Account Password and the Account Key. The server keeps its
ephemeral secret `b` in the database between the two steps (stateless app nodes); it is 32 bytes
as the `srp` package's OpenSSL backend requires. Imports only `srp`, so clients stay light.

A fresh proof (credential changes, device removal) is one more SRP exchange made by a signed-in
device with its current `x_auth`; its session key K also MACs the request it authorises
(`bind`), so a proof cannot be lifted onto another request on the way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

import srp
import srp._pysrp  # the group's constants (the OpenSSL backend keeps them as C numbers)

srp.rfc5054_enable(True)

HASH = srp.SHA256
GROUP = srp.NG_4096
SALT_LEN = 16
B_SECRET_LEN = 32 if getattr(srp, "_mod", None) is getattr(srp, "_ctsrp", object()) else 256
#: Size of A, B and the verifier in the 4096-bit group.
GROUP_BYTES = 512
#: The group's prime N.
N = int(srp._pysrp.get_ng(GROUP, None, None)[0])


def new_verifier(email: str, x_auth: bytes) -> tuple[bytes, bytes]:
    """(salt, verifier) for sign-up and password changes; made on the device."""
    salt, verifier = srp.create_salted_verification_key(
        email, x_auth, hash_alg=HASH, ng_type=GROUP, salt_len=SALT_LEN
    )
    # The library returns the salt as a big number's bytes, so 1 in 256 salts loses a leading zero
    # byte; pad it back (the library reads salts as numbers, so both sides compute the same x).
    return bytes(salt).rjust(SALT_LEN, b"\0"), bytes(verifier)


def new_server_secret() -> bytes:
    return secrets.token_bytes(B_SECRET_LEN)


def _verifier(email: str, salt: bytes, verifier: bytes, a_pub: bytes, b_secret: bytes) -> Any:
    return srp.Verifier(
        email, salt, verifier, a_pub, hash_alg=HASH, ng_type=GROUP, bytes_b=b_secret
    )


def server_challenge(
    email: str, salt: bytes, verifier: bytes, a_pub: bytes, b_secret: bytes
) -> bytes | None:
    """B for the client's A, or None when A fails the SRP-6a safety check (A mod N = 0)."""
    _, b_pub = _verifier(email, salt, verifier, a_pub, b_secret).get_challenge()
    return bytes(b_pub) if b_pub is not None else None


def server_verify(
    email: str, salt: bytes, verifier: bytes, a_pub: bytes, b_secret: bytes, proof: bytes
) -> bytes | None:
    """H_AMK (the server's proof) when the client's proof M is right, else None."""
    keyed = server_verify_keyed(email, salt, verifier, a_pub, b_secret, proof)
    return keyed[0] if keyed is not None else None


def server_verify_keyed(
    email: str, salt: bytes, verifier: bytes, a_pub: bytes, b_secret: bytes, proof: bytes
) -> tuple[bytes, bytes] | None:
    """(H_AMK, session key K) when the client's proof M is right, else None."""
    ver = _verifier(email, salt, verifier, a_pub, b_secret)
    h_amk = ver.verify_session(proof)
    if h_amk is None or not ver.authenticated():
        return None
    return bytes(h_amk), bytes(ver.get_session_key())


#: Domain label of the request MAC a fresh proof carries (docs/formats.md "Fresh proof").
PROOF_LABEL = b"strongroom-proof-v1\n"


def canonical(body: dict[str, Any]) -> bytes:
    """The request body as the MAC covers it: JSON, keys sorted, no spaces, ASCII only.

    ValueError (also for nesting too deep to write) when it has no such form."""
    try:
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    except (TypeError, RecursionError) as exc:
        raise ValueError(str(exc)) from None


def bind(session_key: bytes, method: str, path: str, body: dict[str, Any]) -> bytes:
    """HMAC-SHA256 under K of `METHOD path` and the canonical body (without its `proof`)."""
    msg = PROOF_LABEL + f"{method.upper()} {path}\n".encode() + canonical(body)
    return hmac.new(session_key, msg, hashlib.sha256).digest()


class ClientLogin:
    """The device's side of one sign-in; `repr` never shows x_auth."""

    def __init__(self, email: str, x_auth: bytes) -> None:
        self._user = srp.User(email, x_auth, hash_alg=HASH, ng_type=GROUP)
        _, a_pub = self._user.start_authentication()
        self.a_pub: bytes = bytes(a_pub)

    def __repr__(self) -> str:
        return "ClientLogin(<secret hidden>)"

    def proof(self, salt: bytes, b_pub: bytes) -> bytes | None:
        """M for the server's challenge, or None if B fails the SRP-6a safety check.

        B ≡ 0 (mod N) would let a fake server fix the session key without the verifier (and a
        multiple of N above N makes the library fail); the library itself refuses only B = 0."""
        if int.from_bytes(b_pub, "big") % N == 0:
            return None
        m = self._user.process_challenge(salt, b_pub)
        return bytes(m) if m is not None else None

    def session_key(self) -> bytes:
        """K, after `proof`: the key a fresh proof MACs its request with (`bind`). The library
        hands it out only after the server's proof, which for a request proof comes back with the
        answer, so it is read where both of the library's back-ends keep it."""
        return bytes(self._user.K)

    def server_is_genuine(self, h_amk: bytes) -> bool:
        """Mutual authentication: the server proved it holds our verifier."""
        self._user.verify_session(h_amk)
        return bool(self._user.authenticated())
