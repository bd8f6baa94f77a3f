"""Golden vectors: the exact bytes of each format, so a change to any of them is a decision, not an accident."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from vault import backup, crypto, kdf, padding
from vault import keys as keymod
from vault.container import open_container, parse_container, seal_container
from vault.envelope import Envelope, RecordCipher, record_ad
from vault.kdf import KdfParams
from vault.kitcode import KitPayload
from vault.records import Field, Record
from vault.templates import FieldKind

GOLDEN = Path(__file__).parent / "data" / "golden"

KIT = KitPayload(
    "ABCDEFGH23", 3, 7, KdfParams(65536, 3, 4), bytes(range(16)), bytes(range(100, 132))
)
KIT_HEX = (
    "535201000110c8531f5b00030007000100000304000102030405060708090a0b0c0d0e0f"
    "6465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80818283"
)
KIT_QR = (
    "KNJACAABCDEFGH23AABQABYAAEAAAAYEAAAQEAYEAUDAOCAJBIFQYDIOB5SGKZTHNBUWU23MNVXG64DROJZXI5LWO54H"
    "S6T3PR6X474AQGBIG"
)
KIT_TYPED = (
    "KNJAC-AABCD-EFGH2-3AABQ-ABYAA-EAAAA-YEAAA-QEAYE-AUDAO-CAJBI-FQYDI-OB5SG-KZTHN-BUWU2-3MNVX-"
    "G64DR-OJZXI-5LWO5-4HS6T-3PR6X-474AQ-GBIG6-M"
)


def test_kit_payload_bytes() -> None:
    assert len(KIT.to_bytes()) == 68
    assert KIT.to_bytes().hex() == KIT_HEX
    assert KIT.to_qr_text() == KIT_QR and len(KIT_QR) == 109
    assert KIT.to_typed_code() == KIT_TYPED
    assert KitPayload.from_bytes(bytes.fromhex(KIT_HEX)) == KIT
    assert KitPayload.from_qr_text(KIT_QR) == KIT
    assert KitPayload.from_typed_code(KIT_TYPED.lower().replace("-", " ")) == KIT


def test_envelope_bytes() -> None:
    live = Envelope(
        "0123456789abcdef", '{"d1":2,"d2":1}', 1700000000123, "d1", False, bytes(range(40))
    )
    assert live.to_bytes().hex() == (
        "5352450100557b2264656c223a302c22646576223a226431222c22686c63223a313730303030303030303132332c"
        "226964223a2230313233343536373839616263646566222c227676223a7b226431223a322c226432223a317d7d"
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627"
    )
    tomb = Envelope("0123456789abcdef", '{"d1":3}', 5, "d1", True, bytes(28))
    assert tomb.to_bytes().hex() == (
        "5352450100427b2264656c223a312c22646576223a226431222c22686c63223a352c226964223a2230313233343536"
        "373839616263646566222c227676223a7b226431223a337d7d" + "00" * 28
    )
    assert (
        Envelope.from_bytes(live.to_bytes()) == live
        and Envelope.from_bytes(tomb.to_bytes()) == tomb
    )


def test_backup_v1_file_still_opens() -> None:
    """A backup written by version 1 of the format (test KDF profile) keeps opening, byte for byte."""
    data = (GOLDEN / "backup-v1.srbk").read_bytes()
    assert data[:5] == b"SRBK\x01"
    header, keys, envelopes = backup.open_backup(data, "golden password")
    assert (header.account_id, header.generation, header.epoch, header.count) == (
        "X3BWSY7TEA",
        1,
        1,
        1,
    )
    assert header.slot.email == "golden@example.com"
    (rec,) = backup.backup_records(header, keys, envelopes)
    assert (
        rec.id,
        rec.title,
        rec.value("password"),
        rec.notes,
        rec.tags,
        rec.favorite,
        rec.created,
    ) == ("00000000000000aa", "Golden", "au-79", "shiny", ("metal",), True, 1700000000.0)


def test_backup_v2_file_with_an_attachment_still_opens(tmp_path: Path) -> None:
    """A backup with attachment blobs (SRBK version 2, test KDF profile; made by
    `backup.create_backup` from a vault holding one record with one 24-byte file): its header
    names the sealed body's length and one blob; after the body comes `name (64 hex) | u64 length
    | blob`, the blob's address is its name; restored into a new home with the password of then,
    the record's file comes back byte for byte."""
    from vault import attachstore
    from vault.attachments import address_of

    path = GOLDEN / "backup-v2.srbk"
    data = path.read_bytes()
    assert data[:5] == b"SRBK\x02"
    header, container = backup.parse_backup(data)
    assert (header.account_id, header.count) == ("EWVTDFFEIX", 1)
    head_len = int.from_bytes(data[5:9], "big")
    fields = json.loads(data[9 : 9 + head_len])
    assert fields["blobs"] == 1
    rest = data[9 + head_len + fields["body"] :]
    name, length = rest[:64].decode(), int.from_bytes(rest[64:72], "big")
    blob = rest[72:]
    assert len(blob) == length and address_of(io.BytesIO(blob)) == name
    restored, count = backup.restore_into_new_home(tmp_path / "c", path, "golden password")
    assert count == 1
    rid = restored.find("Golden")
    (att,) = attachstore.listed(restored, rid)
    assert (att.name, att.size, att.blob) == ("golden.txt", 24, name)
    out = io.BytesIO()
    attachstore.read(restored, att, out)
    assert out.getvalue() == b"golden attachment bytes\n"
    restored.close()


@pytest.fixture
def fixed_nonce(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every seal uses nonce 00 01 … 0b, so sealed bytes are reproducible."""
    monkeypatch.setattr(crypto, "_fresh_nonce", lambda: bytes(range(12)))


GOLDEN_RECORD = Record(
    "00000000000000aa",
    "login",
    "Golden",
    (Field("username", FieldKind.TEXT, "ada"), Field("password", FieldKind.SECRET, "au-79")),
    "shiny",
    ("metal",),
    True,
    1700000000.0,
    1700000001.5,
)
SEALED_ENVELOPE_FORM1 = (  # sealed before padding (body form 1): still opens
    "53524501004e7b2264656c223a302c22646576223a226431222c22686c63223a313730303030303030303132332c2269"
    "64223a2230303030303030303030303030306161222c227676223a7b226431223a327d7d000102030405060708090a0b"
    "3c20bf7fe7dfe02bbd71a7bb81d9485db3e6b704c01a3e5e144591fc6d0c2288237cc19bc6af30b456d01699e4e20a02"
    "cc1e0fe13eb3cdf813b54c3b22b8aecc854fa308bdb04b043e78881a8af77aca14a8a80617410e44a6dfeead0b83cee2"
    "b99c7bca8632ad79ec794a906457400a97505b89be9809b8239023a8f1c4542cc83a69a8cdf5e7717c802fd21fe017e0"
    "5b9197545933ce66ae398901d8e89d9ce6f2b2378addf64f9053edcaefb0b68bade0fa0ea9c6518654e8f0f741f587c3"
    "237da4cf21ffbeeb0d0d8e9bc2bac70070c83a7fa8498be38ca66709"
)
SEALED_TOMBSTONE_FORM1 = (
    "53524501004e7b2264656c223a312c22646576223a226431222c22686c63223a313730303030303030303939392c2269"
    "64223a2230303030303030303030303030306161222c227676223a7b226431223a337d7d000102030405060708090a0b"
    "3c7f1b5fac14ddfe5ee59d27fb1746d5bbb2"
)
SEALED_ENVELOPE = (
    "53524501004e7b2264656c223a302c22646576223a226431222c22686c63223a313730303030303030303132332c2269"
    "64223a2230303030303030303030303030306161222c227676223a7b226431223a327d7d000102030405060708090a0b"
    "4579f472a1c7f839bd71a7bb81d9485db3e6b704c04b3e1d1a4bc7f1641965903b32c293c8a87cba58860b84fceb4d1a"
    "d47b27e236b2c6b41dbb087f3ad9aeb5d249b51fa1bf470c7976864c9bea769c1aa6eb0312027135d1a6bcbc1983cafa"
    "a48a3dc48863bb7ffd6e5bc66a59031ecf4a5592c19878b66f9138b9e7954c34992168afdaaee97f2a9529c64ef87699"
    "14998641547db117a07d8e168cf0d39ae1e2fb39cb9cee449654edcaefb0b68badfee412a7891e9e5feef7f741f587c3"
    "237cbbd438f1f4a1156c88bbc7c1d984e17ef8763d00baf171919ac741488ffa4323d4afe62003255247b808b5117c51"
    "a893b9759d3089a5176b67738b9c42815827a56af4fd5b5648d99ddc5ab801b9"
)
SEALED_TOMBSTONE = (
    "53524501004e7b2264656c223a312c22646576223a226431222c22686c63223a313730303030303030303939392c2269"
    "64223a2230303030303030303030303030306161222c227676223a7b226431223a337d7d000102030405060708090a0b"
    "4579ab9bc5e5c21b8d41978bb1e9786d83d68734f07b5f7c3867e5851d6900b20110aefcafc1129874a47fed88872838"
    "ee59608d5ad6a3da3f972a1918e3f5eef03cc67ad3d126611c54aa6eef8f0ee8388ac96276635368fdfd9ecc78f0b98d"
    "cbf859e6a441c81a9e1c3eb24875217fba6762abe3c5259a4dff57cd82e66e0ebb5200c6b4d7cb5308e148a13dda4cc2"
    "36f4e3353511934a8c5fe877fad2e9ee93979e15e9ffcc7ea763ddfadf8086bb9dceca228bab73bc65dfc0c771c5b7f3"
    "134c8afa0dddd6c93756d3e6ba41d984e17ef8763d00baf171919ac741488ffa4323d4afe62003255247b808b5117c51"
    "a893b9759d3089a5176b67738b9c4281f92b62f5931fd23142a1e841fafb8598"
)


def test_sealed_envelope_bytes(fixed_nonce: None) -> None:
    """Record JSON, padding (body form 2), associated data (account id + header) and nonce
    placement, all pinned."""
    assert GOLDEN_RECORD.to_json() == (
        b'{"id":"00000000000000aa","type":"login","title":"Golden","f":[["username","text","ada"],'
        b'["password","secret","au-79"]],"notes":"shiny","tags":["metal"],"fav":true,"c":1700000000.0,'
        b'"m":1700000001.5,"h":[]}'
    )
    cipher = RecordCipher("X3BWSY7TEA", bytes(range(32)))
    live = cipher.seal(GOLDEN_RECORD, GOLDEN_RECORD.id, {"d1": 2}, 1700000000123, "d1")
    assert live.to_bytes().hex() == SEALED_ENVELOPE
    tomb = cipher.seal(None, GOLDEN_RECORD.id, {"d1": 3}, 1700000000999, "d1")
    assert tomb.to_bytes().hex() == SEALED_TOMBSTONE
    # an import's first versions, sealed as store rows: the same bytes
    row = cipher.row_sealer({"d1": 2}, 1700000000123, "d1")(GOLDEN_RECORD)
    assert row[:5] == (GOLDEN_RECORD.id, '{"d1":2}', 1700000000123, "d1", 0)
    assert Envelope(*row[:4], False, row[5]).to_bytes().hex() == SEALED_ENVELOPE
    # inside: 0x02, the body, 0x80, zeros to 256 bytes (the record JSON is 204)
    inner = crypto.Sealer(bytes(range(32))).open(
        live.ciphertext, record_ad("X3BWSY7TEA", live.header())
    )
    assert inner == b"\x02" + GOLDEN_RECORD.to_json() + b"\x80" + bytes(256 - 206)
    for live_hex, tomb_hex in (
        (SEALED_ENVELOPE, SEALED_TOMBSTONE),
        (SEALED_ENVELOPE_FORM1, SEALED_TOMBSTONE_FORM1),
    ):
        assert cipher.open(Envelope.from_bytes(bytes.fromhex(live_hex))) == GOLDEN_RECORD
        assert cipher.open(Envelope.from_bytes(bytes.fromhex(tomb_hex))) is None


def test_padding_buckets() -> None:
    """Bucket sizes (docs/formats.md): 256, powers of two to 64 KiB, then PADMÉ; and the frame."""
    sizes = {
        1: 256,
        256: 256,
        257: 512,
        1000: 1024,
        4097: 8192,
        65536: 65536,
        65537: 67584,
        1_000_000: 1_015_808,
    }
    assert {n: padding.bucket(n) for n in sizes} == sizes
    assert padding.pad(b"{}") == b"\x02{}\x80" + bytes(252)


CONTAINER = (
    "5352585801000000117b2261223a312c2262223a2274776f227d000102030405060708090a0b"
    "206dba7fa08be279e225eec0819c55222afffeab9f92468c1d0515"
)


def test_container_layout(fixed_nonce: None) -> None:
    """magic | version | u32 header length | canonical JSON header | nonce ‖ body ‖ tag."""
    raw = seal_container(b"SRXX", 1, {"b": "two", "a": 1}, b"golden body", bytes(range(32)))
    assert raw.hex() == CONTAINER
    assert raw[:9] == b"SRXX\x01\x00\x00\x00\x11" and raw[9:26] == b'{"a":1,"b":"two"}'
    c = parse_container(bytes.fromhex(CONTAINER), b"SRXX", 1, "test file")
    assert (c.magic, c.version, c.header, c.prefix) == (b"SRXX", 1, {"a": 1, "b": "two"}, raw[:26])
    assert open_container(c, bytes(range(32)), "test file") == b"golden body"


def test_kit_derivation_chain() -> None:
    """Argon2id (test profile) → HKDF "qr-wrap" → AES-GCM zero nonce over the header: pinned Kit bytes."""
    salt, ak = bytes(range(16)), bytes(range(200, 216))
    k_pw = kdf.derive_password_key("correct horse", salt, kdf.TEST_PROFILE)
    assert k_pw.hex() == "856ed52e94f434343fde91d4da3d84c3ea38770127c6b972edca8218005de2bf"
    kit = keymod.seal_kit("X3BWSY7TEA", 1, 1, kdf.TEST_PROFILE, salt, ak, k_pw)
    assert kit.to_bytes().hex() == (
        "53520102fb0da58fcc8000010001000001000101000102030405060708090a0b0c0d0e0f"
        "a03c306f6b6b7e73fcd1c53614153470003200c4ba2afdae614b6fc5ab04a03f"
    )
    assert keymod.open_account_key(kit, "correct horse") == (ak, k_pw)


def test_golden_backup_keys_and_slot() -> None:
    """The sub-key and server-auth derivations from a fixed account (the golden backup's)."""
    data = (GOLDEN / "backup-v1.srbk").read_bytes()
    header, keys, _ = backup.open_backup(data, "golden password")
    assert keys.ak.hex() == "36a6baa5b9bcc285c3266b2d5040520e"
    assert keys.vk.hex() == "81475b5c5cb2c1e2892834bac966614641bfe9d6f9182c42c7e37bbe82d6e8a1"
    assert keys.x_auth.hex() == "8c55e5185f86e85c89bbc3e7d9c7c14ea9c9fd46404488cc7bee974c51da3790"
    assert (
        keys.subkey("records").hex()
        == "272f046e332848470b4fe7aa7d4ec7a06240dce3bf84b85260eedcde5258cddd"
    )
    assert header.slot.to_bytes() == (
        b'{"email": "golden@example.com", "hint": "", "kit": "KNJACAX3BWSY7TEAAAAQAAIAAAAQAAIBSCXO6JEZN2HE7H43PK3KVZUV'
        b'4CRQ6WQZMM2QV77CGIMQ7LZOPFUEBJYMLEREB3UXPRBJCU33YYJZK", "v": 1, "wvk": "PeAH83f896iLfsg3QdnVU8NfasBLXZgo'
        b'WpVYQ0YIjQmwyUt3N9/V7dbCoIOUicAALeDgqrdmHLXECJuv"}'
    )
    assert keymod.KeySlot.from_bytes(header.slot.to_bytes()) == header.slot


def test_saved_account_key_bytes() -> None:
    """`account.key` (sync/folderkey.py): "SRAK" | version 1 | the Kit payload | SHA-256 of both."""
    from sync import folderkey

    data = folderkey.encode(KIT)
    assert len(data) == folderkey.SIZE == 105
    assert data.hex() == "5352414b01" + KIT_HEX + (
        "8027d270a11acc6c6a83ce000f72980f9b6f2d40de9a1e182ff1a112c713f581"
    )
    assert folderkey.decode(data) == KIT


def test_wifi_state_and_summary_names() -> None:
    """Wi-Fi member sessions: STATE announces the summary form this build reads (`sv` 2); a v2
    summary names a version by vector text and content digest, a peer without `sv` (summary 1)
    is told vector texts alone."""
    from sync.wifi import protocol as p

    live = Envelope(
        "0123456789abcdef", '{"d1":2,"d2":1}', 1700000000123, "d1", False, bytes(range(40))
    )
    assert p.state_body(3, 4, "laptop") == b'{"epoch": 4, "gen": 3, "name": "laptop", "sv": 2}'
    assert p.parse_state(p.state_body(3, 4, "laptop")).summaries == 2
    assert p.parse_state(b'{"epoch": 4, "gen": 3, "name": "laptop"}').summaries == 1
    assert p.version_name(live) == '{"d1":2,"d2":1}#5faa4eec36115568'
    assert p.version_name(live, 1) == '{"d1":2,"d2":1}'


def test_wifi_handshake_v2_proofs() -> None:
    """Wi-Fi protocol 2 (formats.md): each PROOF is the masked claims (generation, key epoch,
    device id) ‖ HMAC over role, account id, version, mode, both nonces and the claims; the file
    pins the bytes, and the MAC is recomputed here from the documented transcript."""
    import hashlib
    import hmac
    import struct

    from sync.wifi.channel import (
        MODE_MEMBER,
        Claims,
        client_proof,
        member_key,
        server_proof,
        session_keys,
    )

    pinned = dict(
        line.split(" ", 1)
        for line in (GOLDEN / "wifi-handshake-v2.hex").read_text().splitlines()
        if line and not line.startswith("#")
    )
    key = member_key(bytes(range(32)))
    cn, sn = bytes(range(32)), bytes(range(32, 64))
    c = Claims("ABCDEFGH23", 1, 2, "0a1b2c3d")
    s = Claims("ABCDEFGH23", 1, 3, "deadbeef")
    assert key.hex() == pinned["member_key"]
    assert client_proof(key, MODE_MEMBER, cn, sn, c).hex() == pinned["client_proof"]
    assert server_proof(key, MODE_MEMBER, cn, sn, c, s).hex() == pinned["server_proof"]
    assert session_keys(key, MODE_MEMBER, cn, sn, c, s).hex() == pinned["session_keys"]

    raw_c = struct.pack(">II", 1, 2) + b"0a1b2c3d".ljust(64, b"\0")
    raw_s = struct.pack(">II", 1, 3) + b"deadbeef".ljust(64, b"\0")
    mask = crypto.hkdf(key, "strongroom wifi claims v2", salt=cn + sn, length=144)

    def mac(role: str, server: bytes) -> str:
        msg = crypto.associated_data(
            "strongroom/wifi/proof v2", role, "ABCDEFGH23", 2, 1, cn, sn, raw_c, server
        )
        return hmac.new(key, msg, hashlib.sha256).hexdigest()

    xor = bytes(a ^ b for a, b in zip(raw_c + raw_s, mask, strict=True))
    assert pinned["client_proof"] == xor[:72].hex() + mac("client", b"")
    assert pinned["server_proof"] == xor[72:].hex() + mac("server", raw_s)
    # another epoch or device claimed with the same key and nonces: another MAC
    for other in (Claims("ABCDEFGH23", 1, 3, "0a1b2c3d"), Claims("ABCDEFGH23", 1, 2, "0a1b2c3e")):
        assert (
            client_proof(key, MODE_MEMBER, cn, sn, other)[72:]
            != client_proof(key, MODE_MEMBER, cn, sn, c)[72:]
        )
    assert (
        client_proof(key, MODE_MEMBER, cn, sn, Claims("ABCDEFGH24", 1, 2, "0a1b2c3d"))[72:]
        != client_proof(key, MODE_MEMBER, cn, sn, c)[72:]
    )


def test_folder_layout2_key_id_change_file_and_snapshot_bytes(fixed_nonce: None) -> None:
    """Folder layout 2 (docs/formats.md): the key id, an `MSLG` change file and a layout-2
    `MSSB` snapshot header, from the golden backup's account."""
    from sync import folderlog, mssb

    header, keys, _ = backup.open_backup(
        (GOLDEN / "backup-v1.srbk").read_bytes(), "golden password"
    )
    assert mssb.key_id(keys) == "z7TUQ7ech7MZJKuIHr02FQ=="
    live = Envelope(
        "0123456789abcdef", '{"d1":2,"d2":1}', 1700000000123, "d1", False, bytes(range(40))
    )
    change = folderlog.encode(keys, "d1", 7, [live])
    assert change.startswith(
        b'MSLG\x01\x00\x00\x00U{"account":"X3BWSY7TEA","gen":1,"kid":"z7TUQ7ech7MZJKuIHr02FQ==",'
        b'"n":7,"writer":"d1"}' + bytes(range(12))
    )
    assert len(change) == 257 and crypto_sha256(change) == (
        "57d53b54533edde6f421ac8056bc6a94874fb5603520f9201fa19728c9316e1d"
    )
    assert folderlog.decode(change, keys, "golden")[1] == [live]
    h = mssb.header_for(header.slot, "d1", 3, kid=mssb.key_id(keys), legacy=1800000000.0)
    snap = mssb.encode(h, keys, [live])
    assert snap.startswith(
        b'MSSB\x01\x00\x00\x01"{"account":"X3BWSY7TEA","akf":false,"device":"d1","epoch":1,'
        b'"fmt":2,"gen":1,"kdf":{"m":256,"p":1,"t":1},"kid":"z7TUQ7ech7MZJKuIHr02FQ==",'
        b'"legacy":1800000000.0,"salt":"kK7vJJlujk+fm3q2quaV4A==","seq":3,'
    )
    assert len(snap) == 462 and crypto_sha256(snap) == (
        "c9491aae68f2decadce2c274d35d9ea3a9b6e4b5386b19b11c88172472d472e7"
    )
    assert mssb.read_for(snap, keys)[1] == [live]


def crypto_sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
