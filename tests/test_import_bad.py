"""Bad input: wrong format, truncated, XML bombs, garbage → one FormatError, nothing imported.

Every reader is fuzzed (random bytes and damaged fixtures): it returns a report or raises
FormatError / InvalidInputError, never anything else.
"""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.errors import FormatError, InvalidInputError
from vault.importers import FORMATS, import_report, read_file, read_stream
from vault.vault import Vault

DATA = Path(__file__).parent / "data" / "import"
FIXTURES = {
    "strongroom-json": None,
    "bitwarden-json": "bitwarden.json",
    "bitwarden-csv": "bitwarden.csv",
    "1password-csv": "1password.csv",
    "1password-1pux": "1password.1pux",
    "keepass-csv": "keepass.csv",
    "keepass-xml": "keepass.xml",
    "chrome-csv": "chrome.csv",
    "firefox-csv": "firefox.csv",
    "msecure-csv": "msecure.csv",
    "lastpass-csv": "real/passimport-lastpass.csv",
    "nordpass-csv": "real/passimport-nordpass.csv",
    "roboform-csv": "real/passimport-roboform.csv",
    "keeper-csv": "real/bitwarden-keeper.csv",
    "keeper-json": "real/protonpass-keeper.json",
    "dashlane-csv": "real/protonpass-dashlane-credentials.csv",
    "dashlane-json": "real/passimport-dashlane.json",
    "protonpass-json": "real/bitwarden-protonpass.json",
    "enpass-json": "real/passimport-enpass.json",
    "1password-1pif": "real/passimport-1password.1pif",
}
SAMPLES = {fmt: (DATA / name).read_bytes() for fmt, name in FIXTURES.items() if name}

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<KeePassFile><Root><Group><Name>&lol9;</Name></Group></Root></KeePassFile>
"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<KeePassFile><Root><Group><Name>&xxe;</Name></Group></Root></KeePassFile>
"""


def _read(fmt: str, data: bytes) -> object:
    return read_stream(fmt, io.BytesIO(data))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("other", sorted(SAMPLES))
def test_wrong_format_is_refused(fmt: str, other: str) -> None:
    """Every fixture read as every other format: refused as a whole, naming the format expected."""
    if fmt == other:
        return
    with pytest.raises(FormatError) as info:
        _read(fmt, SAMPLES[other])
    assert "this" in str(info.value) and "export" in str(info.value) or "CSV" in str(info.value)


@pytest.mark.parametrize("fmt", ["bitwarden-json", "keepass-xml", "1password-1pux"])
def test_truncated_json_xml_and_zip(fmt: str) -> None:
    data = SAMPLES[fmt].rstrip()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 1):
        with pytest.raises(FormatError, match="complete|valid|truncated"):
            _read(fmt, data[:cut])


def test_truncated_strongroom_json() -> None:
    with pytest.raises(FormatError, match="is the file complete"):
        _read(
            "strongroom-json",
            b'{"format": "strongroom-json", "version": 1, "records": [{"id": "a", "ty',
        )


@pytest.mark.parametrize(
    "fmt", ["chrome-csv", "bitwarden-csv", "keepass-csv", "1password-csv", "firefox-csv"]
)
def test_truncated_csv(fmt: str) -> None:
    data = SAMPLES[fmt]
    # inside a quoted field: the quote never closes
    quoted = data.index(b'"', data.index(b"\n") + 1) + 2
    with pytest.raises(FormatError, match="complete"):
        _read(fmt, data[:quoted])
    # in the middle of the last row, outside quotes: fewer cells than the header
    header, rest = data.split(b"\n", 1)
    cut = header + b"\n" + rest.split(b",")[0] + b","
    with pytest.raises(FormatError, match="complete|truncated"):
        _read(fmt, cut)


def test_xml_bomb_and_external_entities_are_refused() -> None:
    for doc in (BOMB, EXTERNAL):
        with pytest.raises(FormatError, match="entities"):
            _read("keepass-xml", doc)


def test_1pux_zip_bomb_and_missing_data(tmp_path: Path) -> None:
    import zipfile

    bomb = tmp_path / "bomb.1pux"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("export.data", "w", force_zip64=True) as member:
            block = b" " * (1024 * 1024)
            for _ in range(257):
                member.write(block)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(FormatError, match="256 MiB"):
        read_file("1password-1pux", bomb)
    empty = tmp_path / "empty.1pux"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("export.attributes", "{}")
    with pytest.raises(FormatError, match="no export.data"):
        read_file("1password-1pux", empty)


def test_other_xml_is_not_keepass() -> None:
    with pytest.raises(FormatError, match="KeePassFile"):
        _read("keepass-xml", b"<html><body>hi</body></html>")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_five_megabytes_of_garbage(fmt: str) -> None:
    garbage = random.Random(7).randbytes(5 * 1024 * 1024)
    with pytest.raises(FormatError):
        _read(fmt, garbage)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_gigabyte_file_is_refused_quickly(fmt: str, tmp_path: Path) -> None:
    """1 GiB (sparse: zeros) and 1 GiB starting like JSON: refused after reading at most 16 MiB."""
    path = tmp_path / "big"
    with open(path, "wb") as f:
        f.write(b'{"items": [' if "json" in fmt else b"")
        f.truncate(1024**3)
    with pytest.raises(FormatError):
        read_file(fmt, path)
    os.unlink(path)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_empty_and_whitespace_files(fmt: str) -> None:
    for data in (b"", b"\xef\xbb\xbf", b"\n\n  \n"):
        with pytest.raises(FormatError):
            _read(fmt, data)


def test_deep_json_nesting() -> None:
    with pytest.raises(FormatError):
        _read("bitwarden-json", b"[" * 100_000 + b"]" * 100_000)


def test_cli_level_bad_input_leaves_the_vault_unchanged(home: Path, tmp_path: Path) -> None:
    vault = Vault.create(home, "ann@example.com", "bad input password")
    import_report(vault, read_file("chrome-csv", DATA / "chrome.csv"))
    before = vault.store.all_versions()
    bad = tmp_path / "bad.json"
    bad.write_bytes(SAMPLES["bitwarden-json"][:-40])
    with pytest.raises(FormatError):
        import_report(vault, read_file("bitwarden-json", bad))
    assert vault.store.all_versions() == before


def _only_typed_errors(fmt: str, data: bytes) -> None:
    try:
        report = _read(fmt, data)
    except (FormatError, InvalidInputError):
        return
    assert report is not None


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@FUZZ
@given(data=st.binary(max_size=2000))
def test_fuzz_random_bytes(fmt: str, data: bytes) -> None:
    _only_typed_errors(fmt, data)


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
@FUZZ
@given(
    cut=st.integers(min_value=0, max_value=10**6),
    flips=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=255)
        ),
        max_size=8,
    ),
)
def test_fuzz_damaged_fixtures(fmt: str, cut: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(SAMPLES[fmt][: max(1, cut % (len(SAMPLES[fmt]) + 1))])
    for pos, byte in flips:
        data[pos % len(data)] = byte
    _only_typed_errors(fmt, bytes(data))


@pytest.mark.parametrize("fmt", ["bitwarden-json", "strongroom-json"])
@FUZZ
@given(
    doc=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda kids: (
            st.lists(kids, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "items",
                        "records",
                        "format",
                        "version",
                        "type",
                        "name",
                        "login",
                        "fields",
                        "card",
                        "identity",
                        "id",
                        "title",
                        "tags",
                        "created",
                        "modified",
                        "history",
                        "kind",
                        "value",
                        "favorite",
                        "folders",
                        "bankAccount",
                        "driversLicense",
                        "passport",
                        "deletedDate",
                        "attachments",
                        "fido2Credentials",
                        "passwordProtected",
                        "encrypted",
                    ]
                ),
                kids,
                max_size=6,
            )
        ),
        max_leaves=30,
    )
)
def test_fuzz_json_shapes(fmt: str, doc: object) -> None:
    """Structurally plausible JSON with every value type in every place."""
    import json

    wrapped = {"format": "strongroom-json", "version": 1, "records": [doc], "items": [doc]}
    _only_typed_errors(fmt, json.dumps(wrapped).encode())
    _only_typed_errors(fmt, json.dumps(doc).encode())


def _kdbx_with_kdf(name: str, **values: int) -> bytes:
    """A real .kdbx with its header's key derivation numbers set to `values` (KDBX 3: R, the
    TransformRounds; KDBX 4: keys of the KdfParameters dictionary) and its header checksum (an
    unkeyed SHA-256, so anyone can) made right again."""
    import hashlib
    import struct

    d = bytearray((DATA / "real" / name).read_bytes())
    major, pos = struct.unpack_from("<H", d, 10)[0], 12
    while True:
        fid = d[pos]
        head = 5 if major >= 4 else 3
        size = struct.unpack_from("<I" if major >= 4 else "<H", d, pos + 1)[0]
        start = pos + head
        if fid == 6 and major < 4:
            d[start : start + 8] = struct.pack("<Q", values["R"])
        if fid == 11 and major >= 4:
            for key, value in values.items():
                at = d.index(b"\x01\x00\x00\x00" + key.encode(), start, start + size) + 5
                length = struct.unpack_from("<i", d, at)[0]
                d[at + 4 : at + 4 + length] = value.to_bytes(length, "little")
        pos = start + size
        if fid == 0:
            break
    if major >= 4:
        d[pos : pos + 32] = hashlib.sha256(bytes(d[:pos])).digest()
    return bytes(d)


@pytest.mark.parametrize(
    ("name", "values", "said"),
    [
        ("keepassxc-Format300.kdbx", {"R": 2**50}, "AES-KDF rounds"),
        ("keepassxc-Format400.kdbx", {"M": 2**36}, "MiB for Argon2"),
        ("keepassxc-Format400.kdbx", {"I": 2**40}, "Argon2 iterations"),
        ("keepassxc-Format400.kdbx", {"P": 2**20}, "Argon2 lanes"),
    ],
)
def test_a_kdbx_asking_for_an_endless_key_derivation_is_refused(
    name: str, values: dict[str, int], said: str
) -> None:
    """The header's checksum is unkeyed, so any file may ask for any key derivation before its
    password is checked: 2**50 AES rounds ran forever (pykeepass loops in Python), Argon2 with
    64 GiB would have been allocated. Refused before pykeepass sees the file, naming the number."""
    from vault.importers.secret import FileSecret, using

    data = _kdbx_with_kdf(name, **values)
    with using(FileSecret("any password", None)), pytest.raises(FormatError, match=said):
        read_stream("keepass-kdbx", io.BytesIO(data))


def test_a_device_or_a_fifo_is_read_once_and_bounded(tmp_path: Path) -> None:
    """read_file (the app's import screen) on /dev/zero: the 1PUX reader's zip looked for its end
    by reading everything (MemoryError after gigabytes); a FIFO is read once, like a file."""
    import threading

    with pytest.raises(InvalidInputError, match="more than 256 MiB"):
        read_file("1password-1pux", Path("/dev/zero"))
    fifo = tmp_path / "export.1pux"
    os.mkfifo(fifo)
    data = (DATA / "1password.1pux").read_bytes()
    writer = threading.Thread(target=lambda: fifo.write_bytes(data), daemon=True)
    writer.start()
    report = read_file("1password-1pux", fifo)
    writer.join(timeout=30)
    same = read_stream("1password-1pux", io.BytesIO(data))
    assert report.records and [(r.type, r.title) for r in report.records] == [
        (r.type, r.title) for r in same.records
    ]  # (ids are new each read)
