"""The Kit as files and drawings, read back with zbar: PNG, JPEG, PDF, the terminal drawing."""

from __future__ import annotations

import base64
import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from vault import keys as keymod
from vault.errors import KitError, KitReason
from vault.kitcode import KitPayload
from vault.kitfile import (
    decode_image,
    read_kit_file,
    read_kit_text,
    render_pdf,
    render_png,
    render_terminal,
    render_terminal_ansi,
)


@pytest.fixture(scope="module")
def kit() -> KitPayload:
    slot, _ = keymod.create_account("kit@example.com", "kit file password")
    return slot.kit


def _reason(path: Path) -> KitReason:
    with pytest.raises(KitError) as e:
        read_kit_file(path)
    message = str(e.value)
    assert message.startswith("Invalid Authentication Kit: ") and e.value.reason.value in message
    # a person is told what to do next, and no Kit material leaks into the message
    assert any(
        hint in message
        for hint in ("check the path", "export the Kit again", "give the Kit", "use the QR code")
    )
    return e.value.reason


def test_png_jpeg_and_pdf_round_trip(kit: KitPayload, tmp_path: Path) -> None:
    render_png(kit, tmp_path / "k.png")
    assert read_kit_file(tmp_path / "k.png") == kit
    Image.open(tmp_path / "k.png").convert("RGB").save(tmp_path / "photo.jpg", quality=85)
    assert read_kit_file(tmp_path / "photo.jpg") == kit
    render_pdf(
        kit,
        tmp_path / "k.pdf",
        email="kit@example.com",
        account_id=kit.account_id,
        created=datetime(2026, 11, 22, tzinfo=UTC),
    )
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
    import segno

    qr = segno.make(kit.to_qr_text(), error="m", micro=False)
    assert (qr.version, qr.mode, qr.error) == (5, "alphanumeric", "M")
    lines = render_terminal(kit)
    # measured: version 5 = 37 modules + 2×2 quiet zone = 41 → 21 lines × 41 columns (DESIGN: 21 rows)
    assert len(lines) == 21 and {len(line) for line in lines} == {41}
    assert set("".join(lines)) <= set(" ▀▄█")
    assert lines[0].strip() == "" and lines[-1].strip() == ""  # quiet zone top and bottom
    assert all(line[:2] == "  " and line[-2:] == "  " for line in lines)  # and both sides
    assert decode_image(_rasterise(lines)) == [kit.to_qr_text()]
    ansi = render_terminal_ansi(kit).split("\n")
    assert len(ansi) == 21
    assert all(row == f"\x1b[30;107m{line}\x1b[0m" for row, line in zip(ansi, lines, strict=True))


def test_reading_goes_by_content_not_name(kit: KitPayload, tmp_path: Path) -> None:
    render_pdf(
        kit,
        tmp_path / "k.pdf",
        email="kit@example.com",
        account_id=kit.account_id,
        created=datetime(2026, 11, 22, tzinfo=UTC),
    )
    (tmp_path / "looks-like.png").write_bytes((tmp_path / "k.pdf").read_bytes())
    assert read_kit_file(tmp_path / "looks-like.png") == kit
    render_png(kit, tmp_path / "k.png")
    # light-on-dark (a phone's dark-mode screenshot) and a small image still decode
    inverted = Image.open(tmp_path / "k.png").convert("L").point(lambda v: 255 - v)
    inverted.save(tmp_path / "inverted.dat", format="PNG")
    assert read_kit_file(tmp_path / "inverted.dat") == kit
    small = Image.open(tmp_path / "k.png").convert("L")
    small.resize((small.width // 4, small.height // 4), Image.Resampling.NEAREST).save(
        tmp_path / "small.gif"
    )
    assert read_kit_file(tmp_path / "small.gif") == kit
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + kit.to_typed_code().encode() + b"\r\n")
    assert read_kit_file(tmp_path / "bom.txt") == kit


def test_pdf_with_the_qr_on_a_later_page(kit: KitPayload, tmp_path: Path) -> None:
    from fpdf import FPDF

    render_png(kit, tmp_path / "k.png")
    doc = FPDF()
    doc.add_page()
    doc.set_font("Helvetica", "", 12)
    doc.cell(0, 10, "cover page")
    doc.add_page()
    doc.image(str(tmp_path / "k.png"), x=20, y=20, w=60)
    doc.output(str(tmp_path / "two.pdf"))
    assert read_kit_file(tmp_path / "two.pdf") == kit


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
    # a QR that starts like ours but with a future format version: still NOT_STRONGROOM, with the version
    future = base64.b32encode(b"SR\x09" + bytes(65)).decode().rstrip("=")
    buf = io.BytesIO()
    segno.make(future, error="m").save(buf, kind="png", scale=6)
    (tmp_path / "future.png").write_bytes(buf.getvalue())
    with pytest.raises(KitError) as e:
        read_kit_file(tmp_path / "future.png")
    assert e.value.reason is KitReason.NOT_STRONGROOM and "version 9" in str(e.value)


def test_typed_code_and_text_files(kit: KitPayload, tmp_path: Path) -> None:
    code = kit.to_typed_code()
    assert read_kit_text(code) == kit
    assert read_kit_text(code.lower().replace("-", " ")) == kit
    assert read_kit_text(kit.to_qr_text()) == kit
    (tmp_path / "code.txt").write_text(code + "\n")
    assert read_kit_file(tmp_path / "code.txt") == kit
    body = code.replace("-", "")
    swapped = (
        body[:10] + body[11] + body[10] + body[12:]
        if body[10] != body[11]
        else body[:10] + "Z" + body[11:]
    )
    with pytest.raises(KitError) as e:
        read_kit_text(swapped)
    assert e.value.reason is KitReason.TYPO
    with pytest.raises(KitError) as e:
        read_kit_text("hello world")
    assert e.value.reason in (KitReason.TYPO, KitReason.NOT_STRONGROOM)


def test_pdf_page_says_what_it_is(kit: KitPayload, tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    render_pdf(
        kit,
        tmp_path / "k.pdf",
        email="kit@example.com",
        account_id=kit.account_id,
        created=datetime(2026, 11, 22, 9, 30, tzinfo=UTC),
    )
    doc = pdfium.PdfDocument(tmp_path / "k.pdf")
    assert len(doc) == 1
    width, height = doc[0].get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = doc[0].get_textpage().get_text_range()
    doc.close()
    for expected in (
        "Strongroom Authentication Kit",
        "kit@example.com",
        kit.account_id,
        "2026-11-22 09:30 UTC",
        "Account Password",
        "somewhere safe",
        "new device",
        "change your Account",
    ):
        assert expected in text
    flat = "".join(c for c in text if c.isalnum())
    assert kit.to_typed_code().replace("-", "") in flat  # printed in lines of six groups
    assert (
        read_kit_text(" ".join(line for line in text.splitlines() if line.count("-") >= 3)) == kit
    )


def test_a_device_or_an_endless_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    """/dev/zero says its size is 0, so the size check passed and kit --check or signin --kit read
    it until memory ran out; now at most MAX_KIT_FILE + 1 bytes are read."""
    from clikit import account_home, cli_env, run_cli

    from vault.kitfile import read_kit_file

    with pytest.raises(KitError) as caught:
        read_kit_file(Path("/dev/zero"))
    assert caught.value.reason is KitReason.UNREADABLE and "far too big" in str(caught.value)
    env = cli_env(
        account_home(tmp_path / "home", "kit device test password"), "kit device test password"
    )
    r = run_cli(env, "kit", "--check", "/dev/zero", timeout=60)
    assert r.returncode == 2 and "over 50 MB, far too big for a Kit" in r.stderr, r.stderr
