"""JSON nested deeper than the parser's stack, wherever bytes from outside are parsed before they
are authenticated (a backup's or a sync file's public header, a record envelope's header, a key
slot, a Wi-Fi peer's messages): a typed refusal, never RecursionError (a 10 KB backup file whose
header was '[' 5,000 deep was exit 70)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from clikit import account_home, cli_env, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.errors import FormatError, VaultError

PW = "nested json test password"
DEEP = st.integers(1_100, 20_000).flatmap(
    lambda n: st.sampled_from([b"[" * n + b"]" * n, b'{"a":' * n + b"1" + b"}" * n, b"[" * n])
)


def _container(magic: bytes, version: int, header: bytes) -> bytes:
    return magic + bytes([version]) + struct.pack(">I", len(header)) + header + b"\0" * 40


def _typed(call: object, *errors: type[Exception]) -> None:
    """`call()` returns, or raises one of `errors` (anything else fails the test)."""
    try:
        call()  # type: ignore[operator]
    except errors:
        pass


@settings(max_examples=100, deadline=None)
@given(DEEP)
def test_public_headers_refuse_any_nesting(header: bytes) -> None:
    from sync.errors import SyncError
    from sync.wifi.protocol import parse_state
    from vault.backup import MAGIC as BACKUP
    from vault.backup import VERSION as BACKUP_V
    from vault.backup import parse_backup
    from vault.container import parse_container
    from vault.envelope import MAGIC as ENV
    from vault.envelope import VERSION as ENV_V
    from vault.envelope import Envelope
    from vault.keys import KeySlot

    backup = _container(BACKUP, BACKUP_V, header)
    _typed(lambda: parse_container(backup, BACKUP, BACKUP_V, "backup"), FormatError)
    _typed(lambda: parse_backup(backup), FormatError)
    envelope = ENV + bytes([ENV_V]) + struct.pack(">H", len(header) % 65_536) + header
    _typed(lambda: Envelope.from_bytes(envelope), FormatError)
    _typed(lambda: KeySlot.from_bytes(header), FormatError)
    _typed(lambda: parse_state(header), SyncError, VaultError)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([b"[]", b'"x"', b"1", b"null", b"true", b'{"v": []}', b"[[1]]"]))
def test_a_key_slot_that_is_not_an_object_is_damaged(raw: bytes) -> None:
    """A backup header's or a Wi-Fi peer's slot of '[]' met .get of a list (AttributeError)."""
    from vault.keys import KeySlot

    with pytest.raises(FormatError):
        KeySlot.from_bytes(raw)


def test_a_backup_with_a_nested_header_is_refused_by_the_cli(tmp_path: Path) -> None:
    from vault.backup import MAGIC, VERSION

    bad = tmp_path / "nested.srbk"
    bad.write_bytes(_container(MAGIC, VERSION, b"[" * 5000 + b"]" * 5000))
    env = cli_env(account_home(tmp_path / "home", PW), PW)
    for target in (env, cli_env(tmp_path / "new", PW)):
        r = run_cli(target, "backup", "restore", str(bad))
        assert r.returncode == 2 and "header is corrupt" in r.stderr, r.stderr
