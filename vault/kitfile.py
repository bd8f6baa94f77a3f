"""The Authentication Kit as files and drawings: PNG, printable PDF, terminal QR; and reading one back.

Rendering always uses dark modules on a light background (an inverted code does not scan). Reading
goes by content, not file name: PNG/JPEG/any Pillow image → zbar; PDF → each page rendered with
pdfium, then zbar; a text file → the QR text or the typed code. Every failure is a KitError with the
exact reason (unreadable file / no QR / not a Strongroom code / typo).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .durable import write_private_atomic
from .errors import KitError, KitReason
from .kitcode import KitPayload

QUIET = 2  # modules of light border around the terminal drawing (4 in files)
MAX_KIT_FILE = 50 * 1024 * 1024
_PDF_SCALE = 3.0
_MAX_PDF_PIXELS = 5000  # longest side of a rendered PDF page: a poster-sized page stays cheap
_MAX_PDF_PAGES = 10
_AGAIN = "scan or export the Kit again as PNG or PDF, or type the code printed under the QR code"


def _qr(payload: KitPayload) -> Any:
    import segno

    return segno.make(payload.to_qr_text(), error="m", micro=False)


# -- rendering ---------------------------------------------------------------------------------
def png_bytes(payload: KitPayload, scale: int = 8) -> bytes:
    buf = io.BytesIO()
    _qr(payload).save(buf, kind="png", scale=scale, border=4, dark="black", light="white")
    return buf.getvalue()


def render_png(payload: KitPayload, path: Path, *, replace: bool = True) -> None:
    """The QR code alone, big enough to scan from a screen or a print (`replace=False`: never
    over an existing file)."""
    write_private_atomic(path, png_bytes(payload), replace=replace)


def render_pdf(
    payload: KitPayload,
    path: Path,
    *,
    email: str,
    account_id: str,
    created: datetime,
    replace: bool = True,
) -> None:
    """A printable A4 page: QR, typed code, email, account id, date and what to do with it."""
    write_private_atomic(
        path,
        pdf_bytes(payload, email=email, account_id=account_id, created=created),
        replace=replace,
    )


def pdf_bytes(payload: KitPayload, *, email: str, account_id: str, created: datetime) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title("Strongroom Authentication Kit")
    pdf.set_creator("Strongroom")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 22)
    pdf.cell(0, 14, "Strongroom Authentication Kit", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    shown = email.encode("latin-1", "backslashreplace").decode("latin-1")  # the PDF's core fonts
    pdf.cell(0, 7, f"Email: {shown}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, f"Account ID: {account_id}", new_x="LMARGIN", new_y="NEXT")
    made = created.astimezone(UTC) if created.tzinfo else created  # a naive time is taken as UTC
    pdf.cell(0, 7, f"Made on: {made:%Y-%m-%d %H:%M} UTC", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.image(io.BytesIO(png_bytes(payload)), x=pdf.l_margin, w=80)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Code (type it if you cannot scan the QR code):", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", "", 11)
    for row in payload.typed_code_rows():
        pdf.cell(0, 6, row, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(
        0,
        5,
        (
            "Keep this page somewhere safe, away from your devices. To sign in to your Strongroom account "
            "on a new device you need two things: your Account Password and this Kit (scan or load the QR "
            "code, or type the code above).\n\n"
            "The Kit alone cannot open your vault, and your password alone cannot either. When you change "
            "your Account Password, a new Kit is made and this one stops working: replace this page then.\n\n"
            "Write your Account Password here only if this page is kept as safely as the password itself:"
        ),
    )
    pdf.ln(6)
    pdf.cell(
        0,
        8,
        "Account Password: ______________________________________",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def render_terminal(payload: KitPayload) -> list[str]:
    """The QR matrix with half blocks, two module rows per line; '█' = dark over dark.

    Characters are drawn as dark-on-light cells: the caller must paint them with a dark foreground
    on a light background, whatever the theme. Fits 80×24: version 5 is 37 modules, plus the quiet zone 41 → 21 lines of 41 characters.
    """
    rows = [[bool(v) for v in row] for row in _qr(payload).matrix_iter(scale=1, border=QUIET)]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    glyph = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
    return [
        "".join(glyph[(top, bottom)] for top, bottom in zip(rows[i], rows[i + 1], strict=True))
        for i in range(0, len(rows), 2)
    ]


def render_terminal_ansi(payload: KitPayload) -> str:
    """render_terminal with explicit black-on-white colours for a plain terminal."""
    return "\n".join(f"\x1b[30;107m{line}\x1b[0m" for line in render_terminal(payload))


# -- reading -----------------------------------------------------------------------------------
def read_kit_text(text: str) -> KitPayload:
    """A typed code (with check characters) or the raw QR text."""
    stripped = text.strip()
    if "-" in stripped or " " in stripped:
        return KitPayload.from_typed_code(stripped)
    try:
        return KitPayload.from_qr_text(stripped)
    except KitError:
        return KitPayload.from_typed_code(stripped)


def read_kit_file(path: Path) -> KitPayload:
    """The Kit in a PNG/JPEG/other image, a PDF, or a text file holding the code."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:  # read so far and no further: /dev/zero says its size is 0
            data = f.read(MAX_KIT_FILE + 1)
        if max(size, len(data)) > MAX_KIT_FILE:
            raise KitError(
                KitReason.UNREADABLE,
                f"{path} is over {MAX_KIT_FILE // 2**20} MB, far too big for a Kit",
            )
    except FileNotFoundError:
        raise KitError(KitReason.UNREADABLE, f"no file at {path}; check the path") from None
    except IsADirectoryError:
        raise KitError(
            KitReason.UNREADABLE, f"{path} is a folder; give the Kit's PNG, JPEG or PDF file"
        ) from None
    except OSError as exc:
        raise KitError(
            KitReason.UNREADABLE, f"cannot read {path}: {exc.strerror or exc}; {_AGAIN}"
        ) from None
    return read_kit_bytes(data, str(path))


def read_kit_bytes(data: bytes, name: str = "the file") -> KitPayload:
    """Decide by content (magic bytes), never by file name: PDF, short text, else an image."""
    if data.startswith(b"%PDF-"):
        texts = _decode_pdf(data, name)
    elif (text := _as_text(data)) is not None:
        return read_kit_text(text)
    else:
        texts = _decode_image_bytes(data, name)
    if not texts:
        raise KitError(KitReason.NO_QR, f"in {name}; {_AGAIN}")
    last: KitError | None = None
    for qr_text in texts:
        try:
            return KitPayload.from_qr_text(qr_text)
        except KitError as exc:
            last = exc
    assert last is not None
    detail = f"{last.detail}; " if last.detail else ""
    raise KitError(
        last.reason,
        f"the QR code in {name} holds something else; {detail}"
        "use the QR code of your Strongroom Authentication Kit",
    ) from None


def _as_text(data: bytes) -> str | None:
    """A short printable text file (a saved typed code), else None; a UTF-8 BOM is allowed."""
    if not data or len(data) > 4096:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if text.strip() == "" or not all(c.isprintable() or c in "\r\n\t" for c in text):
        return None
    return text


def _decode_image_bytes(data: bytes, name: str) -> list[str]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return decode_image(img)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise KitError(
            KitReason.UNREADABLE, f"{name} is not an image or PDF ({type(exc).__name__}); {_AGAIN}"
        ) from None


_NO_ZBAR = (
    "reading a QR code from an image needs the zbar library (apt-get install libzbar0, "
    "brew install zbar); or type the Kit's code instead (--code)"
)


def decode_image(img: Any) -> list[str]:
    """Texts of every QR code zbar finds in a Pillow image (also tried inverted and enlarged)."""
    from PIL import ImageOps

    try:
        from pyzbar import pyzbar
    except ImportError:  # pyzbar is installed but the zbar library it loads is not
        raise KitError(KitReason.UNREADABLE, _NO_ZBAR) from None

    gray = img.convert("L")
    attempts = [gray]
    if max(gray.size) < 400:
        attempts.append(gray.resize((gray.width * 4, gray.height * 4), 0))
    attempts.append(ImageOps.invert(gray))
    for attempt in attempts:
        found = [
            s.data.decode("ascii", "replace") for s in pyzbar.decode(attempt) if s.type == "QRCODE"
        ]
        if found:
            return found
    return []


def _decode_pdf(data: bytes, name: str) -> list[str]:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise KitError(
            KitReason.UNREADABLE, f"{name} is a damaged or locked PDF ({exc}); {_AGAIN}"
        ) from None
    try:
        for index in range(min(len(doc), _MAX_PDF_PAGES)):
            page = doc[index]
            width, height = page.get_size()
            scale = min(_PDF_SCALE, _MAX_PDF_PIXELS / max(width, height, 1.0))
            try:
                image = page.render(scale=scale).to_pil()
            except pdfium.PdfiumError as exc:
                raise KitError(
                    KitReason.UNREADABLE,
                    f"page {index + 1} of {name} cannot be drawn ({exc}); {_AGAIN}",
                ) from None
            found = decode_image(image)
            if found:
                return found
    finally:
        doc.close()
    return []
