"""Files locked with their own secret: KeePass databases (.kdbx, KDBX 3.1 and 4, password and/or
key file) and password-protected Bitwarden exports (PBKDF2 and Argon2id), read from real sample
files of KeePassXC's and pykeepass's test suites with their published passwords
(tests/data/SOURCES.md); the secret from STRONGROOM_IMPORT_PASSWORD or a hidden prompt, a wrong
one exit 3."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from clikit import cli_env, run_cli, run_on_terminal

from vault.errors import FileSecretNeededError, FormatError, WrongFileSecretError
from vault.importers import ImportReport, read_file
from vault.importers.common import left_out
from vault.importers.secret import FileSecret
from vault.importers.sniff import guess_bytes
from vault.records import Record
from vault.templates import FieldKind
from vault.totp import parse_totp, totp_code

REAL = Path(__file__).parent / "data" / "import" / "real"
PASSWORD = "locked import test password"
#: Each real database: (password, key file or None, number of entries outside the recycle bin).
KDBX = {
    "keepassxc-Format300.kdbx": ("a", None, 1),  # KDBX 3.0, AES-KDF
    "keepassxc-NewDatabase.kdbx": ("a", None, 2),  # KDBX 3.1: groups, TOTP, history, attachment
    "keepassxc-NonAscii.kdbx": ("\u0394\u00f6\u0636", None, 1),  # KDBX 3.1, non-ASCII password
    "keepassxc-Format400.kdbx": ("t", None, 1),  # KDBX 4, Argon2d + ChaCha20, attachment
    "keepassxc-KeyFileProtected.kdbx": ("a", "keepassxc-KeyFileProtected.key", 2),
    "keepassxc-KeyFileProtectedNoPassword.kdbx": (
        None,
        "keepassxc-KeyFileProtectedNoPassword.key",
        2,
    ),
    "pykeepass-test3.kdbx": ("password", "pykeepass-test3.key", 15),  # KDBX 3.1, XML key file
    "pykeepass-test4.kdbx": ("password", "pykeepass-test4.key", 15),  # KDBX 4, binary key file
    "pykeepass-test4_keyx.kdbx": ("password", "pykeepass-test4_keyx.keyx", 1),  # .keyx v2.0
    "pykeepass-test4_argon2id.kdbx": ("password", None, 0),  # KDBX 4, Argon2id, empty
    # pass-import's: its 14 main entries, four TOTP plugins' settings, two attachments
    "passimport-keepass.kdbx": ("correct horse battery staple", None, 18),
}
BITWARDEN = [
    "keepassxc-bitwarden_encrypted_export.json",  # kdfType 0: PBKDF2-SHA256, 100,000 rounds
    "keepassxc-bitwarden_encrypted_argon2id_export.json",  # kdfType 1: Argon2id 64 MiB, t=3, p=4
]


def _secret(name: str) -> FileSecret:
    password, key, _ = KDBX[name]
    return FileSecret(password, (REAL / key).read_bytes() if key else None)


def _kdbx(name: str) -> ImportReport:
    return read_file("keepass-kdbx", REAL / name, _secret(name))


def _titles(report: ImportReport) -> dict[str, Record]:
    return {r.title: r for r in report.records}


# -- KeePass databases ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(KDBX))
def test_every_real_kdbx_opens_with_its_secret_and_is_guessed(name: str) -> None:
    report = _kdbx(name)
    assert len(report.records) == KDBX[name][2]
    assert guess_bytes((REAL / name).read_bytes()[:64]) == "keepass-kdbx"
    for rec in report.records:  # every password is a concealed field with its plain value
        password = [f for f in rec.fields if f.name == "password"]
        assert all(f.kind is FieldKind.SECRET and f.value for f in password)


def test_kdbx_3_groups_totp_attachment_and_times() -> None:
    """KeePassXC's NewDatabase.kdbx: a group path becomes the tag, KeePassXC's TOTP Seed and
    Settings give the codes KeePassXC shows, the attachment is named as not imported."""
    report = _kdbx("keepassxc-NewDatabase.kdbx")
    sample, bank = report.records
    assert (sample.title, sample.value("username"), sample.value("password")) == (
        "Sample Entry",
        "User Name",
        "Password",
    )
    assert sample.value("url") == "http://www.somesite.com/" and sample.notes == "Notes"
    assert bank.tags == ("Homebanking/Subgroup",) and bank.value("password") == "SecurePassword"
    spec = parse_totp(sample.value("totp") or "")
    seed = base64.b32decode("HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ")
    assert (spec.secret, spec.period, spec.digits) == (seed, 30, 6)
    assert len(totp_code(spec, 1_700_000_000)) == 6
    assert {"TestAttribute1": "b", "testattribute1": "a"}.items() <= {
        f.name: f.value for f in sample.fields
    }.items()
    assert not left_out(report.problems)  # the attachment comes along (imported as a file)
    assert report.files == {sample.id: [("Sample attachment.txt", b"Sample content\n")]}
    assert sample.created == 1283804904.0 and sample.modified > sample.created


def test_kdbx_4_protected_custom_field_is_concealed_and_attachment_kept() -> None:
    report = _kdbx("keepassxc-Format400.kdbx")
    (rec,) = report.records
    assert report.files == {rec.id: [("Format400", b"Format400\n")]}  # as KeePassXC's test says
    assert (rec.title, rec.value("username")) == ("Format400", "Format400")
    custom = {f.name: f for f in rec.fields}["Format400"]
    assert custom.value == "Format400" and custom.kind is FieldKind.SECRET


def test_kdbx_tags_otp_history_and_field_references() -> None:
    """pykeepass's test4.kdbx: KeePass tags, an otp link, a replaced password in the history,
    and {REF:…} field references shown as the values they point at (as KeePass shows them)."""
    report = _kdbx("pykeepass-test4.kdbx")
    titles = _titles(report)
    entry = report.records[1]  # the root group's foobar_entry (two more are in groups)
    assert entry.title == "foobar_entry"
    assert set(entry.tags) == {"tag1", "tag2"}
    assert parse_totp(entry.value("totp") or "").issuer == "foobar_entry"
    assert {f.name: f.value for f in entry.fields}["multiline"] == "hello\nworld"
    clone = titles["foobar_entry - Clone with prefix and suffix"]
    assert clone.value("username") == "domain\\foobar2" and clone.value("password") == "AfoobarBC"
    assert [[f.value for f in h.fields] for h in clone.history] == [["foobar"]]
    assert titles["foobar_entry - Clone"].value("username") == "foobar"
    assert titles["Тест"].tags == ("Работа",)
    assert titles["subentry"].tags == ("foobar_group/subgroup",)


def test_kdbx_totp_of_four_keepass_plugins_and_two_attachments() -> None:
    """pass-import's keepass.kdbx against its reference (tests/assets/references/
    keepass-kdbx.yml): KeePass 2.47's, KeeWeb's and Tray TOTP's settings give the codes of the
    reference's otpauth links; KeeTrayTOTP's Steam setting (digits "s": Steam's own 5-character
    codes) is kept concealed and said, not dropped; aib's pass.png and tomb.jpg are its files;
    the replaced ovh.com password is in that entry's history."""
    report = _kdbx("passimport-keepass.kdbx")
    titles = _titles(report)
    at = 1_700_000_000
    reference = {
        "KeePass 2.47": "otpauth://totp/totp-secret?secret=JBSWY3DPEHPK3PXP&issuer=Imported&digits=6&period=30",
        "Tray TOTP": "otpauth://totp/totp-secret?secret=giqavhvnaswlozlj457dpdsoz5tcnhov&issuer=Imported&digits=6&period=30",
        "KeeWeb": "otpauth://totp/test?secret=vvtvjpfe6hlcoyo3dwdd3cse6xwtlwl4rmjuu3pqyc7x236jtmuvavwe&digits=6&period=30",
    }  # fmt: skip
    for title, link in reference.items():
        mine = parse_totp(titles[title].value("totp") or "")
        assert totp_code(mine, at) == totp_code(parse_totp(link), at), title
    steam = titles["KeeTrayTOTP - Steam"]
    kept = steam.field("one-time password (not recognised)")
    assert kept is not None and kept.kind is FieldKind.SECRET and "JBSWY3DPEHPK3PXP" in kept.value
    assert any("TOTP secret not recognised" in p.reason for p in report.problems)
    files = report.files[titles["aib"].id]
    assert [(name, data[:4], len(data)) for name, data in files] == [
        ("pass.png", b"\x89PNG", 36235),
        ("tomb.jpg", b"\xff\xd8\xff\xe0", 10330),
    ]
    ovh = [r for r in report.records if r.title == "ovh.com" and r.history]
    assert len(ovh) == 1 and ovh[0].value("username") == "bynbyjhqjz"


def test_kdbx_without_a_secret_asks_and_a_wrong_one_is_refused() -> None:
    path = REAL / "keepassxc-Format400.kdbx"
    with pytest.raises(FileSecretNeededError) as need:
        read_file("keepass-kdbx", path)
    assert need.value.key_file
    with pytest.raises(WrongFileSecretError, match="does not open"):
        read_file("keepass-kdbx", path, FileSecret("not it"))
    key = (REAL / "keepassxc-KeyFileProtected.key").read_bytes()
    with pytest.raises(FileSecretNeededError, match="needs its password too"):
        read_file("keepass-kdbx", REAL / "keepassxc-KeyFileProtected.kdbx", FileSecret(None, key))
    with pytest.raises(WrongFileSecretError, match="key file"):
        read_file("keepass-kdbx", REAL / "keepassxc-KeyFileProtected.kdbx", FileSecret("a"))
    other = (REAL / "pykeepass-test4.key").read_bytes()
    with pytest.raises(WrongFileSecretError):
        read_file("keepass-kdbx", REAL / "keepassxc-KeyFileProtected.kdbx", FileSecret("a", other))


def test_damaged_and_keepass_1_files_are_refused_plainly(tmp_path: Path) -> None:
    data = (REAL / "keepassxc-Format400.kdbx").read_bytes()
    for cut in (12, 200, len(data) - 40):
        damaged = tmp_path / f"cut{cut}.kdbx"
        damaged.write_bytes(data[:cut])
        with pytest.raises(FormatError):
            read_file("keepass-kdbx", damaged, FileSecret("t"))
    flipped = bytearray(data)
    flipped[-100] ^= 1
    (tmp_path / "flipped.kdbx").write_bytes(bytes(flipped))
    with pytest.raises(FormatError):
        read_file("keepass-kdbx", tmp_path / "flipped.kdbx", FileSecret("t"))
    kdb = tmp_path / "old.kdb"
    kdb.write_bytes(bytes.fromhex("03d9a29a65fb4bb5") + bytes(120))
    assert guess_bytes(kdb.read_bytes()) == "keepass-kdbx"
    with pytest.raises(FormatError, match="KeePass 1"):
        read_file("keepass-kdbx", kdb, FileSecret("a"))
    with pytest.raises(FormatError, match="signature"):
        read_file("keepass-kdbx", REAL / "keepassxc-bitwarden_encrypted_export.json")


def test_recycle_bin_entries_are_left_out(tmp_path: Path) -> None:
    from pykeepass import create_database

    path = tmp_path / "bin.kdbx"
    kp = create_database(str(path), password="bin")
    kept = kp.add_entry(kp.root_group, "kept", "ann", "pw1")
    gone = kp.add_entry(kp.root_group, "gone", "bob", "pw2")
    kp.trash_entry(gone)
    kp.save()
    assert kept is not None
    assert [r.title for r in read_file("keepass-kdbx", path, FileSecret("bin")).records] == ["kept"]


# -- password-protected Bitwarden exports ---------------------------------------------------------
@pytest.mark.parametrize("name", BITWARDEN)
def test_password_protected_bitwarden_exports_decrypt(name: str) -> None:
    """KeePassXC's test exports (password 'a'): the same item as its plain export."""
    assert guess_bytes((REAL / name).read_bytes()) == "bitwarden-json"
    report = read_file("bitwarden-json", REAL / name, FileSecret("a"))
    (rec,) = report.records
    assert (rec.title, rec.value("username"), rec.value("password")) == (
        "KeePassXC",
        "keepassxc",
        "TYsbQUyeD3qrav",
    )
    assert rec.value("url") == "https://keepassxc.org" and rec.notes == "KeePassXC password manager"
    with pytest.raises(WrongFileSecretError, match="export password|password given"):
        read_file("bitwarden-json", REAL / name, FileSecret("b"))
    with pytest.raises(FileSecretNeededError):
        read_file("bitwarden-json", REAL / name)


def _changed(doc: dict[str, object], tmp_path: Path, **changes: object) -> Path:
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(doc | changes))
    return path


def test_bitwarden_locked_export_damage_and_costs_are_refused(tmp_path: Path) -> None:
    doc = json.loads((REAL / BITWARDEN[0]).read_text())
    iv, ct, mac = doc["data"][2:].split("|")
    other = base64.b64encode(bytes(32)).decode()
    for changes, words in (
        ({"data": f"2.{iv}|{ct}|{other}"}, "changed after"),
        ({"kdfIterations": 10**9}, "outside"),
        ({"kdfType": 1, "kdfMemory": 1 << 20, "kdfParallelism": 4, "kdfIterations": 3}, "outside"),
        ({"kdfType": 7}, "only PBKDF2"),
        ({"salt": None}, "salt"),
        ({"data": "2.x|y"}, "cipher string"),
    ):
        with pytest.raises(FormatError, match=words):
            read_file("bitwarden-json", _changed(doc, tmp_path, **changes), FileSecret("a"))
    restricted = {k: v for k, v in doc.items() if k != "passwordProtected"}
    (tmp_path / "restricted.json").write_text(json.dumps(restricted))
    with pytest.raises(FormatError, match="account restricted.*Password protected"):
        read_file("bitwarden-json", tmp_path / "restricted.json", FileSecret("a"))


# -- the CLI -------------------------------------------------------------------------------------
@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    r = run_cli(
        cli_env(h, PASSWORD), "signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path)
    )
    assert r.returncode == 0, r.stderr
    return h


def _one_line(r: object, code: int, *words: str) -> str:
    rc, err = r.returncode, r.stderr  # type: ignore[attr-defined]
    assert rc == code, (rc, r.stdout, err)  # type: ignore[attr-defined]
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]
    return str(lines[0])


def test_cli_kdbx_with_env_password_and_key_file(home: Path) -> None:
    path = REAL / "keepassxc-KeyFileProtected.kdbx"
    key = str(REAL / "keepassxc-KeyFileProtected.key")
    env = cli_env(home, PASSWORD, STRONGROOM_IMPORT_PASSWORD="a")
    r = run_cli(env, "import", str(path), "--key-file", key)
    assert r.returncode == 0, r.stderr
    assert "KeePass / KeePassXC database (.kdbx) (keepass-kdbx), guessed" in r.stdout
    assert "Imported 2 records" in r.stdout and "a\n" not in r.stdout
    # a wrong password: exit 3, one line, nothing imported
    wrong = cli_env(home, PASSWORD, STRONGROOM_IMPORT_PASSWORD="b")
    _one_line(run_cli(wrong, "import", str(path), "--key-file", key), 3, "do not open", "nothing")
    # no password, no terminal: exit 2 naming how to give it
    _one_line(
        run_cli(
            cli_env(home, PASSWORD),
            "import",
            "keepass-kdbx",
            str(REAL / "keepassxc-Format400.kdbx"),
        ),
        2,
        "STRONGROOM_IMPORT_PASSWORD",
        "--key-file",
    )
    # the key file alone for a database that needs no password
    alone = REAL / "keepassxc-KeyFileProtectedNoPassword.kdbx"
    r = run_cli(
        cli_env(home, PASSWORD),
        "import",
        str(alone),
        "--key-file",
        str(REAL / "keepassxc-KeyFileProtectedNoPassword.key"),
        "--json",
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["imported"] == 0  # the same two entries: duplicates


def test_cli_kdbx_attachments_become_the_records_files(home: Path, tmp_path: Path) -> None:
    env = cli_env(home, PASSWORD, STRONGROOM_IMPORT_PASSWORD="a")
    r = run_cli(env, "import", str(REAL / "keepassxc-NewDatabase.kdbx"))
    assert r.returncode == 0 and "Not imported" not in r.stdout, (r.stdout, r.stderr)
    out = tmp_path / "got.txt"
    got = run_cli(env, "attach", "get", "Sample Entry", "Sample attachment.txt", "-o", str(out))
    assert got.returncode == 0, got.stderr
    assert out.read_bytes() == b"Sample content\n"
    # over the attachment limit: the entry is imported, the file named as not imported
    from vault.vault import Vault

    vault = Vault.open(home)
    vault.unlock(PASSWORD)
    vault.update_settings(attachment_max_mb=0)
    vault.close()
    r = run_cli(
        cli_env(home, PASSWORD, STRONGROOM_IMPORT_PASSWORD="t"),
        "import",
        str(REAL / "keepassxc-Format400.kdbx"),
    )
    assert r.returncode == 0, r.stderr
    assert "Imported 1 record" in r.stdout and "Not imported: 1 attachment" in r.stdout
    assert "attachment limit" in r.stdout


def test_cli_asks_for_the_files_password_on_a_hidden_prompt(home: Path, tmp_path: Path) -> None:
    from pykeepass import create_database

    secret = "Typed-Secret-4417"
    path = tmp_path / "mine.kdbx"
    kp = create_database(str(path), password=secret)
    kp.add_entry(kp.root_group, "typed", "ann", "pw")
    kp.save()
    env = cli_env(home, PASSWORD)
    code, drawn = run_on_terminal(
        env, "import", str(path), answers=[("Password of mine.kdbx", secret)]
    )
    assert code == 0, drawn
    assert "Imported 1 record" in drawn and secret not in drawn
    code, drawn = run_on_terminal(env, "import", str(path), answers=[("Password of", "wrong")])
    assert code == 3 and "does not open" in drawn, drawn


def test_cli_password_protected_bitwarden(home: Path) -> None:
    path = REAL / BITWARDEN[1]
    ok = run_cli(cli_env(home, PASSWORD, STRONGROOM_IMPORT_PASSWORD="a"), "import", str(path))
    assert ok.returncode == 0 and "Imported 1 record" in ok.stdout, ok.stderr
    wrong = run_cli(cli_env(home, PASSWORD, STRONGROOM_IMPORT_PASSWORD="b"), "import", str(path))
    _one_line(wrong, 3, "does not open this Bitwarden export")
