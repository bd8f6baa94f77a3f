"""TLS end to end: `strongroom server --tls-cert/--tls-key` with a certificate from a private CA
made here, real CLI devices signing up, in and syncing over https by trusting that CA, emailed
links in https; plain http to another machine refused before any connection is made."""

from __future__ import annotations

import email
import re
import socket
import subprocess
from collections.abc import Iterator
from email.policy import default
from pathlib import Path

import pytest
from clikit import cli_env, free_port, run_cli, server_process
from tlskit import Certs, make_certs

from sync.errors import TransportSettingError
from sync.tls import Transport, check_server_url

PASSWORD = "tls test password"
EMAIL = "tls@example.com"
#: TEST-NET-1 (RFC 5737): an address that is never a real host. Used only as a URL that must be
#: refused before anything is sent; no test here connects to it.
ELSEWHERE = "192.0.2.1"


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    return make_certs(tmp_path / "certs")


@pytest.fixture
def tls_server(tmp_path: Path, certs: Certs) -> Iterator[str]:
    with server_process(
        tmp_path,
        "--db",
        str(tmp_path / "server.db"),
        "--outbox",
        str(tmp_path / "outbox"),
        "--tls-cert",
        str(certs.cert),
        "--tls-key",
        str(certs.key),
        ca_file=certs.ca,
    ) as url:
        yield url


def _cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(home, PASSWORD, **env), *args, cwd=home.parent)


def test_devices_sign_up_sign_in_and_sync_over_https(
    tmp_path: Path, certs: Certs, tls_server: str
) -> None:
    assert tls_server.startswith("https://127.0.0.1:")
    trust = {"STRONGROOM_CA_FILE": str(certs.ca)}
    a, b, kits = tmp_path / "a", tmp_path / "b", tmp_path / "kits"
    kits.mkdir()

    r = _cli(a, "signup", "--email", EMAIL, "--kit-dir", str(kits), "--server", tls_server, **trust)
    assert r.returncode == 0, r.stderr
    r = _cli(a, "add", "login", "--title", "Bank", "--field", "password=over-tls-1", **trust)
    assert r.returncode == 0, r.stderr
    r = _cli(a, "sync", "now", **trust)
    assert r.returncode == 0, r.stderr

    kit = next(kits.glob("*.png"))
    by_name = tls_server.replace("127.0.0.1", "localhost")  # the certificate names both
    ca = ["--ca-file", str(certs.ca)]  # device B is told with the flag, and remembers it
    r = _cli(b, "signin", "--email", EMAIL, "--kit", str(kit), "--server", by_name, *ca)
    assert r.returncode == 0, r.stderr
    r = _cli(b, "get", "Bank", "--field", "password")
    assert (r.returncode, r.stdout) == (0, "over-tls-1\n"), r.stderr

    r = _cli(b, "add", "note", "--title", "From B")
    assert r.returncode == 0, r.stderr
    r = _cli(b, "sync", "now")
    assert r.returncode == 0, r.stderr
    r = _cli(a, "sync", "now", **trust)
    assert r.returncode == 0, r.stderr
    assert "From B" in _cli(a, "ls", **trust).stdout


def test_emailed_links_are_https(tmp_path: Path, certs: Certs, tls_server: str) -> None:
    a, kits = tmp_path / "a", tmp_path / "kits"
    kits.mkdir()
    trust = {"STRONGROOM_CA_FILE": str(certs.ca)}
    r = _cli(a, "signup", "--email", EMAIL, "--kit-dir", str(kits), "--server", tls_server, **trust)
    assert r.returncode == 0, r.stderr
    r = _cli(a, "reset", "--email", EMAIL, "--server", tls_server, **trust)
    assert r.returncode == 0, r.stderr
    bodies = [
        email.message_from_bytes(p.read_bytes(), policy=default).get_body().get_content()  # type: ignore[union-attr]
        for p in (tmp_path / "outbox").glob("*.eml")
    ]
    links = [w for body in bodies for w in body.split() if "/reset/" in w or "://" in w]
    assert links and all(w.startswith(f"{tls_server}/") for w in links), links


def test_a_certificate_nobody_vouched_for_is_refused(tmp_path: Path, tls_server: str) -> None:
    a = tmp_path / "a"
    r = _cli(a, "signup", "--email", EMAIL, "--server", tls_server)
    assert r.returncode == 4
    assert "certificate is not trusted" in r.stderr and "STRONGROOM_CA_FILE" in r.stderr
    assert not (a / "vault.db").exists()


def _nowhere_proxy() -> dict[str, str]:
    """Proxy settings that send any request made despite the refusal to a closed loopback port,
    so even a broken build never puts a packet towards ELSEWHERE on the network."""
    proxy = f"http://127.0.0.1:{free_port()}"
    names = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    return {n: proxy for n in names} | {n.lower(): proxy for n in names} | {"NO_PROXY": ""}


def test_plain_http_to_another_machine_is_refused_before_connecting(tmp_path: Path) -> None:
    a = tmp_path / "a"
    r = _cli(
        a, "signup", "--email", EMAIL, "--server", f"http://{ELSEWHERE}:8470", **_nowhere_proxy()
    )
    assert r.returncode == 2, r.stderr
    assert f"refusing plain http:// to {ELSEWHERE}" in r.stderr and "--insecure-http" in r.stderr
    assert not (a / "vault.db").exists()

    r = _cli(a, "signup", "--email", EMAIL)  # a device of its own, then moved to a server
    assert r.returncode == 0, r.stderr
    r = _cli(a, "sync", "cloud", f"http://{ELSEWHERE}", **_nowhere_proxy())
    assert r.returncode == 2 and "refusing plain http://" in r.stderr
    assert "none" in _cli(a, "sync", "status").stdout


def _name_of_this_machine() -> str:
    """This machine's host name when it resolves to 127.0.0.1 only (a non-loopback name that
    still keeps every packet on this machine), else the test is skipped."""
    name = socket.gethostname()
    try:
        found = {a[4][0] for a in socket.getaddrinfo(name, None, socket.AF_INET)}
    except OSError:
        found = set()
    if found != {"127.0.0.1"}:
        pytest.skip(f"the host name {name!r} does not resolve to 127.0.0.1 alone ({found})")
    return name


def test_insecure_http_when_asked_for_is_remembered_with_the_server(tmp_path: Path) -> None:
    name = _name_of_this_machine()
    a = tmp_path / "a"
    assert _cli(a, "signup", "--email", EMAIL).returncode == 0
    with server_process(tmp_path, "--db", str(tmp_path / "s.db")) as url:
        by_name = url.replace("127.0.0.1", name)  # not loopback by its name: refused
        r = _cli(a, "sync", "cloud", by_name)
        assert r.returncode == 2 and f"refusing plain http:// to {name}" in r.stderr
        r = _cli(a, "sync", "cloud", by_name, "--insecure-http")
        assert r.returncode == 0, r.stderr
        assert _cli(a, "add", "note", "--title", "Later").returncode == 0
        r = _cli(a, "sync", "now")  # no flag: the choice was kept with the server
        # the note alone: this device's entry (method cloud) went out with `sync cloud`
        assert r.returncode == 0 and re.search(r"\b1 change sent", r.stderr), r.stderr


def test_what_counts_as_this_machine() -> None:
    for url in ("http://127.0.0.1:1", "http://127.8.9.1", "http://[::1]:8470", "http://localhost"):
        check_server_url(url)
    check_server_url(f"https://{ELSEWHERE}")
    check_server_url(f"http://{ELSEWHERE}", Transport(insecure_http=True))
    for url in (
        f"http://{ELSEWHERE}",
        "http://localhost.example.com",
        "http://[::ffff:192.0.2.1]",
        "ftp://127.0.0.1",
        "127.0.0.1:8470",
    ):
        with pytest.raises(TransportSettingError):
            check_server_url(url)


def test_a_bad_certificate_or_key_stops_the_server_with_a_message(
    tmp_path: Path, certs: Certs
) -> None:
    other = make_certs(tmp_path / "other")
    for cert, key in ((certs.cert, other.key), (tmp_path / "missing.pem", certs.key)):
        r = run_cli(
            cli_env(),
            "server",
            "--db",
            str(tmp_path / "s.db"),
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
            "--port",
            str(free_port()),
            cwd=tmp_path,
        )
        assert r.returncode == 2, r.stderr
        assert "cannot use the TLS certificate and key" in r.stderr
        assert "Traceback" not in r.stderr
