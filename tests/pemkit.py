"""Encrypted PEM private keys for tests: real ones (cryptography's BestAvailableEncryption is
PBES2 with PBKDF2; the openssl CLI writes PBES1 / PKCS#12 PBE and scrypt), and hostile ones made
by re-encoding their ASN.1 DER with other key-derivation numbers (2**31 PBKDF2 iterations)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

_PBES2 = bytes.fromhex("2a864886f70d01050d")
_ENCRYPTED = b"ENCRYPTED PRIVATE KEY"

# A DER element as a tree: (tag, bytes) for a primitive one, (tag, [children]) for a constructed.
Node = tuple[int, "bytes | list[Node]"]


def encrypted_pem(passphrase: bytes, traditional: bool = False) -> bytes:
    """A new Ed25519 key as PKCS#8 PEM protected by PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC);
    with `traditional`, an RSA key as OpenSSL's legacy PEM (Proc-Type: 4,ENCRYPTED)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if traditional:
        return rsa.generate_private_key(65537, 2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.BestAvailableEncryption(passphrase),
        )
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )


def openssl_pem(folder: Path, passphrase: str, *how: str) -> bytes | None:
    """A new Ed25519 key encrypted by `openssl pkcs8 -topk8 HOW…` (-v1 PBE-SHA1-3DES, -scrypt);
    None without the openssl command."""
    if shutil.which("openssl") is None:
        return None
    plain, out = folder / "plain.pem", folder / "encrypted.pem"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(plain)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["openssl", "pkcs8", "-topk8", *how, "-in", str(plain), "-out", str(out)]
        + ["-passout", f"pass:{passphrase}"],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def with_kdf_numbers(pem: bytes, *numbers: int) -> bytes:
    """The encrypted PKCS#8 PEM `pem` with its key derivation's numbers replaced: PBKDF2's
    iterations, scrypt's N, r, p (as many as given), or PBES1's iterations."""
    lines = pem.strip().splitlines()
    assert _ENCRYPTED in lines[0], lines[0]
    tree, _ = _parse(base64.b64decode(b"".join(lines[1:-1])), 0)
    info = _kids(tree)
    algorithm = _kids(info[0])
    if algorithm[0][1] == _PBES2:
        fields = _kids(_kids(_kids(algorithm[1])[0])[1])
        for i, n in enumerate(numbers):
            fields[1 + i] = _integer(n)
    else:
        _kids(algorithm[1])[1] = _integer(numbers[0])
    body = base64.encodebytes(_encode(tree)).replace(b"\n", b"")
    wrapped = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return b"%s\n%s\n%s\n" % (lines[0], wrapped, lines[-1])


def _kids(node: Node) -> list[Node]:
    assert isinstance(node[1], list)
    return node[1]


def _integer(n: int) -> Node:
    return 0x02, n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True)


def _parse(der: bytes, pos: int) -> tuple[Node, int]:
    tag, size = der[pos], der[pos + 1]
    pos += 2
    if size & 0x80:
        width = size & 0x7F
        size = int.from_bytes(der[pos : pos + width], "big")
        pos += width
    content = der[pos : pos + size]
    if not tag & 0x20:
        return (tag, content), pos + size
    kids, at = [], 0
    while at < len(content):
        kid, at = _parse(content, at)
        kids.append(kid)
    return (tag, kids), pos + size


def _encode(node: Node) -> bytes:
    tag, content = node
    raw = b"".join(_encode(k) for k in content) if isinstance(content, list) else content
    n = len(raw)
    if n < 0x80:
        head = bytes([n])
    else:
        width = (n.bit_length() + 7) // 8
        head = bytes([0x80 | width]) + n.to_bytes(width, "big")
    return bytes([tag]) + head + raw
