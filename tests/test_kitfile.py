"""The Kit as files and drawings, read back with zbar: PNG, JPEG, PDF, the terminal drawing."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from vault import keys as keymod
from vault.errors import KitError, KitReason
from vault.kitcode import KitPayload
from vault.kitfile import read_kit_file, read_kit_text, render_pdf, render_png, render_terminal


@pytest.fixture(scope="module")
def kit() -> KitPayload:
    slot, _ = keymod.create_account("kit@example.com", "kit file password")
    return slot.kit


def _reason(path: Path) -> KitReason:
    with pytest.raises(KitError) as e:
        read_kit_file(path)
    return e.value.reason


def test_png_jpeg_and_pdf_round_trip(kit: KitPayload, tmp_path: Path) -> None:
    render_png(kit, tmp_path / "k.png")
    assert read_kit_file(tmp_path / "k.png") == kit
    Image.open(tmp_path / "k.png").convert("RGB").save(tmp_path / "photo.jpg", quality=85)
    assert read_kit_file(tmp_path / "photo.jpg") == kit
    render_pdf(kit, tmp_path / "k.pdf", email="kit@example.com", account_id=kit.account_id,
               created=datetime(2026, 11, 22, tzinfo=UTC))
    assert read_kit_file(tmp_path / "k.pdf") == kit
    assert (tmp_path / "k.pdf").stat().st_mode & 0o777 == 0o600


def _rasterise(lines: list[str], cell: int = 6) -> Image.Image:
    """Each character cell = one module wide, two modules tall; dark glyph halves in black."""
    width = max(len(line) for line in lines)
    img = Image.new("L", (width * cell, len(lines) * 2 * cell), 255)
    draw = ImageDraw.Draw(img)
    for y, line in enumerate(lines):
        for x, ch in enumerate(line):
            top, bottom = ch in "▀█", ch in "▄█"
            for half, dark in ((0, top), (1, bottom)):
                if dark:
                    y0 = (2 * y + half) * cell
                    draw.rectangle((x * cell, y0, x * cell + cell - 1, y0 + cell - 1), fill=0)
    framed = Image.new("L", (img.width + 8 * cell, img.height + 8 * cell), 255)
    framed.paste(img, (4 * cell, 4 * cell))
    return framed


def test_terminal_drawing_decodes_and_fits_80x24(kit: KitPayload) -> None:
    from vault.kitfile import decode_image

    lines = render_terminal(kit)
    assert len(lines) <= 21 and max(len(line) for line in lines) <= 80
    assert decode_image(_rasterise(lines)) == [kit.to_qr_text()]


def test_images_without_a_kit_say_why(kit: KitPayload, tmp_path: Path) -> None:
    cat = Image.new("RGB", (400, 300), (210, 180, 140))
    d = ImageDraw.Draw(cat)
    d.ellipse((100, 80, 300, 260), fill=(120, 80, 40))
    d.polygon([(110, 120), (140, 30), (180, 100)], fill=(120, 80, 40))
    cat.save(tmp_path / "cat.jpg", quality=80)
    assert _reason(tmp_path / "cat.jpg") is KitReason.NO_QR

    from fpdf import FPDF

    blank = FPDF()
    blank.add_page()
    blank.output(str(tmp_path / "empty.pdf"))
    assert _reason(tmp_path / "empty.pdf") is KitReason.NO_QR

    (tmp_path / "noise.bin").write_bytes(os.urandom(5000))
    assert _reason(tmp_path / "noise.bin") is KitReason.UNREADABLE
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(300))
    assert _reason(tmp_path / "broken.pdf") is KitReason.UNREADABLE
    assert _reason(tmp_path / "missing.png") is KitReason.UNREADABLE
    assert _reason(tmp_path) is KitReason.UNREADABLE

    import segno

    buf = io.BytesIO()
    segno.make("https://example.com/not-a-kit").save(buf, kind="png", scale=6)
    (tmp_path / "other.png").write_bytes(buf.getvalue())
    assert _reason(tmp_path / "other.png") is KitReason.NOT_STRONGROOM


def test_typed_code_and_text_files(kit: KitPayload, tmp_path: Path) -> None:
    code = kit.to_typed_code()
    assert read_kit_text(code) == kit
    assert read_kit_text(code.lower().replace("-", " ")) == kit
    assert read_kit_text(kit.to_qr_text()) == kit
    (tmp_path / "code.txt").write_text(code + "\n")
    assert read_kit_file(tmp_path / "code.txt") == kit
    body = code.replace("-", "")
    swapped = body[:10] + body[11] + body[10] + body[12:] if body[10] != body[11] else body[:10] + "Z" + body[11:]
    with pytest.raises(KitError) as e:
        read_kit_text(swapped)
    assert e.value.reason is KitReason.TYPO
    with pytest.raises(KitError) as e:
        read_kit_text("hello world")
    assert e.value.reason in (KitReason.TYPO, KitReason.NOT_STRONGROOM)
