"""History and trash across real devices (issue 22), through the CLI as a person runs it: edit on
A, delete on B, sync through a real folder and the real account server (SQLite, and PostgreSQL when
it answers): the edit survives, out of the trash, and `sync now` says so; `trash restore` on a
third device after syncing brings the history and the record's files back."""

from __future__ import annotations

import json
import os
from pathlib import Path

from test_cloud_cli import Device, Server, kit_png, server  # noqa: F401 - the fixture
from test_folder_sync import PW, ok, two_devices  # noqa: F401 - the fixture


def test_edit_on_a_delete_on_b_through_a_folder_keeps_the_edit_and_says_so(
    two_devices: tuple[Path, Path, Path, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    a, b, folder, account = two_devices
    scan = tmp_path / "passport-scan.pdf"
    scan.write_bytes(os.urandom(300_000))
    ok(a, "attach", "add", "GitHub", str(scan))
    ok(a, "edit", "GitHub", "--field", "password=two")
    ok(a, "sync", "now")
    ok(b, "sync", "now")
    ok(a, "edit", "GitHub", "--field", "username=edited-on-a")
    ok(b, "rm", "GitHub")
    from clikit import cli_env, run_cli

    said = []
    for home in (a, b, a):
        r = run_cli(cli_env(home, PW), "sync", "now", cwd=home.parent)
        assert r.returncode == 0, r.stderr
        said.append(r.stderr)
    assert "Kept out of the trash" in said[-1] and "GitHub" in said[-1]
    for home in (a, b):
        got = json.loads(ok(home, "get", "GitHub", "--json"))
        user = next(f["value"] for f in got["fields"] if f["name"] == "username")
        assert user == "edited-on-a" and got["kept_from_trash"] and got["conflict"]
        assert json.loads(ok(home, "trash", "ls", "--json")) == []
        assert "Kept out of the trash" in ok(home, "get", "GitHub")
        status = json.loads(ok(home, "sync", "status", "--json"))
        assert [k["title"] for k in status["kept_from_trash"]] == ["GitHub"]
    # deleted again on B, then a third device restores it from the trash: history comes back
    ok(b, "rm", "GitHub")
    ok(b, "sync", "now")
    c = tmp_path / "c"
    ok(
        c,
        "signin",
        "--email",
        "ann@example.com",
        "--kit",
        str(tmp_path / f"Strongroom-Authentication-Kit-{account}.png"),
        "--folder",
        str(folder),
    )
    assert [r["title"] for r in json.loads(ok(c, "trash", "ls", "--json"))] == ["GitHub"]
    ok(c, "trash", "restore", "GitHub")
    got = tmp_path / "got.pdf"
    ok(c, "attach", "get", "GitHub", "passport-scan.pdf", "-o", str(got))
    assert got.read_bytes() == scan.read_bytes()  # the restored record's file, byte-exact
    history = json.loads(ok(c, "history", "GitHub", "--json"))
    changes = [ch for step in history for ch in step["changes"]]
    assert "password changed" in changes and "moved to the trash" in changes
    assert changes[-1] == "restored from the trash"
    assert all(
        f["value"] in ("••••••••", "")
        for s in history
        for f in s["fields"]
        if f["kind"] == "secret"
    )
    ok(c, "sync", "now")
    ok(a, "sync", "now")
    assert ok(a, "get", "GitHub", "--field", "username") == "edited-on-a\n"
    assert json.loads(ok(a, "trash", "ls", "--json")) == []
    # history restore on A: version 1 as a new edit, synced to C
    ok(a, "history", "restore", "GitHub", "1")
    assert ok(a, "get", "GitHub", "--field", "password") == "one\n"
    ok(a, "sync", "now")
    ok(c, "sync", "now")
    assert ok(c, "get", "GitHub", "--field", "password") == "one\n"


def test_edit_on_a_delete_on_b_through_the_server_keeps_the_edit(
    server: Server,  # noqa: F811
    tmp_path: Path,
) -> None:
    a, b = Device(tmp_path / "a"), Device(tmp_path / "b")
    a.ok("signup", "--email", "ann@example.com", "--kit-dir", str(tmp_path), "--server", server.url)
    a.ok("add", "login", "--title", "GitHub", "--field", "password=one")
    scan = tmp_path / "passport-scan.pdf"
    scan.write_bytes(os.urandom(300_000))
    a.ok("attach", "add", "GitHub", str(scan))
    a.ok("sync", "now")
    b.ok(
        "signin",
        "--email",
        "ann@example.com",
        "--kit",
        str(kit_png(tmp_path)),
        "--server",
        server.url,
    )
    a.ok("edit", "GitHub", "--field", "username=edited-on-a")
    b.ok("rm", "GitHub")
    said = ""
    for dev in (a, b, a):
        r = dev.run("sync", "now")
        assert r.returncode == 0, r.stderr
        said = r.stderr
    assert "Kept out of the trash" in said
    for dev in (a, b):
        assert dev.ok("get", "GitHub", "--field", "username") == "edited-on-a\n"
        assert dev.json("trash", "ls") == []
    b.ok("rm", "GitHub")
    b.ok("sync", "now")
    a.ok("sync", "now")
    assert [r["title"] for r in a.json("trash", "ls")] == ["GitHub"]  # type: ignore[index]
    a.ok("trash", "restore", "GitHub")
    a.ok("sync", "now")
    b.ok("sync", "now")
    assert b.ok("get", "GitHub", "--field", "username") == "edited-on-a\n"
    got = tmp_path / "got.pdf"
    b.ok("attach", "get", "GitHub", "passport-scan.pdf", "-o", str(got))
    assert got.read_bytes() == scan.read_bytes()  # restored on A with its file, read on B
    steps = b.json("history", "GitHub")
    assert len(steps) >= 4  # type: ignore[arg-type]
