"""Importers that can bring attachments bring them (issue 22 Build 1): a KeePass XML export's
binary pool (KeePassXC's own export of its test database; KeePass 2's gzip-compressed pool and an
inline value made from it) and a 1Password 1PUX export's Document file (KeePassXC's 1PUX test
export) become the records' files, byte-exact through `strongroom import` and `attach get`; what
cannot be had (bytes not in the export, damaged base64 or gzip, past the 256 MiB the files of one
export may take together) is named, the rest of the entry imported."""

from __future__ import annotations

import base64
import gzip
import os
import re
import zipfile
from pathlib import Path

import pytest
from clikit import cli_env, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.importers import read_file
from vault.importers.common import left_out
from vault.importers.sniff import candidates
from vault.importers.zipped import some_members

REAL = Path(__file__).parent / "data" / "import" / "real"
XML = REAL / "keepassxc-NewDatabase-export.xml"
PUX = REAL / "keepassxc-1PasswordExport.1pux"
PNG = "files/oakiw7lqbp53fgqrxrk63su2gu__keepassxc.png"
PASSWORD = "import attachments test password"


def _xml_variant(tmp_path: Path, pool: str, value: str = '<Value Ref="0"/>') -> Path:
    """KeePassXC's export with its pool's first binary and the entry's reference replaced."""
    text = XML.read_text()
    text = re.sub(r'<Binary ID="0">[^<]*</Binary>', pool, text, count=1)
    text = text.replace('<Value Ref="0"/>', value, 1)
    out = tmp_path / "variant.xml"
    out.write_text(text)
    return out


def _sample_files(report: object) -> list[tuple[str, bytes]]:
    files = report.files  # type: ignore[attr-defined]
    (rid,) = files
    sample = next(r for r in report.records if r.id == rid)  # type: ignore[attr-defined]
    assert sample.title == "Sample Entry"
    return list(files[rid])


def test_keepassxc_xml_export_brings_its_attachment() -> None:
    assert candidates(XML.read_bytes()[:4096])[0] == "keepass-xml"
    report = read_file("keepass-xml", XML)
    assert _sample_files(report) == [("Sample attachment.txt", b"Sample content\n")]
    assert not left_out(report.problems)


def test_keepass2_compressed_pool_and_inline_values(tmp_path: Path) -> None:
    packed = base64.b64encode(gzip.compress(b"gzipped %PDF bytes", mtime=0)).decode()
    report = read_file(
        "keepass-xml", _xml_variant(tmp_path, f'<Binary ID="0" Compressed="True">{packed}</Binary>')
    )
    assert _sample_files(report) == [("Sample attachment.txt", b"gzipped %PDF bytes")]
    inline = base64.b64encode(b"inline bytes").decode()
    report = read_file(
        "keepass-xml",
        _xml_variant(tmp_path, '<Binary ID="9">AA==</Binary>', f"<Value>{inline}</Value>"),
    )
    assert _sample_files(report) == [("Sample attachment.txt", b"inline bytes")]


@pytest.mark.parametrize(
    ("pool", "why"),
    [
        ('<Binary ID="0">not base64!</Binary>', "not valid base64"),
        ('<Binary ID="0" Compressed="True">AAAA</Binary>', "compressed bytes in the export are"),
        (
            '<Binary ID="0" Compressed="True">'
            + base64.b64encode(gzip.compress(b"x" * 5000, mtime=0)[:-20]).decode()
            + "</Binary>",
            "cut short",
        ),
        ('<Binary ID="7">AA==</Binary>', "its bytes are not in the file"),
    ],
)
def test_an_attachment_that_cannot_be_had_is_named_and_the_entry_imported(
    tmp_path: Path, pool: str, why: str
) -> None:
    report = read_file("keepass-xml", _xml_variant(tmp_path, pool))
    assert "Sample Entry" in {r.title for r in report.records}
    assert left_out(report.problems) == {"attachment": 1}
    assert any(why in p.reason and "Sample attachment.txt" in p.reason for p in report.problems)


def test_1pux_document_comes_along_byte_exact() -> None:
    report = read_file("1password-1pux", PUX)
    want = zipfile.ZipFile(PUX).read(PNG)
    (rid,) = report.files
    logo = next(r for r in report.records if r.id == rid)
    assert logo.title == "KeePassXC Logo"  # the entry KeePassXC's own test finds it on
    assert report.files[rid] == [("keepassxc.png", want)] and len(want) == 18422
    assert not left_out(report.problems)


def test_1pux_files_past_the_cap_are_named_not_the_import_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.1pux"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("files/a__one.bin", b"1" * 600)
        zf.writestr("files/b__two.bin", b"2" * 600)
    with path.open("rb") as f:
        got = some_members(f, "test export", {"files/a__one.bin", "files/b__two.bin"}, cap=1000)
    assert got["files/a__one.bin"] == b"1" * 600
    assert "pass 256 MiB together" in str(got["files/b__two.bin"])


def test_cli_imports_them_and_attach_get_gives_the_bytes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = cli_env(home, PASSWORD)
    r = run_cli(env, "signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    for path, fmt in ((XML, "keepass-xml"), (PUX, "1password-1pux")):
        r = run_cli(env, "import", fmt, str(path))
        assert r.returncode == 0 and "Not imported" not in r.stdout, (r.stdout, r.stderr)
    out = tmp_path / "got.txt"
    got = run_cli(env, "attach", "get", "Sample Entry", "Sample attachment.txt", "-o", str(out))
    assert got.returncode == 0, got.stderr
    assert out.read_bytes() == b"Sample content\n"
    png = tmp_path / "logo.png"
    got = run_cli(env, "attach", "get", "KeePassXC Logo", "keepassxc.png", "-o", str(png))
    assert got.returncode == 0, got.stderr
    assert png.read_bytes() == zipfile.ZipFile(PUX).read(PNG)


# -- strongroom-json: our own export's files beside the JSON -------------------------------------
def test_our_export_round_trips_its_files_into_a_new_vault(tmp_path: Path) -> None:
    """export --format json writes the files beside the JSON; importing that JSON into another
    vault brings them back byte-exact (it used to drop them without a word)."""
    import os

    a, b = tmp_path / "a", tmp_path / "b"
    for home, email in ((a, "ann@example.com"), (b, "bob@example.com")):
        r = run_cli(cli_env(home, PASSWORD), "signup", "--email", email, "--kit-dir", str(home))
        assert r.returncode == 0, r.stderr
    env_a, env_b = cli_env(a, PASSWORD), cli_env(b, PASSWORD)
    assert run_cli(env_a, "add", "login", "--title", "Bank").returncode == 0
    data = os.urandom(200_000)
    src = tmp_path / "statement.pdf"
    src.write_bytes(data)
    assert run_cli(env_a, "attach", "add", "Bank", str(src)).returncode == 0
    out = tmp_path / "export" / "vault.json"
    out.parent.mkdir()
    r = run_cli(env_a, "export", "--format", "json", str(out), "--yes")
    assert r.returncode == 0, r.stderr
    r = run_cli(env_b, "import", "strongroom-json", str(out))
    assert r.returncode == 0 and "Not imported" not in r.stdout, (r.stdout, r.stderr)
    got = tmp_path / "got.pdf"
    r = run_cli(env_b, "attach", "get", "Bank", "statement.pdf", "-o", str(got))
    assert r.returncode == 0, r.stderr
    assert got.read_bytes() == data


def test_files_with_long_names_export_and_come_back(tmp_path: Path) -> None:
    """An attachment name may be 255 characters; 200 '€' are 600 bytes, over the 255 a file name
    may take, and the whole JSON export failed ('File name too long', no JSON). Now the file
    beside the export is named shorter and the name itself comes back on import."""
    a, b = tmp_path / "a", tmp_path / "b"
    for home, email in ((a, "ann@example.com"), (b, "bob@example.com")):
        r = run_cli(cli_env(home, PASSWORD), "signup", "--email", email, "--kit-dir", str(home))
        assert r.returncode == 0, r.stderr
    env_a, env_b = cli_env(a, PASSWORD), cli_env(b, PASSWORD)
    assert run_cli(env_a, "add", "login", "--title", "Bank").returncode == 0
    names = {"€" * 200 + ".pdf": os.urandom(1000), "é" * 254: os.urandom(10), "x.pdf": b"1"}
    for name, data in names.items():
        (tmp_path / "src").write_bytes(data)
        r = run_cli(env_a, "attach", "add", "Bank", str(tmp_path / "src"), "--name", name)
        assert r.returncode == 0, r.stderr
    out = tmp_path / "export" / "vault.json"
    out.parent.mkdir()
    r = run_cli(env_a, "export", "--format", "json", str(out), "--yes")
    assert r.returncode == 0, r.stderr
    on_disk = [p.name for p in (out.parent / "vault-attachments").rglob("*") if p.is_file()]
    assert len(on_disk) == 3 and all(len(n.encode()) <= 200 for n in on_disk), on_disk
    assert any(n.endswith("€.pdf") for n in on_disk)  # shortened, its extension kept
    r = run_cli(env_b, "import", "strongroom-json", str(out))
    assert r.returncode == 0 and "Not imported" not in r.stdout, (r.stdout, r.stderr)
    for i, (name, data) in enumerate(names.items()):
        got = tmp_path / f"got{i}"
        r = run_cli(env_b, "attach", "get", "Bank", name, "-o", str(got))
        assert r.returncode == 0, r.stderr
        assert got.read_bytes() == data


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=255), st.sets(st.text(max_size=20), max_size=5))
def test_a_disk_name_always_fits(name: str, used: set[str]) -> None:
    from vault.export import MAX_NAME_BYTES, _disk_name

    got = _disk_name(name, "0123456789abcdef", {u.lower() for u in used})
    assert got and len(got.encode("utf-8", "surrogatepass")) <= MAX_NAME_BYTES
    assert got.lower() not in {u.lower() for u in used} or got.startswith("01234567-")


def _our_json(tmp_path: Path, file: object) -> Path:
    import json

    entry: dict[str, object] = {"name": "codes.txt", "size": 5}
    if file is not None:
        entry["file"] = file
    doc = {
        "format": "strongroom-json",
        "version": 1,
        "records": [
            {
                "id": "0123456789abcdef",
                "type": "login",
                "title": "Bank",
                "fields": [],
                "notes": "",
                "tags": [],
                "favorite": False,
                "created": 1_700_000_000,
                "modified": 1_700_000_000,
                "history": [],
                "attachments": [entry],
            }
        ],
    }
    path = tmp_path / "export" / "vault.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("file", "why"),
    [
        ("../outside.txt", "leads out of the export's folder"),
        ("/etc/passwd", "leads out of the export's folder"),
        ("vault-attachments/none.txt", "is not beside the export"),
        (None, "the exporting device did not have its bytes"),
        ("link.txt", "leads out of the export's folder"),  # a symlink to a file outside
        ("fifo", "fifo is not a regular file"),  # a FIFO beside it: opening it waited forever
    ],
)
def test_files_the_json_names_outside_its_folder_or_missing_are_named_not_read(
    tmp_path: Path, file: object, why: str
) -> None:
    (tmp_path / "outside.txt").write_text("not yours")
    path = _our_json(tmp_path, file)
    (path.parent / "link.txt").symlink_to(tmp_path / "outside.txt")
    os.mkfifo(path.parent / "fifo")
    report = read_file("strongroom-json", path)
    assert [r.title for r in report.records] == ["Bank"] and report.files == {}
    assert left_out(report.problems) == {"attachment": 1}
    assert any(why in p.reason for p in report.problems)


def test_files_beside_json_read_from_a_stream_are_named(tmp_path: Path) -> None:
    from vault.importers import read_stream

    path = _our_json(tmp_path, "codes.txt")
    (path.parent / "codes.txt").write_text("12345")
    assert read_file("strongroom-json", path).files == {
        "0123456789abcdef": [("codes.txt", b"12345")]
    }
    with path.open("rb") as f:
        report = read_stream("strongroom-json", f)
    assert report.files == {} and "not read from a file" in report.problems[0].reason
