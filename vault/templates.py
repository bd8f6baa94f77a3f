"""Record templates and field kinds (PRODUCT.md → Records)."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

from .errors import InvalidInputError


class FieldKind(enum.StrEnum):
    TEXT = "text"
    SECRET = "secret"
    URL = "url"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    NUMBER = "number"
    PIN = "pin"
    NOTE = "note"
    TOTP = "totp"

    @property
    def concealed(self) -> bool:
        """Masked until revealed, and kept in history when changed."""
        return self in (FieldKind.SECRET, FieldKind.PIN, FieldKind.TOTP)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: FieldKind
    label: str
    #: Shown masked until revealed though its kind is not a secret's (a card's number): the
    #: stored kind stays, so records written before keep their format and still mask.
    masked: bool = False


@dataclass(frozen=True)
class Template:
    key: str
    label: str
    fields: tuple[FieldSpec, ...]

    def spec(self, name: str) -> FieldSpec | None:
        return self.by_name.get(name.lower())

    def conceals(self, name: str, kind: FieldKind) -> bool:
        """Whether a field of this name and kind shows masked until revealed (view, form, CLI)."""
        if kind.concealed:
            return True
        spec = self.spec(name)
        return spec is not None and spec.masked

    @functools.cached_property
    def by_name(self) -> dict[str, FieldSpec]:
        """Specs by name (an import looks up every field of 100,000 records)."""
        return {f.name: f for f in reversed(self.fields)}


#: A field masked until revealed though its kind is not a secret's (see FieldSpec.masked).
MASKED = "masked"


def _t(
    key: str, label: str, *fields: tuple[str, FieldKind, str] | tuple[str, FieldKind, str, str]
) -> Template:
    return Template(key, label, tuple(FieldSpec(f[0], f[1], f[2], MASKED in f[3:]) for f in fields))


K = FieldKind
TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        _t(
            "login",
            "Login",
            ("username", K.TEXT, "Username"),
            ("password", K.SECRET, "Password"),
            ("url", K.URL, "Website"),
            ("totp", K.TOTP, "One-time password"),
        ),
        _t(
            "credit-card",
            "Credit Card",
            ("cardholder", K.TEXT, "Cardholder"),
            ("number", K.NUMBER, "Card number", MASKED),
            ("expiry", K.DATE, "Expiry date"),
            ("cvv", K.PIN, "Security code"),
            ("pin", K.PIN, "PIN"),
            ("issuer", K.TEXT, "Issuer"),
        ),
        _t(
            "bank-account",
            "Bank Account",
            ("bank", K.TEXT, "Bank"),
            ("holder", K.TEXT, "Account holder"),
            ("number", K.NUMBER, "Account number"),
            ("routing", K.NUMBER, "Routing / sort code"),
            ("iban", K.TEXT, "IBAN"),
            ("swift", K.TEXT, "SWIFT / BIC"),
            ("pin", K.PIN, "PIN"),
        ),
        _t(
            "email-account",
            "Email Account",
            ("email", K.EMAIL, "Email"),
            ("username", K.TEXT, "Username"),
            ("password", K.SECRET, "Password"),
            ("imap", K.TEXT, "Incoming server"),
            ("smtp", K.TEXT, "Outgoing server"),
        ),
        _t(
            "identity",
            "Identity",
            ("first-name", K.TEXT, "First name"),
            ("last-name", K.TEXT, "Last name"),
            ("email", K.EMAIL, "Email"),
            ("phone", K.PHONE, "Phone"),
            ("address", K.NOTE, "Address"),
            ("birthday", K.DATE, "Birthday"),
        ),
        _t("note", "Note"),
        _t("password", "Password", ("password", K.SECRET, "Password"), ("url", K.URL, "Website")),
        _t(
            "software-licence",
            "Software Licence",
            ("product", K.TEXT, "Product"),
            ("version", K.TEXT, "Version"),
            ("licence-key", K.SECRET, "Licence key"),
            ("email", K.EMAIL, "Registered email"),
            ("purchased", K.DATE, "Purchase date"),
        ),
        _t(
            "wifi",
            "Wi-Fi",
            ("ssid", K.TEXT, "Network name"),
            ("password", K.SECRET, "Password"),
            ("security", K.TEXT, "Security"),
        ),
        _t(
            "passport",
            "Passport",
            ("full-name", K.TEXT, "Full name"),
            ("number", K.TEXT, "Passport number"),
            ("country", K.TEXT, "Country"),
            ("issued", K.DATE, "Issued"),
            ("expires", K.DATE, "Expires"),
        ),
        _t(
            "drivers-licence",
            "Driver's Licence",
            ("full-name", K.TEXT, "Full name"),
            ("number", K.TEXT, "Licence number"),
            ("region", K.TEXT, "Country / state"),
            ("expires", K.DATE, "Expires"),
        ),
        _t(
            "membership",
            "Membership",
            ("organisation", K.TEXT, "Organisation"),
            ("member-id", K.TEXT, "Member ID"),
            ("password", K.SECRET, "Password"),
            ("pin", K.PIN, "PIN"),
            ("expires", K.DATE, "Expires"),
        ),
        _t(
            "insurance",
            "Insurance",
            ("company", K.TEXT, "Company"),
            ("policy", K.TEXT, "Policy number"),
            ("phone", K.PHONE, "Phone"),
            ("expires", K.DATE, "Expires"),
        ),
        _t(
            "ssh-key",
            "SSH Key",
            ("private-key", K.SECRET, "Private key"),
            ("public-key", K.TEXT, "Public key"),
            ("fingerprint", K.TEXT, "Fingerprint"),
            ("comment", K.TEXT, "Comment"),
            ("ask", K.TEXT, "Ask before each use (yes/no)"),
        ),
        _t("custom", "Custom"),
    )
}

#: Spellings people type for a template key.
ALIASES = {
    "credit card": "credit-card",
    "card": "credit-card",
    "bank": "bank-account",
    "email": "email-account",
    "software-license": "software-licence",
    "license": "software-licence",
    "licence": "software-licence",
    "drivers-license": "drivers-licence",
    "wi-fi": "wifi",
    "secure-note": "note",
    "ssh": "ssh-key",
}


def template(key: str) -> Template:
    low = key.strip().lower().replace("_", "-")
    low = ALIASES.get(low, low)
    try:
        return TEMPLATES[low]
    except KeyError:
        raise InvalidInputError(
            f"unknown record type {key!r}; choose one of: {', '.join(TEMPLATES)}"
        ) from None
