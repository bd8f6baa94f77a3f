"""Where a Kit is written, and that it never replaces a file (issue 20, item 14): the app's
default folder is the user's documents folder, else home (never the folder it was started
from); a Kit whose names are taken is numbered "… (2)", PNG and PDF alike; a link at a name
counts as taken and is never written through."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runtime.kitfiles import default_kit_folder, free_kit_paths, kit_paths, save_kit
from vault.kitfile import read_kit_file
from vault.vault import Vault

PW = "kit files password"


@pytest.fixture
def vault(tmp_path: Path):  # type: ignore[no-untyped-def]
    v = Vault.create(tmp_path / "home", "ann@example.com", PW)
    yield v
    v.close()


def test_a_second_save_is_numbered_and_the_first_is_untouched(vault: Vault, tmp_path: Path) -> None:
    folder = tmp_path / "kits"
    first = save_kit(vault.slot, folder)
    assert first == list(kit_paths(folder, vault.slot.account_id))
    before = {p: (p.stat().st_ino, p.read_bytes()) for p in first}
    second = save_kit(vault.slot, folder)
    third = save_kit(vault.slot, folder)
    stem = f"Strongroom-Authentication-Kit-{vault.slot.account_id}"
    assert [p.name for p in second] == [f"{stem} (2).png", f"{stem} (2).pdf"]
    assert [p.name for p in third] == [f"{stem} (3).png", f"{stem} (3).pdf"]
    assert {p: (p.stat().st_ino, p.read_bytes()) for p in first} == before
    for p in second + third:
        assert p.stat().st_mode & 0o777 == 0o600
        assert read_kit_file(p).account_id == vault.slot.account_id
    assert sorted(os.listdir(folder)) == sorted(p.name for p in first + second + third)


def test_one_taken_name_moves_both_files_on(vault: Vault, tmp_path: Path) -> None:
    """A PDF alone (the PNG deleted) still takes the number: the pair stays a pair."""
    png, pdf = kit_paths(tmp_path, vault.slot.account_id)
    pdf.write_bytes(b"my own notes")
    written = save_kit(vault.slot, tmp_path)
    assert [p.name.endswith(" (2).png") or p.name.endswith(" (2).pdf") for p in written] == [
        True,
        True,
    ]
    assert not png.exists() and pdf.read_bytes() == b"my own notes"


def test_a_link_at_the_name_is_taken_not_written_through(vault: Vault, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.png"
    target.write_bytes(b"not a kit")
    png, _ = kit_paths(tmp_path / "kits", vault.slot.account_id)
    png.parent.mkdir()
    png.symlink_to(target)
    assert free_kit_paths(png.parent, vault.slot.account_id)[0] == 2
    save_kit(vault.slot, png.parent)
    assert target.read_bytes() == b"not a kit" and png.is_symlink()


def test_the_default_folder_is_documents_else_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    monkeypatch.delenv("XDG_DOCUMENTS_DIR", raising=False)
    assert default_kit_folder() == tmp_path  # no Documents folder: home
    (tmp_path / "Documents").mkdir()
    assert default_kit_folder() == tmp_path / "Documents"
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "user-dirs.dirs").write_text('XDG_DOCUMENTS_DIR="$HOME/Papers"\n')
    (tmp_path / "Papers").mkdir()
    assert default_kit_folder() == tmp_path / "Papers"  # the desktop's own name for it
