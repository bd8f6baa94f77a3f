"""Fuzz-style properties of the parsers issue 23 added: whatever arrives, each either answers or
refuses with its own error, never anything else (exit 70 stays unreachable)."""

from __future__ import annotations

import base64
import functools
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.sshagent import FAILURE, IDENTITIES_ANSWER, ProtocolError, answer
from vault import sshkeys
from vault.errors import InvalidInputError, WrongPasswordError
from vault.gitcred import parse_request, specificity
from vault.refs import parse_ref
from vault.sshkeys import _bcrypt_rounds, load_private


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_ssh_agent_message_gets_an_answer_or_closes(
    tmp_path_factory: pytest.TempPathFactory, message: bytes
) -> None:
    home = str(tmp_path_factory.getbasetemp() / "no-agent-home")  # no unlock agent: no keys
    try:
        reply = answer(home, message)
    except ProtocolError:
        return
    assert reply[:1] in (bytes([FAILURE]), bytes([IDENTITIES_ANSWER]))
    if reply[:1] == bytes([IDENTITIES_ANSWER]):
        assert reply == bytes([IDENTITIES_ANSWER]) + b"\0\0\0\0"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.text(max_size=60))
def test_any_credential_request_parses_or_is_refused(text: str, website: str) -> None:
    try:
        req = parse_request(text)
    except InvalidInputError:
        return
    assert req.protocol and req.host
    score = specificity(website, req)
    assert score is None or score >= 0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_reference_parses_or_is_refused(text: str) -> None:
    try:
        ref = parse_ref("sr://" + text)
    except InvalidInputError:
        return
    assert ref.record.strip() and ref.field.strip()


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("htps:/[]@:.x1%\n=") | st.characters(), max_size=60),
    st.text(alphabet=st.sampled_from("htps:/[]@:.x1%") | st.characters(), max_size=60),
)
def test_any_credential_url_and_any_stored_website_parse_or_are_refused(
    url: str, website: str
) -> None:
    """git's url= attribute and a login's website go through urlsplit, which raises ValueError
    on an unclosed '[': a refusal for the request, no match for the website (both were exit 70)."""
    try:
        req = parse_request(f"url={url}\n")
    except InvalidInputError:
        req = parse_request("protocol=https\nhost=example.com\n")
    score = specificity(website, req)
    assert score is None or score >= 0


def _openssh_key_body() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32)).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(b"pp"),
    )
    return base64.b64decode(b"".join(pem.splitlines()[1:-1]))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_damaged_ssh_key_file_is_a_key_or_a_typed_refusal(data: st.DataObject) -> None:
    """An OpenSSH key with bytes changed (its KDF's rounds too: at most MAX_KDF_ROUNDS are run),
    cut, or any bytes at all: a key, or InvalidInputError / WrongPasswordError."""
    body = bytearray(_openssh_key_body())
    for _ in range(data.draw(st.integers(1, 4))):
        body[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
    body = body[: data.draw(st.integers(0, len(body)))]
    armored = b"-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n"
    text = data.draw(
        st.sampled_from([armored % base64.b64encode(bytes(body)), bytes(body)])
        | st.binary(max_size=400)
    )
    passphrase = data.draw(st.sampled_from([None, "pp", "wrong"]))
    if passphrase and (_bcrypt_rounds(text) or 0) > 64:
        passphrase = None  # a legal but slow KDF (up to 1000 rounds, ~14 s): not run here
    try:
        load_private(text, passphrase)
    except (InvalidInputError, WrongPasswordError):
        pass


@functools.cache
def _pkcs8_der() -> bytes:
    """An Ed25519 key as PKCS#8 DER under PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC; passphrase pp)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32)).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pp"),
    )
    return base64.b64decode(b"".join(pem.splitlines()[1:-1]))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_damaged_encrypted_pem_key_is_a_key_or_a_typed_refusal(data: st.DataObject) -> None:
    """An encrypted PKCS#8 PEM key with bytes of its DER changed or cut (its PBKDF2 iterations,
    lengths, algorithm identifiers): a key, or InvalidInputError / WrongPasswordError, never an
    error of the key library's own. The cap is lowered here so that a damaged count is derived
    in milliseconds, or refused."""
    der = bytearray(_pkcs8_der())
    for _ in range(data.draw(st.integers(1, 3))):
        der[data.draw(st.integers(0, len(der) - 1))] = data.draw(st.integers(0, 255))
    der = der[: data.draw(st.integers(len(der) // 2, len(der)))]
    body = base64.encodebytes(bytes(der))
    text = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n%s-----END ENCRYPTED PRIVATE KEY-----\n" % body
    with mock.patch.object(sshkeys, "MAX_PEM_ITERATIONS", 100_000):
        try:
            load_private(text, data.draw(st.sampled_from([None, "pp", "wrong"])))
        except (InvalidInputError, WrongPasswordError):
            pass


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=200)
    | st.integers(1, 200_000).map(lambda n: b"[" * n + b"]" * n)
    | st.integers(1, 100_000).map(lambda n: b'{"a":' * n + b"0" + b"}" * n)
)
def test_any_unlock_agent_frame_is_an_object_or_a_wire_error(body: bytes) -> None:
    """What the unlock agent reads from its socket: a JSON object or WireError (which it answers
    as a bad request); deep nesting raised RecursionError, which ended the agent."""
    import socket
    import threading

    from agent.wire import WireError, recv

    a, b = socket.socketpair()
    with a, b:
        b.settimeout(10)
        frame = len(body).to_bytes(4, "big") + body
        writer = threading.Thread(target=a.sendall, args=(frame,), daemon=True)
        writer.start()  # a frame larger than the socket buffer is written while it is read
        try:
            assert isinstance(recv(b), dict)
        except WireError:
            pass
        writer.join(timeout=10)
