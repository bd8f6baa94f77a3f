"""Attachments through a real sync folder: two devices (two homes, the real CLI in its own
processes), byte-exact round trip, nothing readable in the folder, a changed blob refused, a large
file fetched on first ask, and a writer killed with SIGKILL mid-blob leaving nothing visible."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clikit import cli_env, run_cli

PW = "folder attachments password"
BLOB_NAME = re.compile(r"[0-9a-f]{64}")


def ok(home: Path, *args: str) -> str:
    r = run_cli(cli_env(home, PW), *args, cwd=home.parent)
    assert r.returncode == 0, f"{args}: {r.stderr}"
    return r.stdout


def get_bytes(home: Path, query: str, name: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "attach", "get", query, name],
        env=cli_env(home, PW),
        capture_output=True,
        check=False,
    )


@pytest.fixture
def devices(tmp_path: Path) -> tuple[Path, Path, Path, str]:
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "Dropbox"
    folder.mkdir()
    account = ok(a, "signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path)).strip()
    ok(a, "add", "login", "--title", "GitHub")
    ok(a, "sync", "folder", str(folder))
    kit = tmp_path / f"Strongroom-Authentication-Kit-{account}.png"
    ok(b, "signin", "--email", "ann@example.com", "--kit", str(kit), "--folder", str(folder))
    return a, b, folder, account


def _blobs(folder: Path, account: str) -> Path:
    return folder / account / "blobs"


def test_round_trip_and_nothing_readable_in_the_folder(
    devices: tuple[Path, Path, Path, str], tmp_path: Path
) -> None:
    a, b, folder, account = devices
    data = (b"SECRET-CONTENT-" * 300_000)[:4_000_000]  # 4 MB: four chunks and padding
    src = tmp_path / "recovery-codes-TOPNAME.pdf"
    src.write_bytes(data)
    ok(a, "attach", "add", "GitHub", str(src))
    ok(a, "sync", "now")
    names = os.listdir(_blobs(folder, account))
    assert len(names) == 1 and BLOB_NAME.fullmatch(names[0])
    ok(b, "sync", "now")
    got = get_bytes(b, "GitHub", "recovery-codes-TOPNAME.pdf")
    assert got.returncode == 0, got.stderr
    assert got.stdout == data
    captured = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    for clear in (b"TOPNAME", b"recovery", b"SECRET-CONTENT", b"GitHub", str(len(data)).encode()):
        assert clear not in captured
    # the blob's length tells a bucket, not the size
    assert (_blobs(folder, account) / names[0]).stat().st_size > len(data) + 16 * 4


def test_a_changed_blob_in_the_folder_is_refused_and_never_stored(
    devices: tuple[Path, Path, Path, str], tmp_path: Path
) -> None:
    a, b, folder, account = devices
    data = os.urandom(50_000)
    src = tmp_path / "ssh.key"
    src.write_bytes(data)
    ok(a, "attach", "add", "GitHub", str(src))
    ok(a, "sync", "now")
    (blob,) = _blobs(folder, account).iterdir()
    raw = bytearray(blob.read_bytes())
    raw[20_000] ^= 0x01
    blob.write_bytes(bytes(raw))
    synced = run_cli(cli_env(b, PW), "sync", "now")
    assert synced.returncode == 0 and "failed authentication" in synced.stdout + synced.stderr
    assert not (b / "blobs").exists() or os.listdir(b / "blobs") == []
    # damaged for good: taken out of the folder, so the device that has the file sends it again
    # (it stayed, every device failed on it at every sync and A never sent it again)
    assert "damaged copy was removed" in synced.stderr and not blob.exists()
    got = get_bytes(b, "GitHub", "ssh.key")
    assert got.returncode == 2 and b"not on this device yet" in got.stderr
    assert got.stdout == b""
    ok(a, "sync", "now")
    ok(b, "sync", "now")
    assert get_bytes(b, "GitHub", "ssh.key").stdout == data


def test_a_cut_blob_in_the_folder_is_sent_again(
    devices: tuple[Path, Path, Path, str], tmp_path: Path
) -> None:
    """A blob cut short in the folder (an interrupted copy by a folder sync tool), and one
    holding another blob's bytes: the device that reads it removes it, the owner sends it again."""
    a, b, folder, account = devices
    files = {"one.bin": os.urandom(70_000), "two.bin": os.urandom(3_000)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        ok(a, "attach", "add", "GitHub", str(tmp_path / name))
    ok(a, "sync", "now")
    big, small = sorted(_blobs(folder, account).iterdir(), key=lambda p: -p.stat().st_size)
    big.write_bytes(big.read_bytes()[:30_000])
    small.write_bytes(big.read_bytes())  # another blob's (cut) bytes under its name
    first = run_cli(cli_env(b, PW), "sync", "now")
    assert first.returncode == 0 and first.stderr.count("damaged copy was removed") == 2, first
    ok(a, "sync", "now")
    ok(b, "sync", "now")
    for name, data in files.items():
        assert get_bytes(b, "GitHub", name).stdout == data


def test_a_large_file_comes_down_on_first_ask(
    devices: tuple[Path, Path, Path, str], tmp_path: Path
) -> None:
    """The size setting as a person sets it (attach settings): B downloads files up to 1 MiB with
    every sync, so a 1.5 MB one comes down when first asked for; A's per-file limit refuses it
    clearly until raised."""
    a, b, folder, account = devices
    shown = json.loads(ok(b, "attach", "settings", "--json"))
    assert shown == {"fetch_mb": 16, "max_mb": 256}
    assert json.loads(ok(b, "attach", "settings", "--fetch-mb", "1", "--json"))["fetch_mb"] == 1
    assert "files up to 1 MiB with every sync" in ok(b, "attach", "settings")
    data = os.urandom(1_500_000)
    src = tmp_path / "scan.tiff"
    src.write_bytes(data)
    ok(a, "attach", "settings", "--max-mb", "1")
    over = run_cli(cli_env(a, PW), "attach", "add", "GitHub", str(src))
    assert over.returncode == 2, over.stderr
    assert "scan.tiff is 1.4 MiB; a file may be at most 1.0 MiB" in over.stderr
    assert "attach settings --max-mb" in over.stderr
    bad = run_cli(cli_env(a, PW), "attach", "settings", "--fetch-mb", "-1")
    assert bad.returncode == 2 and "--fetch-mb must be from 0 to 65536" in bad.stderr
    ok(a, "attach", "settings", "--max-mb", "2")
    ok(a, "attach", "add", "GitHub", str(src))
    ok(a, "sync", "now")
    ok(b, "sync", "now")
    listed = json.loads(ok(b, "attach", "ls", "GitHub", "--json"))
    assert [(r["name"], r["on_device"]) for r in listed] == [("scan.tiff", False)]
    got = get_bytes(b, "GitHub", "scan.tiff")
    assert got.returncode == 0 and got.stdout == data
    assert json.loads(ok(b, "attach", "ls", "GitHub", "--json"))[0]["on_device"] is True


def _killed_mid_blob(home: Path, blobs: Path, *args: str) -> bool:
    """Run `strongroom ARGS` and SIGKILL it the moment a blob's temp file shows in `blobs`; True
    when it was caught there, False when it finished first."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        env=cli_env(home, PW),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if blobs.is_dir() and any(p.name.startswith(".") for p in blobs.iterdir()):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.002)
    proc.wait()
    return False


def test_sigkill_mid_blob_leaves_no_partial_file_and_the_next_sync_completes(
    devices: tuple[Path, Path, Path, str], tmp_path: Path
) -> None:
    a, b, folder, account = devices
    data = os.urandom(24_000_000)
    src = tmp_path / "video.mp4"
    src.write_bytes(data)
    ok(a, "attach", "add", "GitHub", str(src))
    blobs = _blobs(folder, account)
    seen_temp = False
    for _ in range(5):  # the kill must land while the blob is being written
        seen_temp = _killed_mid_blob(a, blobs, "sync", "now")
        if seen_temp:
            break
        for p in blobs.iterdir():  # finished before the kill: start over with nothing there
            p.unlink()
    assert seen_temp, "the writer was never caught mid-blob"
    assert not [p for p in blobs.iterdir() if BLOB_NAME.fullmatch(p.name)]
    ok(b, "sync", "now")  # a reader meanwhile sees nothing under a blob name
    assert not (b / "blobs").exists() or os.listdir(b / "blobs") == []
    ok(a, "sync", "now")
    assert len([p for p in blobs.iterdir() if BLOB_NAME.fullmatch(p.name)]) == 1
    ok(b, "sync", "now")
    got = get_bytes(b, "GitHub", "video.mp4")
    assert got.returncode == 0 and got.stdout == data


def _named(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if BLOB_NAME.fullmatch(p.name)] if folder.is_dir() else []


def test_attach_add_writes_the_folder_copy_in_the_same_pass(
    devices: tuple[Path, Path, Path, str], tmp_path: Path
) -> None:
    """With folder sync on, `attach add` leaves the file's blob in the folder at once, identical to
    this device's, so the sync that follows copies nothing; the other device gets it from there."""
    a, b, folder, account = devices
    data = os.urandom(3_000_000)
    src = tmp_path / "passport.jpg"
    src.write_bytes(data)
    ok(a, "attach", "add", "GitHub", str(src))
    (mine,) = _named(a / "blobs")
    (theirs,) = _named(_blobs(folder, account))
    assert theirs.name == mine.name and theirs.read_bytes() == mine.read_bytes()
    assert theirs.stat().st_mode & 0o777 == 0o600
    assert not [p for p in _blobs(folder, account).iterdir() if p.name.startswith(".")]
    said = ok(a, "sync", "now")
    assert "sent" not in said or "0 files sent" in said, said
    ok(b, "sync", "now")
    got = get_bytes(b, "GitHub", "passport.jpg")
    assert got.returncode == 0 and got.stdout == data


def test_a_folder_away_during_add_gets_the_file_at_the_next_sync(
    devices: tuple[Path, Path, Path, str], tmp_path: Path
) -> None:
    """The folder copy is best effort: with the sync folder unplugged (renamed away) or its blobs
    folder unusable, the add still succeeds here, and the next sync with the folder back copies it."""
    a, b, folder, account = devices
    data = os.urandom(2_000_000)
    src = tmp_path / "keys.tar"
    src.write_bytes(data)
    away = tmp_path / "unplugged"
    folder.rename(away)
    ok(a, "attach", "add", "GitHub", str(src), "--name", "one.tar")
    away.rename(folder)
    blobs = _blobs(folder, account)
    blobs.parent.mkdir(exist_ok=True)
    if blobs.is_dir():
        os.rmdir(blobs)
    blobs.write_bytes(b"not a folder")  # the blobs folder cannot be made: the copy is left out
    ok(a, "attach", "add", "GitHub", str(src), "--name", "two.tar")
    assert len(_named(a / "blobs")) == 2
    blobs.unlink()
    ok(a, "sync", "now")
    assert len(_named(blobs)) == 2
    ok(b, "sync", "now")
    for name in ("one.tar", "two.tar"):
        got = get_bytes(b, "GitHub", name)
        assert got.returncode == 0 and got.stdout == data


def test_sigkill_mid_add_leaves_no_named_blob_anywhere(
    devices: tuple[Path, Path, Path, str], tmp_path: Path
) -> None:
    """`attach add` killed while it writes both copies: no blob name here or in the folder, the
    record names no file, and adding again works."""
    a, b, folder, account = devices
    data = os.urandom(24_000_000)
    src = tmp_path / "disk.img"
    src.write_bytes(data)
    blobs = _blobs(folder, account)
    caught = False
    for _ in range(5):
        caught = _killed_mid_blob(a, blobs, "attach", "add", "GitHub", str(src))
        if caught:
            break
        ok(a, "attach", "rm", "GitHub", "disk.img")  # finished first: start over
        for p in _named(blobs) + _named(a / "blobs"):
            p.unlink()
    assert caught, "the add was never caught mid-write"
    assert _named(blobs) == [] and _named(a / "blobs") == []
    assert json.loads(ok(a, "attach", "ls", "GitHub", "--json")) == []
    ok(a, "attach", "add", "GitHub", str(src))
    ok(a, "sync", "now")
    ok(b, "sync", "now")
    got = get_bytes(b, "GitHub", "disk.img")
    assert got.returncode == 0 and got.stdout == data
