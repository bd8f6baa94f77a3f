"""Offline breach check: a file in Have I Been Pwned's SHA-1 'ordered by hash' format, built
here, searched by binary search (CLI through the agent and with the password; the app's Security
Center with the remembered file)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from clikit import account_home, cli_env, run_cli, short_runtime_dir
from hypothesis import given, settings
from hypothesis import strategies as st
from pilotkit import on_screen, unlock
from textual.widgets import Static

from vault.breaches import BreachFile
from vault.errors import InvalidInputError
from vault.records import new_record

PASSWORD = "breach test password"
BREACHED = {"password123": 2_254_650, "letmein": 1_046, "hunter2": 17}


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest().upper()


def write_hibp(path: Path, counts: dict[str, int], filler: int = 5000) -> Path:
    """HASH:COUNT lines, CRLF, sorted by hash, as the downloader writes them; `filler` other
    random hashes around the given ones."""
    rows = {_sha1(p): c for p, c in counts.items()}
    for i in range(filler):
        rows.setdefault(hashlib.sha1(f"filler {i}".encode()).hexdigest().upper(), i % 97 + 1)
    path.write_bytes(b"".join(f"{h}:{c}\r\n".encode() for h, c in sorted(rows.items())))
    return path


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.binary(min_size=20, max_size=20), st.integers(1, 10**9), min_size=1, max_size=40
    ),
    st.lists(st.binary(min_size=20, max_size=20), max_size=10),
)
def test_every_listed_hash_is_found_with_its_count_and_no_other(
    tmp_path_factory: pytest.TempPathFactory, listed: dict[bytes, int], others: list[bytes]
) -> None:
    path = tmp_path_factory.mktemp("hibp") / "pwned.txt"
    rows = sorted((d.hex().upper(), c) for d, c in listed.items())
    path.write_bytes(b"".join(f"{h}:{c}\r\n".encode() for h, c in rows))
    with BreachFile(path) as breaches:
        for h, c in rows:
            assert breaches.count_hash(h.encode()) == c
        for d in others:
            if d not in listed:
                assert breaches.count_hash(d.hex().upper().encode()) == 0


def test_passwords_are_looked_up_in_a_large_file(tmp_path: Path) -> None:
    path = write_hibp(tmp_path / "pwned.txt", BREACHED, filler=100_000)
    assert path.stat().st_size > 4_000_000
    with BreachFile(path) as breaches:
        for pw, count in BREACHED.items():
            assert breaches.count(pw) == count
        assert breaches.count("a long passphrase nobody ever used 8c1f") == 0


def test_a_file_of_another_format_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "words.txt"
    other.write_text("password\nletmein\n")
    with pytest.raises(InvalidInputError, match="not a Have I Been Pwned SHA-1 file"):
        BreachFile(other)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(min_size=3, max_size=3), min_size=1, max_size=30, unique=True),
    st.integers(0, 10**6),
)
def test_a_cut_download_finds_every_whole_line_or_is_refused(
    tmp_path_factory: pytest.TempPathFactory, digests: list[bytes], cut_at: int
) -> None:
    """A download cut anywhere: every line still whole is found with its count, nothing else is
    (a cut last line used to sort before the hashes above it, so one listed just before it was
    reported as never seen); a cut inside the first line is refused."""
    rows = sorted("AB" * 17 + d.hex().upper() for d in digests)  # neighbours share a prefix
    full = b"".join(f"{h}:{i + 1}\r\n".encode() for i, h in enumerate(rows))
    data = full[: cut_at % (len(full) + 1)]
    path = tmp_path_factory.mktemp("hibp") / "pwned.txt"
    path.write_bytes(data)
    try:
        breaches = BreachFile(path)
    except InvalidInputError:
        assert len(data) < 43  # not even one whole line
        return
    with breaches:
        for i, h in enumerate(rows):
            if f"{h}:{i + 1}\r\n".encode() in data:
                assert breaches.count_hash(h.encode()) == i + 1
            elif f"{h}:".encode() not in data:  # (a hash whole with its count cut: either)
                assert breaches.count_hash(h.encode()) == 0


def test_empty_unsorted_and_endless_breach_files_are_refused(tmp_path: Path) -> None:
    """An empty file (a failed download) answered 'seen 0 times' for every password; the
    'ordered by prevalence' download answered wrong silently; a FIFO or /dev/zero never
    returned."""
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(InvalidInputError, match="is empty"):
        BreachFile(tmp_path / "empty.txt")
    rows = {_sha1(f"p{i}"): (i * 7919) % 5000 + 1 for i in range(3000)} | {_sha1("hunter2"): 17}
    by_count = sorted(rows.items(), key=lambda r: -r[1])
    (tmp_path / "by-count.txt").write_bytes(b"".join(f"{h}:{c}\r\n".encode() for h, c in by_count))
    with pytest.raises(InvalidInputError, match="ordered by prevalence"):
        BreachFile(tmp_path / "by-count.txt")
    os.mkfifo(tmp_path / "fifo")
    for special in (tmp_path / "fifo", Path("/dev/zero")):
        with pytest.raises(InvalidInputError, match="not a regular file"):
            BreachFile(special)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return account_home(
        tmp_path / "home",
        PASSWORD,
        new_record("login", "Bank", {"username": "ann", "password": "password123"}),
        new_record("login", "Forum", {"username": "ann", "password": "hunter2"}),
        new_record("login", "Mail", {"username": "ann", "password": "vq8#Lr2!zP0w-Ke7uY"}),
    )


def test_cli_reports_counts_through_the_agent_and_with_the_password(
    home: Path, tmp_path: Path
) -> None:
    write_hibp(tmp_path / "pwned.txt", BREACHED)
    env = cli_env(home, XDG_RUNTIME_DIR=short_runtime_dir())
    with_pw = run_cli(
        env | {"STRONGROOM_PASSWORD": PASSWORD},
        "audit",
        "--breaches",
        "pwned.txt",
        "--json",
        cwd=tmp_path,
    )
    assert with_pw.returncode == 0, with_pw.stderr
    report = json.loads(with_pw.stdout)
    assert report["counts"]["breached"] == 2
    assert [(f["title"], f["seen"]) for f in report["breached"]] == [
        ("Bank", 2_254_650),
        ("Forum", 17),
    ]
    assert "password123" not in with_pw.stdout and _sha1("password123") not in with_pw.stdout
    assert run_cli(env | {"STRONGROOM_PASSWORD": PASSWORD}, "unlock").returncode == 0
    try:
        via_agent = run_cli(env, "audit", "--breaches", "pwned.txt", "--json", cwd=tmp_path)
        assert via_agent.returncode == 0, via_agent.stderr
        assert json.loads(via_agent.stdout)["breached"] == report["breached"]
        text = run_cli(env, "audit", "--breaches=pwned.txt", cwd=tmp_path)
        assert "Breached passwords (seen in known breaches): 2" in text.stdout
        assert "Bank" in text.stdout and "seen 2,254,650 times" in text.stdout
        plain = run_cli(env, "audit", "--json")
        assert "breached" not in json.loads(plain.stdout)  # not checked: not claimed clean
        bad = run_cli(env, "audit", "--breaches", str(tmp_path))
        assert bad.returncode == 2 and "is a folder" in bad.stderr
        cut = tmp_path / "cut.txt"  # the download stopped 10 characters into a line
        cut.write_bytes(f"{_sha1('hunter2')}:17\r\n{_sha1('hunter2')[:10]}".encode())
        found = run_cli(env, "audit", "--breaches", str(cut), "--json")
        assert [(f["title"], f["seen"]) for f in json.loads(found.stdout)["breached"]] == [
            ("Forum", 17)
        ]
        bad = run_cli(env, "audit", "--breaches", "/dev/zero")
        assert bad.returncode == 2 and "not a regular file" in bad.stderr
    finally:
        run_cli(env, "lock")


async def test_security_center_shows_breached_passwords(home: Path, tmp_path: Path) -> None:
    from tui.app import StrongroomApp
    from tui.screens.records import SecurityCenterScreen

    path = write_hibp(tmp_path / "pwned.txt", BREACHED)
    env = cli_env(home, PASSWORD)
    r = run_cli(env, "audit", "--breaches", str(path), "--remember")
    assert r.returncode == 0, r.stderr
    app = StrongroomApp(home=home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, PASSWORD)
        await pilot.press("s")
        await on_screen(pilot, SecurityCenterScreen)
        summary = app.screen.query_one("#summary", Static)
        for _ in range(200):
            if "breached" in str(summary.render()):
                break
            await pilot.pause(0.05)
        assert "2 breached" in str(summary.render())
    assert os.environ.get("STRONGROOM_PASSWORD") is None
