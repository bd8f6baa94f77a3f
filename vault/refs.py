"""Secret references, `sr://<record>/<field>`: a value named without writing it down.

Scripts, environment files and config templates hold the reference; `strongroom read`, `run`
and `inject` put the value in only where it is used. `<record>` is a record id or its exact
title (case-sensitive); `<field>` a field name (case-insensitive) or one of the pseudo fields
title, notes, tags, type and id. Both parts are percent-decoded, so a `/` inside a title is
written `%2F` and a `%` is written `%25` (`format_ref` does it); nothing else needs escaping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from .errors import InvalidInputError
from .records import Record

SCHEME = "sr://"
#: `{{ sr://… }}` in a template: the reference runs to the closing braces (titles may hold spaces).
TEMPLATE_REF = re.compile(r"\{\{\s*(sr://.+?)\s*\}\}")


@dataclass(frozen=True)
class SecretRef:
    """A parsed reference; `text` is what was written (the name a value is reported under)."""

    text: str
    record: str
    field: str


def is_ref(text: str) -> bool:
    return text.startswith(SCHEME)


def parse_ref(text: str) -> SecretRef:
    """`sr://GitHub/password` → SecretRef; InvalidInputError naming the expected shape."""
    if not is_ref(text):
        raise InvalidInputError(f"{text!r} is not a secret reference (sr://RECORD/FIELD)")
    parts = text[len(SCHEME) :].split("/")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise InvalidInputError(
            f"{text!r} is not a secret reference: expected sr://RECORD/FIELD "
            "(write a / inside a title as %2F)"
        )
    try:
        record, field = (unquote(p, errors="strict") for p in parts)
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"{text!r} is not a secret reference: a %-escape is not UTF-8 (write / as %2F)"
        ) from None
    return SecretRef(text, record, field)


def format_ref(record: str, field: str) -> str:
    """The reference for a record title (or id) and field, with `/` and `%` escaped."""
    return f"{SCHEME}{quote(record, safe=' ')}/{quote(field, safe=' ')}"


def field_or_pseudo(record: Record, name: str) -> str | None:
    """A field's value, or title/notes/tags/type/id; None when the record has no such field."""
    value = record.value(name)
    if value is not None:
        return value
    pseudo = {
        "title": record.display_title,
        "notes": record.notes,
        "tags": ",".join(record.tags),
        "type": record.type,
        "id": record.id,
    }
    return pseudo.get(name.lower())


def template_refs(text: str) -> list[str]:
    """The references a template names, in order of first appearance."""
    return list(dict.fromkeys(m.group(1) for m in TEMPLATE_REF.finditer(text)))


def fill_template(text: str, values: dict[str, str]) -> str:
    """The template with each `{{ sr://… }}` replaced by its value (all must be in `values`)."""
    return TEMPLATE_REF.sub(lambda m: values[m.group(1)], text)
