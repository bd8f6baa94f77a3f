"""Attachments on one device: the SRAT v1 blob (golden vector, tamper, truncation, reorder), the
vault's add / list / read / remove with real files and a real store, and the CLI's `attach`."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from clikit import cli_env, run_cli, run_on_terminal
from hypothesis import given, settings
from hypothesis import strategies as st

from vault import attachments as fmt
from vault import attachstore
from vault.attachments import Attachment
from vault.errors import InvalidInputError, TamperError, UnsupportedVersionError
from vault.records import Record, new_record
from vault.vault import Vault

GOLDEN = Path(__file__).parent / "data" / "golden" / "attachment-v1.hex"
PW = "attachment test password"
KEY = bytes(range(32))
AID = bytes(range(16)).hex()
ACCOUNT = "AAAAAAAAAA"
GOLDEN_DATA = bytes(range(256)) + bytes(range(44))


def _att(size: int, aid: str = AID) -> Attachment:
    return Attachment(aid, "f.bin", size, 0.0, "0" * 64, "")


def _seal(data: bytes, exp: int = 8, key: bytes = KEY, aid: str = AID) -> bytes:
    out = io.BytesIO()
    fmt.encrypt(io.BytesIO(data), out, len(data), key, ACCOUNT, aid, exp)
    return out.getvalue()


def _open(blob: bytes, size: int, key: bytes = KEY, aid: str = AID) -> bytes:
    out = bytearray()
    fmt.decrypt(io.BytesIO(blob), _att(size, aid), key, ACCOUNT, out.extend)
    return bytes(out)


# -- the format --------------------------------------------------------------------------------
def test_golden_vector_is_what_we_write_and_opens() -> None:
    golden = bytes.fromhex(GOLDEN.read_text().strip())
    assert _seal(GOLDEN_DATA) == golden  # counter nonces: the bytes are fixed by key and input
    assert _open(golden, 300) == GOLDEN_DATA
    assert golden[:6] == b"SRAT\x01\x08" and len(golden) == fmt.blob_size(300, 8) == 550


def test_every_flipped_byte_of_the_golden_blob_is_refused() -> None:
    golden = bytes.fromhex(GOLDEN.read_text().strip())
    for i in range(len(golden)):
        bad = bytearray(golden)
        bad[i] ^= 0x01
        with pytest.raises((TamperError, UnsupportedVersionError)):
            _open(bytes(bad), 300)


def test_truncation_reorder_extension_and_another_attachment_are_refused() -> None:
    data = os.urandom(1000)  # padded to 1024: four 256-byte chunks
    blob = _seal(data)
    head, body = blob[:6], blob[6:]
    chunks = [body[i : i + 272] for i in range(0, len(body), 272)]
    assert len(chunks) == 4
    cases = {
        "last chunk dropped": head + b"".join(chunks[:3]),
        "cut inside a chunk": blob[:-5],
        "two chunks swapped": head + chunks[1] + chunks[0] + chunks[2] + chunks[3],
        "a chunk repeated": head + chunks[0] + chunks[0] + chunks[2] + chunks[3],
        "bytes appended": blob + b"\0",
    }
    for what, bad in cases.items():
        with pytest.raises(TamperError):
            _open(bad, 1000)
        assert what
    with pytest.raises(TamperError):  # the same key under another attachment's id
        _open(blob, 1000, aid="ff" * 16)
    with pytest.raises(TamperError):  # told a shorter size: the chunk count no longer fits
        _open(blob, 100)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000), st.integers(min_value=8, max_value=10))
def test_any_file_round_trips_and_its_length_tells_only_a_bucket(data: bytes, exp: int) -> None:
    blob = _seal(data, exp)
    assert _open(blob, len(data)) == data
    assert len(blob) == fmt.blob_size(len(data), exp)
    assert len(_seal(b"x" * (len(data) // 2), exp)) <= len(blob)


def test_the_marker_on_a_chunk_boundary() -> None:
    for size in (255, 256, 511, 512, 767):
        data = os.urandom(size)
        assert _open(_seal(data), size) == data


def test_a_file_that_changes_while_read_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        fmt.encrypt(io.BytesIO(b"abc"), io.BytesIO(), 10, KEY, ACCOUNT, AID)
    with pytest.raises(InvalidInputError):
        fmt.encrypt(io.BytesIO(b"abcdef"), io.BytesIO(), 3, KEY, ACCOUNT, AID)


def test_entry_json_is_pinned_and_a_newer_entry_is_refused() -> None:
    att = Attachment(AID, "scan.pdf", 12, 1.5, "ab" * 32, "a2V5")
    assert json.dumps(att.to_obj(), sort_keys=True) == (
        '{"added": 1.5, "blob": "' + "ab" * 32 + '", "id": "' + AID + '", "key": "a2V5", '
        '"name": "scan.pdf", "size": 12, "v": 1}'
    )
    rec = Record("r1", "login", "T", attachments=(att,))
    assert Record.from_json(rec.to_json()).attachments == (att,)
    assert b'"att"' not in Record("r1", "login", "T").to_json()  # none: sealed as before
    with pytest.raises(UnsupportedVersionError):
        Attachment.from_obj(att.to_obj() | {"v": 2})


# -- the vault ---------------------------------------------------------------------------------
@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    v = Vault.create(tmp_path / "home", "ann@example.com", PW)
    v.add(new_record("login", "GitHub"))
    return v


def test_add_list_read_remove(vault: Vault, tmp_path: Path) -> None:
    rid = vault.find("GitHub")
    src = tmp_path / "recovery codes.pdf"
    data = os.urandom(2_500_000)  # three 1 MiB chunks
    src.write_bytes(data)
    att = attachstore.add(vault, rid, src)
    assert [a.name for a in attachstore.listed(vault, rid)] == ["recovery codes.pdf"]
    out = io.BytesIO()
    attachstore.read(vault, attachstore.find(vault, rid, "RECOVERY codes.pdf"), out)
    assert out.getvalue() == data
    saved = tmp_path / "out.pdf"
    attachstore.save_to(vault, att, saved)
    assert saved.read_bytes() == data and saved.stat().st_mode & 0o777 == 0o600
    attachstore.remove(vault, rid, att.id)
    assert attachstore.listed(vault, rid) == ()


def test_nothing_of_the_name_or_content_is_stored_in_clear(vault: Vault, tmp_path: Path) -> None:
    rid = vault.find("GitHub")
    src = tmp_path / "passport-scan-SECRETNAME.txt"
    content = b"CONTENT-MARKER " * 1000
    src.write_bytes(content)
    attachstore.add(vault, rid, src)
    vault.close()
    home = tmp_path / "home"
    every_byte = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    for clear in (b"SECRETNAME", b"CONTENT-MARKER", b"passport"):
        assert clear not in every_byte


def test_a_flipped_byte_in_the_blob_is_refused_before_any_byte_is_given(
    vault: Vault, tmp_path: Path
) -> None:
    rid = vault.find("GitHub")
    src = tmp_path / "key.pem"
    src.write_bytes(os.urandom(5000))
    att = attachstore.add(vault, rid, src)
    path = attachstore.blob_dir(vault).path(att.blob)
    raw = bytearray(path.read_bytes())
    raw[1000] ^= 0x40
    path.write_bytes(bytes(raw))
    out = io.BytesIO()
    with pytest.raises(TamperError, match="failed authentication"):
        attachstore.read(vault, att, out)
    assert out.getvalue() == b""


def test_a_file_over_the_limit_is_refused_with_both_sizes(vault: Vault, tmp_path: Path) -> None:
    vault.update_settings(attachment_max_mb=1)
    src = tmp_path / "big.iso"
    src.write_bytes(bytes(1024 * 1024 + 1))
    with pytest.raises(InvalidInputError, match=r"big.iso is 1.0 MiB; .* at most 1.0 MiB"):
        attachstore.add(vault, vault.find("GitHub"), src)
    assert attachstore.blob_dir(vault).names() == set()


def test_files_added_on_two_sides_of_an_edit_are_both_kept(vault: Vault, tmp_path: Path) -> None:
    rid = vault.find("GitHub")
    base = vault.detail(rid)
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_bytes(b"1")
    two.write_bytes(b"2")
    attachstore.add(vault, rid, one)  # meanwhile (another window, another process)
    from dataclasses import replace

    from vault.attachments import new_attachment_id

    mine = Attachment(new_attachment_id(), "mine.txt", 1, 0.0, "cd" * 32, "")
    vault.update(replace(base.record, attachments=(mine,), title="GitHub 2"), base)
    names = {a.name for a in vault.record(rid).attachments}
    assert names == {"one.txt", "mine.txt"}
    assert vault.record(rid).title == "GitHub 2"


# -- the CLI -----------------------------------------------------------------------------------
def _cli_home(tmp_path: Path) -> Path:
    home = tmp_path / "cli-home"
    Vault.create(home, "ann@example.com", PW).close()
    return home


def test_cli_attach_add_ls_get_rm(tmp_path: Path) -> None:
    home = _cli_home(tmp_path)
    env = cli_env(home, PW)
    assert run_cli(env, "add", "login", "--title", "Bank").returncode == 0
    src = tmp_path / "statement.pdf"
    data = os.urandom(1_200_000)
    src.write_bytes(data)
    added = run_cli(env, "attach", "add", "Bank", str(src))
    assert added.returncode == 0, added.stderr
    listed = run_cli(env, "attach", "ls", "Bank", "--json")
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["size"], r["on_device"]) for r in rows] == [
        ("statement.pdf", 1_200_000, True)
    ]
    import subprocess
    import sys

    piped = subprocess.run(
        [sys.executable, "-m", "cli", "attach", "get", "Bank", "statement.pdf"],
        env=env,
        capture_output=True,
        check=False,
    )
    assert piped.returncode == 0 and piped.stdout == data
    out = tmp_path / "copy.pdf"
    assert run_cli(env, "attach", "get", "Bank", "statement.pdf", "-o", str(out)).returncode == 0
    assert out.read_bytes() == data
    again = run_cli(env, "attach", "get", "Bank", "statement.pdf", "-o", str(out))
    assert again.returncode == 2 and "--force" in again.stderr
    missing = run_cli(env, "attach", "get", "Bank", "nope.pdf", "-o", str(tmp_path / "n"))
    assert missing.returncode == 1 and "no attachment named 'nope.pdf'" in missing.stderr
    get = run_cli(env, "get", "Bank", "--json")
    assert [a["name"] for a in json.loads(get.stdout)["attachments"]] == ["statement.pdf"]
    assert run_cli(env, "attach", "rm", "Bank", "statement.pdf").returncode == 0
    assert json.loads(run_cli(env, "attach", "ls", "Bank", "--json").stdout) == []


def test_cli_get_refuses_a_terminal_and_limits_say_so(tmp_path: Path) -> None:
    home = _cli_home(tmp_path)
    env = cli_env(home, PW)
    run_cli(env, "add", "note", "--title", "Keys")
    src = tmp_path / "id_ed25519"
    src.write_bytes(b"-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert run_cli(env, "attach", "add", "Keys", str(src)).returncode == 0
    code, drawn = run_on_terminal(env, "attach", "get", "Keys", "id_ed25519")
    assert code == 2 and "terminal" in drawn and "OPENSSH" not in drawn
    big = tmp_path / "big"
    with open(big, "wb") as f:
        f.truncate(300 * 1024 * 1024)  # sparse: over the default 256 MiB, never read
    over = run_cli(env, "attach", "add", "Keys", str(big))
    assert over.returncode == 2 and "at most 256.0 MiB" in over.stderr
    assert run_cli(env, "attach", "settings", "--max-mb", "0").returncode == 0
    none = run_cli(env, "attach", "add", "Keys", str(src))  # read '0.0 MiB; at most 0.0 MiB'
    assert none.returncode == 2 and "files cannot be added here" in none.stderr, none.stderr
    assert run_cli(env, "attach", "settings", "--max-mb", "256").returncode == 0
    folder = run_cli(env, "attach", "add", "Keys", str(tmp_path))
    assert folder.returncode == 2 and "is a folder" in folder.stderr
    # -o into a folder that is not there named a temporary file ('.f.tmp-1a2b…: No such file')
    r = run_cli(env, "attach", "get", "Keys", "id_ed25519", "-o", str(tmp_path / "no" / "f"))
    assert r.returncode == 2 and f"the folder {tmp_path / 'no'} does not exist" in r.stderr
    # a FIFO waited for a writer forever; a pipe on stdin was refused as 'got longer'
    os.mkfifo(tmp_path / "fifo")
    for special, stdin in ((str(tmp_path / "fifo"), b""), ("/dev/stdin", b"piped bytes")):
        r = run_cli(env, "attach", "add", "Keys", special, "--name", "x", stdin=stdin, timeout=30)
        assert r.returncode == 2 and "is not a regular file" in r.stderr, r.stderr
    assert [
        a["name"] for a in json.loads(run_cli(env, "attach", "ls", "Keys", "--json").stdout)
    ] == ["id_ed25519"]


# -- backups and export ------------------------------------------------------------------------
def test_a_backup_carries_the_files_and_restores_them_with_the_old_password(
    vault: Vault, tmp_path: Path
) -> None:
    from vault import backup

    rid = vault.find("GitHub")
    data = os.urandom(1_300_000)
    src = tmp_path / "codes.pdf"
    src.write_bytes(data)
    att = attachstore.add(vault, rid, src)
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    raw = path.read_bytes()
    assert raw[4] == 2 and b"codes.pdf" not in raw and data[:64] not in raw
    vault.change_password("a brand new password for later")
    restored, _ = backup.restore_into_new_home(tmp_path / "new", path, PW)
    out = io.BytesIO()
    attachstore.read(restored, attachstore.find(restored, rid, "codes.pdf"), out)
    assert out.getvalue() == data
    # restoring into the original device after losing the blob brings it back
    attachstore.blob_dir(vault).remove(att.blob)
    vault.unlock("a brand new password for later")
    backup.restore_backup(vault, path, PW)
    out = io.BytesIO()
    attachstore.read(vault, att, out)
    assert out.getvalue() == data


def test_a_changed_blob_in_a_backup_is_refused_and_not_stored(vault: Vault, tmp_path: Path) -> None:
    from vault import backup

    src = tmp_path / "f.bin"
    src.write_bytes(os.urandom(100_000))
    attachstore.add(vault, vault.find("GitHub"), src)
    path = tmp_path / "b.srbk"
    backup.create_backup(vault, path)
    raw = bytearray(path.read_bytes())
    raw[-500] ^= 0x01  # inside the blob
    path.write_bytes(bytes(raw))
    with pytest.raises(TamperError, match="failed authentication"):
        backup.restore_into_new_home(tmp_path / "new", path, PW)
    assert attachstore.BLOBS not in os.listdir(tmp_path / "new") or not os.listdir(
        tmp_path / "new" / attachstore.BLOBS
    )


def _backup_with_an_old_file(tmp_path: Path) -> tuple[dict[str, str], bytes, Path]:
    """A CLI home whose record had a file that was then removed (only a kept version names it),
    and a second, current one; its backup."""
    env = cli_env(_cli_home(tmp_path), PW)
    assert run_cli(env, "add", "login", "--title", "Bank").returncode == 0
    old, now = os.urandom(70_000), os.urandom(3000)
    (tmp_path / "old.pdf").write_bytes(old)
    (tmp_path / "now.txt").write_bytes(now)
    for step in (
        ("attach", "add", "Bank", str(tmp_path / "old.pdf")),
        ("attach", "rm", "Bank", "old.pdf"),
        ("attach", "add", "Bank", str(tmp_path / "now.txt")),
        ("backup", "create"),
    ):
        r = run_cli(env, *step)
        assert r.returncode == 0, r.stderr
    (path,) = (Path(env["STRONGROOM_HOME"]) / "backups").glob("*.srbk")
    return env, old, path


def test_a_restored_backup_keeps_the_files_of_kept_versions(tmp_path: Path) -> None:
    """The restore stored only the current records' files: a version's file was in the backup
    yet lost, and restoring that version said 'not on this device yet' for good."""
    _, old, path = _backup_with_an_old_file(tmp_path)
    env = cli_env(tmp_path / "new", PW)
    r = run_cli(env, "backup", "restore", str(path))
    assert r.returncode == 0, r.stderr
    r = run_cli(env, "history", "restore", "Bank", "2")  # created, old.pdf added, removed, now
    assert r.returncode == 0, r.stderr
    r = run_cli(env, "attach", "get", "Bank", "old.pdf", "-o", str(tmp_path / "back.pdf"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "back.pdf").read_bytes() == old


def test_a_damaged_backup_restores_nothing(tmp_path: Path) -> None:
    """A backup cut by its last byte, with a byte appended, or with one byte changed in a file's
    ciphertext: refused before any record is written (the new home had its records and exit 3,
    or a cut inside a file no record named restored with exit 0)."""
    env, _, path = _backup_with_an_old_file(tmp_path)
    raw = path.read_bytes()
    last = raw.rfind(b"SRAT")  # the last blob's header; a chunk's ciphertext follows it
    flipped = bytearray(raw)
    flipped[last + 40] ^= 0x01
    before = run_cli(env, "history", "Bank", "--json").stdout
    for i, bad in enumerate((raw[:-1], raw + b"\0", bytes(flipped))):
        damaged = tmp_path / f"damaged-{i}.srbk"
        damaged.write_bytes(bad)
        fresh = cli_env(tmp_path / f"new-{i}", PW)
        r = run_cli(fresh, "backup", "restore", str(damaged))
        assert r.returncode == 3, (i, r.stderr)
        assert run_cli(fresh, "ls").returncode != 0  # no account was made there
        r = run_cli(env, "backup", "restore", str(damaged))
        # the changed file's good bytes are already here (it is not read again): nothing to refuse
        assert r.returncode == (0 if i == 2 else 3), (i, r.stderr)
        assert run_cli(env, "history", "Bank", "--json").stdout == before
        r = run_cli(fresh, "backup", "restore", str(path))  # the good one still restores there
        assert r.returncode == 0, r.stderr
    r = run_cli(env, "backup", "restore", "/dev/zero")  # said 'no backup file at /dev/zero'
    assert r.returncode == 2 and "is not a regular file" in r.stderr, r.stderr
    r = run_cli(env, "backup", "restore", str(tmp_path))
    assert r.returncode == 2 and "is a folder, not a backup file" in r.stderr, r.stderr


def test_export_writes_the_files_beside_the_json(vault: Vault, tmp_path: Path) -> None:
    from vault.export import export_vault

    rid = vault.find("GitHub")
    for name, body in (("a.txt", b"first"), ("b.bin", os.urandom(3000))):
        (tmp_path / name).write_bytes(body)
        attachstore.add(vault, rid, tmp_path / name)
    out = tmp_path / "export" / "vault.json"
    out.parent.mkdir()
    outcome = export_vault(vault, "json", out)
    assert outcome.files == 2 and "2 attachments" in outcome.message()
    (rec,) = json.loads(out.read_text())["records"]
    files = {a["name"]: a["file"] for a in rec["attachments"]}
    assert files["a.txt"] == f"vault-attachments/{rid}/a.txt"
    for name, rel in files.items():
        assert (out.parent / rel).read_bytes() == (tmp_path / name).read_bytes()
        assert (out.parent / rel).stat().st_mode & 0o777 == 0o600


def test_a_blob_copied_between_folders_is_byte_exact_from_any_reader(tmp_path: Path) -> None:
    """copy_in copies a file in the kernel from where the reader stands, even when the reader
    has read ahead and sought back inside its buffer (as the address check does), and any other
    reader by hand; a copy whose bytes do not carry the name is refused and nothing is named."""
    from vault.blobs import BlobDir

    blob = _seal(os.urandom(3 * 4096 + 17))
    name = fmt.address_of(io.BytesIO(blob))
    src = tmp_path / "src.blob"
    src.write_bytes(b"x" * 100 + blob)
    with open(src, "rb") as f:
        f.read(150)  # the buffer now holds more than this
        f.seek(100)  # inside the buffer: the descriptor's own position is elsewhere
        BlobDir(tmp_path / "a").copy_in(f, name)
    assert (tmp_path / "a" / name).read_bytes() == blob
    BlobDir(tmp_path / "b").copy_in(io.BytesIO(blob), name)
    assert (tmp_path / "b" / name).read_bytes() == blob
    with open(src, "rb") as f, pytest.raises(TamperError):
        BlobDir(tmp_path / "c").copy_in(f, name)  # from the file's start: not the blob
    assert [p.name for p in (tmp_path / "c").iterdir()] == []
