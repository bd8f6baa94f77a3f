"""SSH keys kept in records: generate (Ed25519), import an OpenSSH private key (decrypting a
passphrase-protected one), fingerprint, and sign as the OpenSSH agent protocol asks.

A record of type `ssh-key` holds the private key as unencrypted OpenSSH PEM (the vault's own
encryption protects it), the public key line, its SHA256 fingerprint and a comment. Ed25519,
RSA and ECDSA (P-256/384/521) keys are supported.

A protected key file asking for more key derivation than would end in seconds (bcrypt rounds of
an OpenSSH key; PBKDF2 iterations or scrypt cost of an encrypted PKCS#8 PEM key, read from its
DER) is refused with the numbers before the key library sees it or a passphrase is asked for.
"""

from __future__ import annotations

import base64
import hashlib
import re
import warnings
from dataclasses import dataclass

from cryptography.exceptions import InternalError, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .errors import InvalidInputError, WrongPasswordError

#: SSH_AGENT_RSA_SHA2_256 / _512 flags of a sign request (RFC draft-miller-ssh-agent 4.5.1).
RSA_SHA2_256 = 2
RSA_SHA2_512 = 4
MAX_KEY_FILE = 64 * 1024
#: bcrypt rounds a passphrase-protected OpenSSH key may ask for: ssh-keygen writes 16 (-a N for
#: more); each costs ~14 ms here, so a file asking for 2**31 would never finish decrypting.
MAX_KDF_ROUNDS = 1000
#: PBKDF2 (PBES2) or PKCS#12-PBE iterations an encrypted PEM key (BEGIN ENCRYPTED PRIVATE KEY)
#: may ask for: OpenSSL writes 2,048 (-iter N for more); 10 million take 1.5 s here with
#: HMAC-SHA256, 5 s with SHA-512, 8 s with PKCS#12's SHA-1, and 2**31 would run for minutes to
#: hours (the count is any DER integer).
MAX_PEM_ITERATIONS = 10_000_000
#: scrypt's N × r × p for such a key: OpenSSL writes 16384 × 8 × 1 (0.06 s); the cap is 64 times
#: that (~2-4 s, at most 1 GiB of memory).
MAX_SCRYPT_WORK = 1 << 23
#: The record field that makes the SSH agent ask the open app before each signature ("yes").
ASK_FIELD = "ask"
_YES = frozenset({"yes", "y", "on", "true", "1"})
_NO = frozenset({"no", "n", "off", "false", "0", ""})

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class SshKey:
    private_pem: str
    public_line: str  # "ssh-ed25519 AAAA… comment"
    fingerprint: str  # "SHA256:…"
    comment: str


def _string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _mpint(n: int) -> bytes:
    raw = n.to_bytes((n.bit_length() + 8) // 8, "big") if n else b""
    return _string(raw)


def ask_value(text: str) -> str:
    """The stored form of the "ask before each use" setting: "yes" or "" (no); anything but a
    yes/no word is refused, so a typo never silently turns the question off."""
    low = text.strip().lower()
    if low in _YES:
        return "yes"
    if low in _NO:
        return ""
    raise InvalidInputError(f"ask before each use: type yes or no, not {text.strip()!r}")


def asks(value: str | None) -> bool:
    """Does a stored "ask" value mean ask before each use?"""
    return (value or "").strip().lower() in _YES


def public_blob(public_line: str) -> bytes:
    """The wire blob of an `ssh-… AAAA…` public key line."""
    parts = public_line.split()
    if len(parts) < 2:
        raise InvalidInputError("not an OpenSSH public key line")
    try:
        return base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise InvalidInputError("not an OpenSSH public key line") from None


def fingerprint(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint (what `ssh-add -l` and `ssh-keygen -l` print)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _describe(key: PrivateKey, comment: str) -> SshKey:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    line = public.decode() + (f" {comment}" if comment else "")
    return SshKey(pem, line, fingerprint(public_blob(line)), comment)


def generate_ed25519(comment: str = "") -> SshKey:
    return _describe(ed25519.Ed25519PrivateKey.generate(), comment)


def needs_passphrase(data: bytes) -> bool:
    """Is this OpenSSH private key file encrypted (its cipher is not "none")?"""
    try:
        load_private(data, None)
    except WrongPasswordError:
        return True
    except InvalidInputError:
        return False
    return False


def load_private(data: bytes, passphrase: str | None) -> PrivateKey:
    """The private key of an OpenSSH (or PEM) key file; WrongPasswordError when the passphrase
    is missing or wrong; InvalidInputError when it is not a key we can use."""
    if len(data) > MAX_KEY_FILE:
        raise InvalidInputError("the file is too large to be an SSH private key")
    _refuse_what_is_not_a_private_key(data)
    pw = passphrase.encode() if passphrase else None
    openssh = b"BEGIN OPENSSH PRIVATE KEY" in data
    # a key derivation that would not end is refused before any passphrase is asked for
    rounds = _bcrypt_rounds(data) if openssh else None
    if rounds is not None and rounds > MAX_KDF_ROUNDS:
        raise InvalidInputError(
            f"the SSH key's passphrase asks for {rounds} bcrypt rounds (at most {MAX_KDF_ROUNDS} "
            "are tried: more would take hours); re-protect it with ssh-keygen -p -a 100"
        )
    too_much = None if openssh else _pem_kdf_too_costly(data)
    if too_much:
        raise InvalidInputError(
            f"the SSH key's passphrase asks for {too_much[0]} ({too_much[1]}: more would take "
            "minutes or hours); re-protect it with ssh-keygen -p -a 100"
        )
    key: object
    try:
        with warnings.catch_warnings():  # DSA's deprecation: refused below in our words
            warnings.simplefilter("ignore")
            if openssh:
                key = serialization.load_ssh_private_key(data, pw)
            else:
                key = serialization.load_pem_private_key(data, pw)
    except TypeError as exc:  # encrypted without a passphrase, or a passphrase for a plain key
        if pw is None:
            raise WrongPasswordError("the SSH key is protected by a passphrase") from exc
        raise InvalidInputError("the SSH key is not protected by a passphrase") from exc
    except ValueError as exc:
        message = str(exc).lower()
        if pw is not None and any(w in message for w in ("password", "decrypt", "corrupt")):
            raise WrongPasswordError("wrong passphrase for the SSH key") from exc
        what = "an OpenSSH private key that is damaged or cut short" if openssh else None
        if what is None and b"PRIVATE KEY-----" in data:
            what = "a PEM private key that is damaged, cut short or of a kind not supported"
        raise InvalidInputError(
            f"not an SSH private key this app can use ({what or _EXPECTED})"
        ) from exc
    except UnsupportedAlgorithm as exc:
        raise InvalidInputError(f"unsupported SSH key type ({exc})") from exc
    except InternalError as exc:  # OpenSSL refusing KDF parameters (scrypt N=3, r=0)
        raise InvalidInputError(
            "not an SSH private key this app can use (its passphrase protection is damaged)"
        ) from exc
    if not isinstance(
        key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    ):
        raise InvalidInputError("unsupported SSH key type (use Ed25519, RSA or ECDSA)")
    return key


_EXPECTED = "expected a file starting with -----BEGIN OPENSSH PRIVATE KEY----- or a PEM key"


def _refuse_what_is_not_a_private_key(data: bytes) -> None:
    """Say what a common wrong file is, rather than the key library's parse error."""
    text = data.strip()
    if not text:
        raise InvalidInputError("the SSH key file is empty")
    if text.startswith((b"ssh-", b"ecdsa-sha2-", b"sk-ssh-", b"sk-ecdsa-")) or (
        b"PUBLIC KEY-----" in text and b"PRIVATE KEY-----" not in text
    ):
        raise InvalidInputError(
            "this is a public key (the .pub file); give the private key file (id_ed25519, not "
            "id_ed25519.pub)"
        )


_OPENSSH_MAGIC = b"openssh-key-v1\0"


def _openssh_header(data: bytes) -> tuple[bytes, list[bytes], int] | None:
    """An OpenSSH key file's decoded body, its first three strings (cipher name, KDF name, KDF
    options) and the offset after them; None when the file is no OpenSSH key (PEM, not base64)."""
    body = b"".join(
        line.strip() for line in data.splitlines() if line.strip() and not line.startswith(b"-----")
    )
    try:
        raw = base64.b64decode(body)
    except ValueError:
        return None
    if not raw.startswith(_OPENSSH_MAGIC):
        return None
    pos, fields = len(_OPENSSH_MAGIC), []
    for _ in range(3):
        n = int.from_bytes(raw[pos : pos + 4], "big")
        fields.append(raw[pos + 4 : pos + 4 + n])
        pos += 4 + n
    return raw, fields, pos


def _bcrypt_rounds(data: bytes) -> int | None:
    """The rounds an OpenSSH key file's bcrypt KDF asks for; None when not bcrypt or unreadable
    (the key library then says what is wrong)."""
    head = _openssh_header(data)
    if head is None or head[1][1] != b"bcrypt":
        return None
    opts = head[1][2]
    salt = int.from_bytes(opts[:4], "big")
    if len(opts) < 4 + salt + 4:
        return None
    return int.from_bytes(opts[4 + salt : 8 + salt], "big")


_ENCRYPTED_PEM = re.compile(
    rb"-----BEGIN ENCRYPTED PRIVATE KEY-----(.*?)-----END ENCRYPTED PRIVATE KEY-----", re.DOTALL
)
_PBES2 = bytes.fromhex("2a864886f70d01050d")  # 1.2.840.113549.1.5.13
_PBKDF2 = bytes.fromhex("2a864886f70d01050c")  # 1.2.840.113549.1.5.12
_SCRYPT = bytes.fromhex("2b06010401da47040b")  # 1.3.6.1.4.1.11591.4.11
_SEQUENCE, _INTEGER, _OID = 0x30, 0x02, 0x06


def _pem_kdf_too_costly(data: bytes) -> tuple[str, str] | None:
    """What an encrypted PKCS#8 PEM key's key derivation asks for and the cap, when it is more
    than is run ("2,147,483,648 PBKDF2 iterations", "at most 10,000,000 are run"); read from the
    DER before the key library sees it (it would derive the key for as long as asked). A block
    that does not parse is left to the key library to refuse."""
    for block in _ENCRYPTED_PEM.finditer(data):
        try:
            der = base64.b64decode(b"".join(block.group(1).split()), validate=True)
            too_much = _pkcs8_kdf_too_costly(der)
        except (ValueError, IndexError):
            continue
        if too_much:
            return too_much
    return None


def _pkcs8_kdf_too_costly(der: bytes) -> tuple[str, str] | None:
    """EncryptedPrivateKeyInfo (RFC 5958): SEQUENCE { AlgorithmIdentifier, OCTET STRING }; its
    algorithm PBES2 (RFC 8018) with PBKDF2 { salt, iterations, … } or scrypt (RFC 7914)
    { salt, N, r, p, … }, or PBES1 / PKCS#12 PBE { salt, iterations }."""
    info = _der_children(_der_one(der, _SEQUENCE))
    algorithm = _der_children(_der_one(info[0], _SEQUENCE))
    oid, params = _der_one(algorithm[0], _OID), algorithm[1] if len(algorithm) > 1 else b""
    if oid != _PBES2:
        fields = _der_children(_der_one(params, _SEQUENCE))
        return _too_many_iterations(_der_int(fields[1]), "PBE ")
    kdf = _der_children(_der_one(_der_children(_der_one(params, _SEQUENCE))[0], _SEQUENCE))
    kdf_oid, kdf_fields = _der_one(kdf[0], _OID), _der_children(_der_one(kdf[1], _SEQUENCE))
    if kdf_oid == _PBKDF2:
        return _too_many_iterations(_der_int(kdf_fields[1]), "PBKDF2 ")
    if kdf_oid == _SCRYPT:
        n, r, p = (_der_int(f) for f in kdf_fields[1:4])
        if min(n, r, p) > 0 and n * r * p > MAX_SCRYPT_WORK:
            asked = f"scrypt with N={n:,}, r={r:,}, p={p:,}"
            return asked, f"at most N × r × p = {MAX_SCRYPT_WORK:,} is run"
    return None


def _too_many_iterations(count: int, kind: str) -> tuple[str, str] | None:
    if count <= MAX_PEM_ITERATIONS:
        return None
    return f"{count:,} {kind}iterations", f"at most {MAX_PEM_ITERATIONS:,} are run"


def _der_tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """The tag, start and end of the DER element at `pos` (low tag numbers, definite lengths;
    anything else raises ValueError)."""
    tag, size = der[pos], der[pos + 1]
    pos += 2
    if tag & 0x1F == 0x1F or size == 0x80:
        raise ValueError("not DER")
    if size & 0x80:
        width = size & 0x7F
        if width > 4 or pos + width > len(der):
            raise ValueError("not DER")
        size = int.from_bytes(der[pos : pos + width], "big")
        pos += width
    if pos + size > len(der):
        raise ValueError("cut short")
    return tag, pos, pos + size


def _der_one(der: bytes, tag: int) -> bytes:
    """The contents of the element `der` is, which must carry `tag`."""
    found, start, end = _der_tlv(der, 0)
    if found != tag:
        raise ValueError(f"expected tag {tag:#x}, found {found:#x}")
    return der[start:end]


def _der_children(content: bytes) -> list[bytes]:
    """The elements (tag, length and contents each) a constructed element's contents hold."""
    out, pos = [], 0
    while pos < len(content):
        _, _, end = _der_tlv(content, pos)
        out.append(content[pos:end])
        pos = end
    return out


def _der_int(element: bytes) -> int:
    return int.from_bytes(_der_one(element, _INTEGER), "big", signed=True)


def import_private(data: bytes, passphrase: str | None, comment: str = "") -> SshKey:
    """An SSH key record's values from a private key file (decrypted with `passphrase`)."""
    return _describe(load_private(data, passphrase), comment or _file_comment(data, passphrase))


def _file_comment(data: bytes, passphrase: str | None) -> str:
    """The comment an unencrypted OpenSSH key file carries (encrypted: inside; not read)."""
    del passphrase
    head = _openssh_header(data)
    if head is None or head[1][0] != b"none":
        return ""
    raw, _, pos = head
    try:
        pos += 4  # number of keys (1)
        n = int.from_bytes(raw[pos : pos + 4], "big")
        pos += 4 + n  # public key
        pos += 4  # length of the private section
        pos += 8  # check ints
        keytype_len = int.from_bytes(raw[pos : pos + 4], "big")
        keytype = raw[pos + 4 : pos + 4 + keytype_len]
        pos += 4 + keytype_len
        count = {b"ssh-ed25519": 2, b"ssh-rsa": 6}.get(keytype)
        if count is None and keytype.startswith(b"ecdsa-sha2-"):
            count = 3
        if count is None:
            return ""
        for _ in range(count):
            n = int.from_bytes(raw[pos : pos + 4], "big")
            pos += 4 + n
        n = int.from_bytes(raw[pos : pos + 4], "big")
        return raw[pos + 4 : pos + 4 + n].decode("utf-8", "replace")
    except (ValueError, IndexError):
        return ""


def sign(private_pem: str, data: bytes, flags: int = 0) -> bytes:
    """The agent protocol's signature blob (string algorithm, string signature) over `data`."""
    key = load_private(private_pem.encode(), None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return _string(b"ssh-ed25519") + _string(key.sign(data))
    if isinstance(key, rsa.RSAPrivateKey):
        digest: hashes.HashAlgorithm
        if flags & RSA_SHA2_512:
            name, digest = b"rsa-sha2-512", hashes.SHA512()
        elif flags & RSA_SHA2_256:
            name, digest = b"rsa-sha2-256", hashes.SHA256()
        else:
            name, digest = b"ssh-rsa", hashes.SHA1()  # noqa: S303 - what the old flag asks
        return _string(name) + _string(key.sign(data, padding.PKCS1v15(), digest))
    size = key.curve.key_size
    digest_for: dict[int, hashes.HashAlgorithm] = {
        256: hashes.SHA256(),
        384: hashes.SHA384(),
        521: hashes.SHA512(),
    }
    curve = {256: b"nistp256", 384: b"nistp384", 521: b"nistp521"}[size]
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest_for[size])))
    return _string(b"ecdsa-sha2-" + curve) + _string(_mpint(r) + _mpint(s))


def record_values(values: dict[str, str]) -> dict[str, str]:
    """An SSH key record's fields as typed in a form, made whole: the public key line and the
    fingerprint are derived from the private key (a pasted key cannot disagree with them), and
    `ask` is yes or nothing. A key protected by a passphrase is refused here (the form has no
    passphrase field): `strongroom add ssh-key --private-key FILE` decrypts it."""
    out = dict(values)
    out[ASK_FIELD] = ask_value(values.get(ASK_FIELD, ""))
    pem = values.get("private-key", "").strip()
    if not pem:
        if values.get("public-key") or values.get("fingerprint"):
            raise InvalidInputError("an SSH key needs its private key (ctrl+g makes a new one)")
        return out
    try:
        key = import_private(pem.encode() + b"\n", None, values.get("comment", "").strip())
    except WrongPasswordError:
        raise InvalidInputError(
            "this private key is protected by a passphrase: import it with "
            "`strongroom add ssh-key --private-key FILE`, which asks for it"
        ) from None
    out.update(
        {
            "private-key": key.private_pem,
            "public-key": key.public_line,
            "fingerprint": key.fingerprint,
            "comment": key.comment,
        }
    )
    return out
