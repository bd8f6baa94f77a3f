"""KeePass database (.kdbx, KDBX 3.1 and 4), opened directly with its password and/or key file.

pykeepass decrypts the file (AES-KDF or Argon2d/id; AES, ChaCha20 or Twofish; the protected
values too) into KeePass's XML tree, which is read by the same entry code as a KeePass XML
export (`keepass_xml.read_entry`): groups → a tag (the path below the root group), tags, history,
one-time passwords (`otp`, KeePassXC's `TOTP Seed`/`TOTP Settings`, KeePass's `TimeOtp-*`),
times; entries in the recycle bin are left out; attachments come along (stored as the record's
files when it is imported; one over the attachment limit is named as not imported).
Field references (`{REF:P@I:uuid}`, KeePass's way to share a value between entries) are
replaced by the value they point at, as KeePass shows them.

The file's own secret comes from `secret.current()`; none given → FileSecretNeededError (the
front end asks), a wrong one → WrongFileSecretError. KeePass 1 (.kdb) files are refused saying
how to convert them.
"""

from __future__ import annotations

import base64
import binascii
import gc
import io
import re
import struct
from typing import IO, Any

from ..errors import FileSecretNeededError, FormatError, WrongFileSecretError
from .common import ImportReport
from .keepass_xml import read_entry
from .secret import MAX_KEY_FILE_BYTES, FileSecret, current

WHAT = "KeePass database (.kdbx)"
#: KeePass 2 (KDBX) and KeePass 1 (KDB) file signatures (the first 8 bytes).
KDBX_MAGIC = bytes.fromhex("03d9a29a67fb4bb5")
KDB_MAGIC = bytes.fromhex("03d9a29a65fb4bb5")
#: A .kdbx larger than this is refused before decrypting (the XML is held in memory).
MAX_KDBX_BYTES = 256 * 1024 * 1024
_REF = re.compile(r"\{REF:([TUPAN])@I:([0-9A-Fa-f]{32})\}")
_REF_FIELD = {"T": "Title", "U": "UserName", "P": "Password", "A": "URL", "N": "Notes"}


def read(stream: IO[bytes]) -> ImportReport:
    data = stream.read(MAX_KDBX_BYTES + 1)
    if data.startswith(KDB_MAGIC):
        raise FormatError(
            "this is a KeePass 1 database (.kdb), which Strongroom cannot open: open it in "
            "KeePassXC or KeePass 2 and save it as .kdbx, then import that"
        )
    if not data.startswith(KDBX_MAGIC):
        raise FormatError(
            f"this is not a {WHAT}: it does not start with KeePass's signature (a KeePass XML "
            "or CSV export is imported as keepass-xml or keepass-csv)"
        )
    if len(data) > MAX_KDBX_BYTES:
        raise FormatError(f"this {WHAT} is larger than 256 MiB")
    _refuse_endless_kdf(data)
    kp = _open(data, current())
    report = ImportReport("keepass-kdbx")
    _read_tree(kp.tree, _binaries(kp), report)
    # pykeepass's parse leaves cyclic garbage (construct's containers) that an import's paused
    # collector (common.bulk) would keep until a full collection: freed here, a 10,000-entry
    # database's import peaks at 135 MB instead of 201 MB
    del kp, data
    gc.collect()
    return report


#: The key derivation a database may ask for before its password is even checked (the header's
#: own checksum is unkeyed, so any file may ask for anything). AES-KDF runs as a Python loop in
#: pykeepass (~2 µs a round here: the cap is a few minutes); Argon2's memory is allocated at once.
MAX_AES_ROUNDS = 100_000_000
MAX_ARGON2_MEMORY = 1 << 30
MAX_ARGON2_WORK = 256 << 30  # iterations × memory (bytes): a few minutes at most
MAX_ARGON2_LANES = 64
_AES_KDF = bytes.fromhex("c9d9f39a628a4460bf740d08c18a4fea")


def _refuse_endless_kdf(data: bytes) -> None:
    """FormatError when the header asks for a key derivation that would not end (2**50 AES
    rounds) or not fit in memory (Argon2 with terabytes); a header that does not parse is left
    to pykeepass to refuse."""
    try:
        major = struct.unpack_from("<H", data, 10)[0]
        params = _kdf_params(data, major)
    except (struct.error, ValueError):
        return
    too_much = ""
    rounds = params.get("R")
    if isinstance(rounds, int) and rounds > MAX_AES_ROUNDS:
        too_much = f"{rounds:,} AES-KDF rounds (at most {MAX_AES_ROUNDS:,} are run)"
    memory, iterations, lanes = params.get("M"), params.get("I"), params.get("P")
    if isinstance(memory, int) and memory > MAX_ARGON2_MEMORY:
        too_much = f"{memory // 2**20:,} MiB for Argon2 (at most {MAX_ARGON2_MEMORY >> 20:,} MiB)"
    elif isinstance(memory, int) and isinstance(iterations, int):
        if iterations * max(memory, 1) > MAX_ARGON2_WORK:
            too_much = f"{iterations:,} Argon2 iterations over {memory // 2**20:,} MiB"
    if isinstance(lanes, int) and lanes > MAX_ARGON2_LANES:
        too_much = f"{lanes:,} Argon2 lanes (at most {MAX_ARGON2_LANES})"
    if too_much:
        raise FormatError(
            f"this {WHAT} asks for {too_much} to derive its key, more than this import runs: "
            "lower it in KeePassXC (Database > Database Security > Encryption Settings) and "
            "import again"
        )


def _kdf_params(data: bytes, major: int) -> dict[str, int | bytes]:
    """The key derivation's numbers from a KDBX header: KDBX 3's TransformRounds as R, KDBX 4's
    KdfParameters variant dictionary (R for AES-KDF; I, M, P for Argon2)."""
    pos, out = 12, dict[str, int | bytes]()
    while pos < len(data):
        fid = data[pos]
        if major >= 4:
            (size,) = struct.unpack_from("<I", data, pos + 1)
            pos += 5
        else:
            (size,) = struct.unpack_from("<H", data, pos + 1)
            pos += 3
        value = data[pos : pos + size]
        pos += size
        if fid == 0:
            break
        if fid == 6 and major < 4 and len(value) == 8:
            out["R"] = struct.unpack("<Q", value)[0]
        if fid == 11 and major >= 4:
            out |= _variant_dict(value)
    return out


def _variant_dict(raw: bytes) -> dict[str, int | bytes]:
    """KeePass's VariantDictionary: u16 version, then (type, key, value) items up to type 0."""
    pos, out = 2, dict[str, int | bytes]()
    while pos < len(raw) and raw[pos] != 0:
        kind = raw[pos]
        (klen,) = struct.unpack_from("<i", raw, pos + 1)
        key = raw[pos + 5 : pos + 5 + klen].decode("utf-8", "replace")
        pos += 5 + klen
        (vlen,) = struct.unpack_from("<i", raw, pos)
        value = raw[pos + 4 : pos + 4 + vlen]
        pos += 4 + vlen
        if kind in (0x04, 0x05, 0x0C, 0x0D) and len(value) in (4, 8):
            out[key] = int.from_bytes(value, "little", signed=kind in (0x0C, 0x0D))
        elif kind == 0x42:
            out[key] = value
    if out.get("$UUID") == _AES_KDF:
        out = {"R": out["R"]} if "R" in out else {}
    return out


def _binaries(kp: Any) -> list[bytes]:
    """The database's attachment bytes, by the index entries refer to them with."""
    try:
        return [bytes(b) for b in kp.binaries]
    except Exception:  # a malformed binary pool: the entries say their files are missing
        return []


def _open(data: bytes, secret: FileSecret) -> Any:
    """The opened database (pykeepass: its decrypted XML tree and binaries), or the error a
    person can act on."""
    from pykeepass import PyKeePass  # imports lxml and construct: only when a .kdbx is read
    from pykeepass.exceptions import CredentialsError, HeaderChecksumError, PayloadChecksumError

    if not secret.given:
        raise FileSecretNeededError(
            "this KeePass database is locked with its own password (and/or key file)",
            key_file=True,
        )
    key_file = secret.key_file
    if key_file is not None and len(key_file) > MAX_KEY_FILE_BYTES:
        raise WrongFileSecretError("the key file given is larger than 16 MiB: not a key file")
    # No password given with a key file: the database may be locked by the key file alone
    # (KeePass's "no password") or by an empty password and the key file.
    passwords: list[str | None] = (
        [secret.password] if secret.password else [None, ""] if key_file is not None else [""]
    )
    for password in passwords:
        try:
            kp = PyKeePass(
                io.BytesIO(data),
                password=password,
                keyfile=io.BytesIO(key_file) if key_file is not None else None,
            )
        except CredentialsError:
            continue
        except (HeaderChecksumError, PayloadChecksumError):
            raise FormatError(
                f"this {WHAT} is damaged (a checksum does not match): is the file complete?"
            ) from None
        except (OSError, AssertionError):  # pykeepass: an unreadable or mismatched key file
            raise WrongFileSecretError(
                "the key file given is not a KeePass key file this database accepts"
            ) from None
        except Exception as exc:  # construct's parse errors have no common base worth naming
            raise FormatError(
                f"this is not a readable {WHAT} ({type(exc).__name__}): is the file complete, "
                "and a KeePass 2 database?"
            ) from None
        return kp
    if secret.password is None:
        raise FileSecretNeededError(
            "the key file alone does not open this KeePass database: it needs its password too",
            key_file=True,
        )
    if key_file is not None:
        raise WrongFileSecretError(
            "the password and key file given do not open this KeePass database"
        )
    raise WrongFileSecretError(
        "the password given does not open this KeePass database (if it also uses a key file, "
        "give that too)"
    )


def _read_tree(tree: Any, binaries: list[bytes], report: ImportReport) -> None:
    root = tree.getroot()
    meta = root.find("Meta")
    recycle = (meta.findtext("RecycleBinUUID") or "").strip() if meta is not None else ""
    enabled = meta is None or (meta.findtext("RecycleBinEnabled") or "True").strip() != "False"
    top = root.find("Root/Group")
    if top is None:
        raise FormatError(f"this {WHAT} has no root group")
    refs = _ref_targets(top)
    count = 0

    def walk(group: Any, path: list[str]) -> None:
        nonlocal count
        uuid = (group.findtext("UUID") or "").strip()
        if enabled and recycle and uuid == recycle and path:
            return  # the recycle bin and everything in it
        for child in group:
            if child.tag == "Entry":
                count += 1
                if refs:
                    _resolve(child, refs)
                read_entry(
                    child,
                    "/".join(path),
                    report,
                    f"entry {count}",
                    decrypted=True,
                    binaries=binaries,
                )
            elif child.tag == "Group":
                walk(child, [*path, (child.findtext("Name") or "").strip()])

    walk(top, [])


def _uuid_hex(text: str) -> str:
    try:
        return base64.b64decode(text.strip(), validate=True).hex().upper()
    except (binascii.Error, ValueError):
        return ""


def _ref_targets(top: Any) -> dict[str, dict[str, str]]:
    """uuid (hex) → {field: value} of every entry, when any value is a field reference."""
    if not any(_REF.search(v.text or "") for v in top.iter("Value")):
        return {}
    out: dict[str, dict[str, str]] = {}
    for entry in top.iter("Entry"):
        if entry.getparent() is not None and entry.getparent().tag == "History":
            continue
        uid = _uuid_hex(entry.findtext("UUID") or "")
        if uid:
            out[uid] = {
                (s.findtext("Key") or ""): (s.findtext("Value") or "")
                for s in entry.findall("String")
            }
    return out


def _resolve(entry: Any, refs: dict[str, dict[str, str]]) -> None:
    """Field references in this entry's values → the values they point at (at most 10 deep);
    a reference to no entry stays as written."""
    for value in entry.iter("Value"):
        text = value.text or ""
        for _ in range(10):
            if "{REF:" not in text:
                break
            replaced = _REF.sub(
                lambda m: refs.get(m.group(2).upper(), {}).get(_REF_FIELD[m.group(1)], m.group(0)),
                text,
            )
            if replaced == text:
                break
            text = replaced
        value.text = text
