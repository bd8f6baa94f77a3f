"""What every import reader shares: the report, record building, bounded CSV/JSON reading.

Readers take a binary stream and return an `ImportReport` (records + problems), or raise
`FormatError` when the file as a whole is not the format asked for (wrong format, truncated,
garbage, XML with entities): then nothing is imported at all.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from ..errors import FormatError, VaultError
from ..records import Field, HistoryEntry, Record, make_field, record_of
from ..templates import FieldKind, template
from ..totp import parse_totp
from ..words import plural as plural  # the importers' name for it

#: One CSV line (or one field, when quoted) may not exceed this: a garbage file without
#: newlines is refused after reading this much, not after reading all of it.
MAX_LINE_CHARS = 16 * 1024 * 1024
#: JSON exports are parsed with json.load (whole document in memory): above this, refused.
MAX_JSON_BYTES = 256 * 1024 * 1024

csv.field_size_limit(MAX_LINE_CHARS)

#: Called with the number of records built so far (see `counting`); None: nobody is watching.
_ON_RECORD: ContextVar[Callable[[int], None] | None] = ContextVar("import_on_record", default=None)
#: The export file being read, for a reader that finds files beside it (strongroom-json's
#: attachments); None when the bytes come from elsewhere.
_SOURCE: ContextVar[Path | None] = ContextVar("import_source", default=None)


@contextlib.contextmanager
def reading_from(path: Path | None) -> Iterator[None]:
    """Readers run inside see the export's path through `source()`."""
    token = _SOURCE.set(path)
    try:
        yield
    finally:
        _SOURCE.reset(token)


def source() -> Path | None:
    return _SOURCE.get()


@contextlib.contextmanager
def counting(on_record: Callable[[int], None]) -> Iterator[None]:
    """Readers run inside this call `on_record(n)` after each record built (a progress display).

    A context variable, so every reader reports without a parameter; it may raise to stop the read.
    """
    token = _ON_RECORD.set(on_record)
    try:
        yield
    finally:
        _ON_RECORD.reset(token)


@contextlib.contextmanager
def bulk() -> Iterator[None]:
    """Python's cyclic garbage collector paused while an import builds or stores its records.

    100,000 records are millions of objects, none of them cyclic garbage, and each full
    collection rescans all of them: a quarter of the import's time. Reference counting still
    frees everything; a cycle made meanwhile waits for the next collection.

    At the end the objects made meanwhile go straight to the oldest generation (gc.freeze then
    gc.unfreeze moves them there without scanning them): they are long-lived records, and the
    first young collection after the block scanned every one of them (0.25 s for 100,000), as
    the middle generation's did again later.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


@dataclass(frozen=True)
class Problem:
    """One row/record that was skipped (or imported with a caveat), and why, for a person.

    `lost` names what the file had and the vault will not ("attachment", "passkey", "trashed
    item", …): the preview and the CLI count these, so nothing is dropped without a word.
    """

    where: str
    reason: str
    skipped: bool = True
    lost: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}" + ("" if self.skipped else " (imported)")


def left_out(problems: Iterable[Problem]) -> dict[str, int]:
    """How many of each kind of thing the file had that is not imported ({'attachment': 2})."""
    out: dict[str, int] = {}
    for p in problems:
        if p.lost:
            out[p.lost] = out.get(p.lost, 0) + 1
    return dict(sorted(out.items()))


def left_out_text(problems: Iterable[Problem]) -> str:
    """'2 attachments, 1 passkey' — empty when nothing was left out."""
    return ", ".join(plural(k, n) for k, n in left_out(problems).items())


@dataclass
class ImportReport:
    """What a reader found: the records it could build and the problems it met."""

    format: str
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: Where each record came from ("line 12", "item 3"), parallel to `records`.
    sources: list[str] = field(default_factory=list)
    #: Files a record carries in the source (a KeePass database's attachments): record id →
    #: (name, bytes). Stored as the record's attachments when it is imported (apply.py).
    files: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"ImportReport(format={self.format!r}, records={len(self.records)}, problems={len(self.problems)})"

    def counts(self) -> dict[str, int]:
        """Records per template, for the preview."""
        out: dict[str, int] = {}
        for r in self.records:
            out[r.type] = out.get(r.type, 0) + 1
        return dict(sorted(out.items()))

    def add(self, record: Record, where: str) -> None:
        if not _encodable(
            record
        ):  # sealing encodes UTF-8: unpaired surrogates (JSON "\\ud800") fail
            self.skip(where, "contains invalid Unicode text (an unpaired surrogate escape)")
            return
        self.records.append(record)
        self.sources.append(where)
        hook = _ON_RECORD.get()
        if hook is not None:
            hook(len(self.records))

    def skip(self, where: str, reason: str) -> None:
        self.problems.append(Problem(where, reason))

    def note(self, where: str, reason: str) -> None:
        self.problems.append(Problem(where, reason, skipped=False))

    def lose(self, where: str, what: str, reason: str, *, skipped: bool = False) -> None:
        """Something in the file that is not imported (the record itself too when `skipped`)."""
        self.problems.append(Problem(where, reason, skipped=skipped, lost=what))


Reader = Callable[[IO[bytes]], ImportReport]


def _encodable(record: Record) -> bool:
    """Whether every text of the record is valid UTF-8 once encoded (what sealing needs): one
    encode of all of them joined, a fraction of serialising the record (100,000 imports)."""
    parts = [record.title, record.notes, *record.tags]
    for f in record.fields:
        parts += (f.name, f.value)
    for h in record.history:
        for f in h.fields:
            parts += (f.name, f.value)
    try:
        "\x00".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- text streams ----------------------------------------------------------------------------
def text_stream(stream: IO[bytes], what: str) -> Iterator[str]:
    """Lines of UTF-8 text (BOM dropped), each at most MAX_LINE_CHARS; FormatError otherwise.

    Lines are read one at a time, so a large file is never held as one string. Only \\n, \\r
    and \\r\\n end a line (newline=""), as the csv module needs.
    """
    reader = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
    number = 0
    try:
        while True:
            try:
                line = reader.readline(MAX_LINE_CHARS + 1)
            except UnicodeDecodeError:
                raise FormatError(
                    f"this is not a {what}: line {number + 1} is not UTF-8 text"
                ) from None
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE_CHARS:
                raise FormatError(f"this is not a {what}: line {number} is longer than 16 MiB")
            if "\x00" in line:
                raise FormatError(
                    f"this is not a {what}: line {number} contains binary data (NUL bytes)"
                )
            yield line
    finally:
        with contextlib.suppress(ValueError):  # already closed by the caller
            reader.detach()  # leave the caller's stream open


@dataclass(frozen=True)
class CsvRow:
    """One CSV record: its first line number and its cells."""

    line: int
    cells: list[str]

    @property
    def where(self) -> str:
        return f"line {self.line}"


def sniff_delimiter(first: str) -> str:
    """The separator of a CSV file from its first line: ',' unless ';' or a tab (outside quotes)
    is more frequent — a spreadsheet's re-save in many locales writes semicolons."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for ch in first:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda c: counts[c])
    return best if counts[best] > counts[","] else ","


def _one_newline(cell: str) -> str:
    """Line breaks inside a cell as \\n: a Windows (CRLF) export must not keep \\r in notes."""
    if "\r" not in cell:
        return cell
    return cell.replace("\r\n", "\n").replace("\r", "\n")


LineFilter = Callable[[Iterator[str]], Iterator[str]]


def csv_rows(
    stream: IO[bytes], what: str, *, sniff: bool = True, lines: LineFilter | None = None
) -> Iterator[CsvRow]:
    """Rows of a CSV file (quoted newlines/commas/quotes handled); blank lines skipped.

    The separator is taken from the first line (`sniff`): ',' or, when more frequent, ';' or a
    tab. Line breaks inside cells come out as \\n whatever the file used. `lines` may repair a
    manager's known quoting mistakes before the csv module sees them. A quote left open at the
    end (a truncated file) is a FormatError.
    """
    text = text_stream(stream, what)
    first = next(text, "")
    delimiter = sniff_delimiter(first) if sniff else ","
    source = _chain(first, text)
    reader = csv.reader(lines(source) if lines else source, strict=True, delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            row = CsvRow(start, [_one_newline(c) for c in cells])
            start = reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            yield row
    except csv.Error as exc:
        hint = ""
        if ";" in first:
            hint = (
                " If a spreadsheet saved it, save it again as CSV with commas"
                ' ("CSV UTF-8 (comma delimited)").'
            )
        raise FormatError(
            f"this is not a readable {what} (near line {reader.line_num}: {exc}); "
            f"is the file complete?{hint}"
        ) from None


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


class Columns:
    """A CSV header: finds columns by any of several names, case-insensitively."""

    def __init__(self, header: list[str]) -> None:
        self.names = [h.strip() for h in header]
        self._index: dict[str, int] = {}
        for i, h in enumerate(self.names):
            self._index.setdefault(h.lower(), i)

    def has(self, *names: str) -> bool:
        return any(n.lower() in self._index for n in names)

    def get(self, cells: list[str], *names: str) -> str:
        for n in names:
            i = self._index.get(n.lower())
            if i is not None and i < len(cells):
                return cells[i]
        return ""

    def others(self, cells: list[str], known: set[str]) -> list[tuple[str, str]]:
        """(column, value) of non-empty cells in columns this format does not map."""
        low = {k.lower() for k in known}
        return [
            (n, cells[i])
            for i, n in enumerate(self.names)
            if i < len(cells) and n.lower() not in low and cells[i].strip()
        ]


#: Header columns that only one manager writes: (format, any of these columns).
SIGNATURES = [
    ("bitwarden-csv", ("login_username", "login_password", "login_uri")),
    (
        "dashlane-csv",
        ("username2", "otpSecret", "cc_number", "place_of_issue", "address_door_code"),
    ),
    ("lastpass-csv", ("grouping",)),
    ("nordpass-csv", ("cardholdername", "additional_urls", "custom_fields")),
    ("roboform-csv", ("Rf_fields", "RfFieldsV2", "MatchUrl", "Pwd")),
    ("keepass-csv", ("Group", "Login Name")),
    ("firefox-csv", ("guid", "httpRealm", "formActionOrigin", "timePasswordChanged")),
    ("1password-csv", ("Archived", "ainfo", "autosubmit", "ccnum")),
]
#: Apple Passwords (macOS 15+ / iOS 18) and Safari (older) write exactly these headers.
APPLE_HEADERS = (
    ("Title", "URL", "Username", "Password", "Notes", "OTPAuth"),
    ("Title", "Url", "Username", "Password"),
)
CHROME_COLUMNS = ("name", "url", "username", "password")


def guess_csv(cols: Columns) -> str | None:
    """Which manager wrote a CSV with this header, when the header gives it away."""
    found = csv_candidates(cols)
    return found[0] if len(found) == 1 else None


def csv_candidates(cols: Columns) -> list[str]:
    """Every format whose export could have this header (most specific first)."""
    for fmt, names in SIGNATURES:
        if cols.has(*names):
            return [fmt]
    if tuple(cols.names) in APPLE_HEADERS:
        return ["apple-csv"]
    if all(cols.has(c) for c in CHROME_COLUMNS):
        return ["chrome-csv"]
    if all(cols.has(c) for c in ("title", "username", "password")):
        # 1Password 4–7 (columns chosen by the user), KeePassXC without its Group column, …
        return ["1password-csv", "apple-csv"] if cols.has("url", "website") else ["1password-csv"]
    return []


def header_rows(
    stream: IO[bytes],
    what: str,
    required: tuple[str, ...],
    fmt: str = "",
    lines: LineFilter | None = None,
) -> tuple[Columns, Iterator[CsvRow]]:
    """Read the header, check the required columns, return the rest of the rows.

    A header with another manager's tell-tale columns is refused, naming the right format.

    Rows shorter than the header in the middle are left to the reader (a skipped row); the
    last row short is a truncated file (FormatError).
    """
    rows = csv_rows(stream, what, lines=lines)
    try:
        first = next(rows)
    except StopIteration:
        raise FormatError(f"this is not a {what}: the file is empty") from None
    cols = Columns(first.cells)
    other = guess_csv(cols)
    if fmt and other and other != fmt:
        raise FormatError(
            f"this is not a {what}: it looks like a {other} export (import it as {other})"
        )
    missing = [r for r in required if not cols.has(*r.split("|"))]
    if missing:
        found = ", ".join(cols.names[:12]) or "nothing"
        raise FormatError(
            f"this is not a {what}: the header lacks {', '.join(m.split('|')[0] for m in missing)} "
            f"(found: {found[:200]})"
        )
    width = len(cols.names)

    def body() -> Iterator[CsvRow]:
        pending: CsvRow | None = None
        for row in rows:
            if pending is not None:
                yield pending
            pending = row
        if pending is not None:
            if len(pending.cells) < width:
                raise FormatError(
                    f"this {what} ends in the middle of a row ({pending.where} has "
                    f"{len(pending.cells)} of {width} columns): is the file truncated?"
                )
            yield pending

    return cols, body()


def load_json(stream: IO[bytes], what: str) -> Any:
    """Parse a whole JSON document (json.load: the document is held in memory, up to 256 MiB).

    The first bytes are checked before the rest is read, so a large non-JSON file is refused
    at once.
    """
    head = stream.read(64 * 1024)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"{", b"["):
        raise FormatError(f"this is not a {what}: it does not start with a JSON object")
    try:
        size = os.fstat(stream.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        size = 0
    if size > MAX_JSON_BYTES:
        raise FormatError(f"this {what} is larger than 256 MiB; export fewer items at a time")
    chunks, total = [head], len(head)
    while chunk := stream.read(
        1024 * 1024
    ):  # read(n) with a huge n would allocate n bytes up front
        chunks.append(chunk)
        total += len(chunk)
        if total > MAX_JSON_BYTES:
            raise FormatError(f"this {what} is larger than 256 MiB; export fewer items at a time")
    data = b"".join(chunks)
    del chunks
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise FormatError(f"this is not a {what}: it is not UTF-8 text") from None
    del data  # the bytes, the text and the parsed document are never all held at once
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"this is not a valid {what}: {exc.msg} at line {exc.lineno} column {exc.colno}"
            " (is the file complete?)"
        ) from None
    except RecursionError:
        raise FormatError(f"this is not a valid {what}: nested too deeply") from None


# -- values ----------------------------------------------------------------------------------
#: Field names that say their value is a secret (matched as whole words, case-insensitively):
#: a column or custom field so named is concealed even when its format says "text".
_SECRET_NAME = re.compile(
    r"\b(pass(word|wd|code|phrase)?|pwd|pin|cvv2?|cvc2?|csc|secret|token|otp|totp|seed|ssn"
    r"|answer|ccnum|private|recovery|mnemonic|master[ -]?password|security code"
    r"|card ?number|account key|secret key|api key|license key|licence key|backup codes?)\b"
)


def secret_name(name: str) -> bool:
    """Does this field name say its value is a secret ('CVV', 'account key', 'PIN code')?"""
    low = re.sub(r"[_\-.:]+", " ", name.lower())
    return _SECRET_NAME.search(low) is not None


# -- values (converted) ----------------------------------------------------------------------
def text(value: Any) -> str:
    """A JSON value as text: strings as-is, numbers printed, null/absent empty."""
    if type(value) is str:  # nearly every value: first, and without isinstance's MRO walk
        return value
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    return str(value)


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "y", "x", "on")


def host_of(url: str) -> str:
    """The host of a URL for a title (`https://mail.example.com/x` → `mail.example.com`)."""
    try:
        parts = urlsplit(url.strip() if "://" in url else "//" + url.strip())
        return parts.hostname or url.strip()
    except ValueError:
        return url.strip()


#: The last text `iso_time` read and its time: an item's creation and revision times are often
#: the same text (never edited), and its history's often repeat one.
_LAST_ISO: tuple[str, float | None] = ("", None)


def iso_time(value: str) -> float | None:
    """ISO 8601 (`Z` or offset, optional fraction) → Unix seconds (ms precision); None if not."""
    global _LAST_ISO
    last = _LAST_ISO
    if value == last[0]:
        return last[1]
    out = _iso_time(value)
    _LAST_ISO = (value, out)
    return out


def _iso_time(value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:  # Python 3.11 reads a trailing Z itself; a lower-case z needs the offset written out
        dt = datetime.fromisoformat(value if value[-1] != "z" else value[:-1] + "+00:00")
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        ts = dt.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    # whole milliseconds (nearly every export): the timestamp is already the double nearest
    # to them (an exact division of microseconds), so rounding would give it back, slowly
    return ts if dt.microsecond % 1000 == 0 else round(ts, 3)


def unix_ms(value: str) -> float | None:
    try:
        ms = int(value.strip())
    except ValueError:
        return None
    return ms / 1000 if 0 < ms < 10**14 else None


def split_tags(value: str, seps: str = ",;") -> list[str]:
    out = [value]
    for sep in seps:
        out = [p for part in out for p in part.split(sep)]
    return [t.strip() for t in out if t.strip()]


# -- building records ------------------------------------------------------------------------
@dataclass
class Draft:
    """A record being assembled from a source row; `build` makes the Record (or says why not)."""

    type: str = "login"
    title: str = ""
    values: dict[str, str] = field(default_factory=dict)
    extra: list[Field] = field(default_factory=list)
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    favorite: bool = False
    created: float | None = None
    modified: float | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    totp: str = ""
    #: (name, bytes) of the entry's files, when the source holds them.
    files: list[tuple[str, bytes]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Draft(type={self.type!r})"

    def set(self, name: str, value: str) -> None:
        if value.strip():
            self.values[name] = value

    def add_extra(self, name: str, value: str, kind: FieldKind = FieldKind.TEXT) -> None:
        """A field the template has no slot for (custom fields, unknown columns).

        A text field whose name says secret ("CVV", "secret key") is concealed.
        """
        if value.strip():
            if kind is FieldKind.TEXT and secret_name(name):
                kind = FieldKind.SECRET
            self.extra.append(make_field(name.strip() or "field", kind, value))


def build(draft: Draft, report: ImportReport, where: str) -> Record | None:
    """Turn a draft into a Record (template fields in order, TOTP checked, times kept) and add it.

    Returns None (and records a skipped problem) when the entry has nothing in it.
    """
    tpl = template(draft.type)
    values: dict[str, str] = {}
    extra = list(draft.extra)
    specs = tpl.by_name  # = tpl.spec(name) without a call for each of 300,000 values
    for name, value in draft.values.items():
        if not value.strip():
            continue
        spec = specs.get(name) or specs.get(name.lower())
        if spec is None:
            kind = FieldKind.SECRET if secret_name(name) else FieldKind.TEXT
            extra.append(Field(name, kind, value))
        else:
            values[spec.name] = value
    if draft.totp.strip():
        secret = draft.totp.strip()
        try:
            parse_totp(secret)
        except VaultError as exc:
            extra.append(Field("one-time password (not recognised)", FieldKind.SECRET, secret))
            report.note(where, f"TOTP secret not recognised ({exc}); kept as a concealed field")
        else:
            if tpl.spec("totp") is not None:
                values["totp"] = secret
            else:
                extra.append(Field("totp", FieldKind.TOTP, secret))
    if not (values or extra or draft.notes.strip() or draft.title.strip()):
        report.skip(where, "empty entry (no title, fields or notes)")
        return None
    if not values and not extra and tpl.key == "login":
        tpl = template("note")  # a login with nothing but notes is a secure note
    created = draft.created if draft.created is not None else draft.modified
    modified = draft.modified if draft.modified is not None else created
    # every name is its template's (looked up above): in template order, then the others
    fields = [
        make_field(s.name, s.kind, values.pop(s.name)) for s in tpl.fields if s.name in values
    ]
    rec = record_of(
        tpl.key,
        draft.title.strip(),
        (*fields, *extra),
        notes=draft.notes,
        tags=draft.tags,
        favorite=draft.favorite,
        times=(min(created, modified), modified)
        if created is not None and modified is not None
        else None,
        history=tuple(sorted(draft.history, key=lambda h: h.modified)) if draft.history else (),
    )
    report.add(rec, where)
    if draft.files and report.records and report.records[-1] is rec:
        report.files[rec.id] = list(draft.files)
    return rec


def _lf(value: str) -> str:
    return value.replace("\r\n", "\n") if "\r" in value else value


_PRINT_NAMES: dict[str, str] = {}


def _print_name(name: str) -> str:
    """'Name ' → 'name=' (casefolded, trimmed, and the separator), kept for the next field so
    named; a few thousand distinct names at most are kept."""
    out = name.strip().casefold() + "="
    if len(_PRINT_NAMES) < 4096:
        _PRINT_NAMES[name] = out
    return out


def fingerprint(record: Record) -> str:
    """How a duplicate is recognised: same type, title, fields and notes (see docs/design.md → Import).

    Title and field names compare case-insensitively and trimmed; values and notes compare
    trimmed, line breaks as \\n (a CRLF copy of an export is the same entry). Ids, tags,
    favourite and times do not count.
    """
    parts = [record.type, record.title.strip().casefold()]
    names = _PRINT_NAMES  # a name's compared form, made once per name (an import's 300,000)
    parts += sorted(
        [
            (names.get(f.name) or _print_name(f.name))
            + (f.value if "\r" not in f.value else _lf(f.value)).strip()
            for f in record.fields
        ]
    )
    parts.append(_lf(record.notes).strip())
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
