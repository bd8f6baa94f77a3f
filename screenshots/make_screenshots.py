"""Regenerate screenshots/*.svg from the real app: `python3 screenshots/make_screenshots.py`.

Drives StrongroomApp headless with the keyboard (as the snapshot tests do) on a demo vault in a
temporary folder, and saves one SVG per screen with `App.save_screenshot`. No secrets of yours
are involved: the demo vault and its password are made up here. The temporary folder is the demo
HOME, and every path on screen is typed or shown under it as ~/… (never the temporary path).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STRONGROOM_INSECURE_TEST_KDF", "1")  # demo vault only: keys made fast

from tui.app import StrongroomApp  # noqa: E402
from tui.screens.account import KitScreen  # noqa: E402
from vault.records import Record, new_record  # noqa: E402
from vault.vault import Vault  # noqa: E402

PW = "demo password for screenshots"
SIZE = (100, 30)
OUT = ROOT / "screenshots"


def demo_vault(home: Path) -> None:
    v = Vault.create(home, "ann@example.com", PW)
    v.add(
        new_record(
            "login",
            "GitHub",
            {
                "username": "ann",
                "password": "correct-horse-42",
                "url": "https://github.com",
                "totp": "JBSWY3DPEHPK3PXP",
            },
            tags=("work",),
            favorite=True,
        )
    )
    v.add(new_record("login", "Gmail", {"username": "ann@gmail.com", "password": "hunter2"}))
    v.add(new_record("login", "Bank of Example", {"username": "ann.e", "password": "hunter2"}))
    v.add(
        new_record(
            "credit-card", "Visa", {"cardholder": "Ann Example", "number": "4111 1111 1111 1111"}
        )
    )
    v.add(new_record("note", "Door codes", notes="front 1234, garage 9876"))
    # history: GitHub's password changed twice and a note added; a forum account in the trash
    github = v.find("GitHub")
    for new_password in ("battery-staple-7", "tr0ub4dor-and-3"):
        v.edit(github, lambda r, pw=new_password: _with_password(r, pw))
    v.edit(github, lambda r: replace(r, notes="2FA on; recovery codes in the safe"))
    forum = v.add(new_record("login", "Old forum", {"username": "ann_e", "password": "hunter2"}))
    v.trash(forum.id)
    v.close()


def _with_password(rec: Record, password: str) -> Record:
    fields = tuple(replace(f, value=password) if f.name == "password" else f for f in rec.fields)
    return replace(rec, fields=fields)


async def shoot(
    name: str,
    home: Path,
    steps: Callable[[Any], Awaitable[None]],
    size: tuple[int, int] = SIZE,
) -> None:
    app = StrongroomApp(home=home, kit_dir=Path.home() / "Documents")
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.2)
        await steps(pilot)
        await pilot.pause(0.5)
        app.save_screenshot(str(OUT / f"{name}.svg"))
    print(f"screenshots/{name}.svg")


async def typed(pilot: Any, text: str) -> None:
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


async def unlocked(pilot: Any) -> None:
    await typed(pilot, PW)
    await pilot.press("enter")
    await pilot.pause(0.5)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HOME"] = tmp  # folders on screen read ~/…, not the random temporary path
        data = Path(tmp) / ".local" / "share"
        empty, home = data / "strongroom-new", data / "strongroom"
        (Path(tmp) / "Documents").mkdir()
        demo_vault(home)

        async def nothing(p: Any) -> None:
            return None

        async def press(*keys: str) -> Callable[[Any], Awaitable[None]]:
            async def go(p: Any) -> None:
                await unlocked(p)
                for k in keys:
                    await p.press(k)
                    await p.pause(0.3)

            return go

        await shoot("welcome", empty, nothing)

        async def signup(p: Any) -> None:
            await p.press("u")
            await p.pause(0.2)
            await typed(p, "ann@example.com")
            await p.press("tab")
            await typed(p, "a long passphrase")

        await shoot("sign-up", empty, signup)
        await shoot("sign-in", empty, lambda p: p.press("i"))
        await shoot("lock", home, nothing)
        await shoot("record-list", home, await press())
        await shoot("wide", home, await press("down", "down"), size=(160, 48))
        await shoot("search", home, await press("slash", "g", "m"))
        await shoot(
            "filter", home, await press("g", "down", "enter", "t")
        )  # tagged work, choosing a type
        await shoot(
            "record-view", home, await press("down", "down", "enter")
        )  # GitHub: fields, one-time code
        await shoot("record-edit", home, await press("down", "down", "enter", "e"))
        await shoot("security-center", home, await press("s"))
        await shoot("history", home, await press("down", "down", "enter", "h", "down"))
        await shoot("trash", home, await press("d"))
        await shoot("help", home, await press("question_mark"))
        await shoot("settings", home, await press("comma"))

        export = Path(tmp) / "Downloads" / "bitwarden_export.json"
        export.parent.mkdir()
        shutil.copy(ROOT / "tests" / "data" / "import" / "bitwarden.json", export)

        async def import_preview(p: Any) -> None:
            await unlocked(p)
            await p.press("i")
            await p.pause(0.3)
            await typed(p, "~/Downloads/bitwarden_export.json")
            await p.press("enter")
            await p.pause(0.3)
            await p.press("enter")  # the format guessed from the file
            await p.pause(1.0)

        await shoot("import-preview", home, import_preview)

        async def kit(p: Any) -> None:
            await unlocked(p)
            v = p.app.vault
            p.app.push_screen(
                KitScreen(
                    v.slot.kit,
                    [p.app.kit_dir / f"Strongroom-Authentication-Kit-{v.slot.account_id}.pdf"],
                )
            )

        await shoot("kit", home, kit)

        async def sync_settings(p: Any) -> None:  # last: it turns folder sync on in the demo vault
            folder = Path(tmp) / "Dropbox" / "Strongroom"
            folder.mkdir(parents=True)
            await unlocked(p)
            await p.press("y")
            await p.pause(0.3)
            await p.press("f")
            await typed(p, "~/Dropbox/Strongroom")
            await p.press("enter")
            await p.pause(1.0)

        await shoot("sync", home, sync_settings)


if __name__ == "__main__":
    asyncio.run(main())
