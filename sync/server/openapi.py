"""The OpenAPI 3.1 description of the API, served at /openapi.json; `python -m sync.server.openapi`
writes docs/openapi.json (a test checks the copy is current)."""

from __future__ import annotations

import json
from typing import Any

B64 = {"type": "string", "contentEncoding": "base64"}
INT = {"type": "integer", "minimum": 0}
STR = {"type": "string"}
EMAIL = {"type": "string", "maxLength": 254}
KDF = {
    "type": "object",
    "required": ["m", "t", "p"],
    "properties": {"m": INT, "t": INT, "p": INT},
    "description": "Argon2id cost: memory KiB, passes, lanes",
}
CREDENTIALS = {
    "type": "object",
    "required": ["srp_salt", "verifier", "kdf", "kdf_salt", "wrapped_vk"],
    "description": "Made on the device; nothing here decrypts anything.",
    "properties": {
        "srp_salt": {**B64, "description": "16 bytes"},
        "verifier": {
            **B64,
            "description": "SRP-6a verifier of x_auth (SHA-256, RFC 5054 4096-bit)",
        },
        "kdf": KDF,
        "kdf_salt": {**B64, "description": "16 bytes"},
        "wrapped_vk": {**B64, "description": "Vault Key sealed under K_unlock (AES-256-GCM)"},
    },
}
ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {
            "type": "string",
            "description": "machine code, e.g. signin_failed, stale_keys, "
            "password_changed, account_reset, session_expired, wrong_device, device_removed, "
            "proof_required, proof_failed, rate_limited, too_large, link_invalid",
        },
        "message": {"type": "string", "description": "for a person; never holds secrets"},
    },
}
PROOF = {
    "type": "object",
    "required": ["challenge", "M", "mac"],
    "description": "Fresh proof of the current credentials (docs/formats.md): `challenge` from "
    "POST /v1/proof/start, the SRP-6a proof M made with the current x_auth, and "
    "mac = HMAC-SHA256(K, 'strongroom-proof-v1\\n' + METHOD + ' ' + path + '\\n' + the body "
    "without `proof` as JSON with sorted keys, no spaces, ASCII only). Single use.",
    "properties": {"challenge": STR, "M": B64, "mac": {**B64, "description": "32 bytes"}},
}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def _op(
    summary: str,
    body: dict[str, Any] | None,
    ok: dict[str, Any],
    *,
    auth: bool = False,
    status: str = "200",
    errors: tuple[str, ...] = ("400",),
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            status: {"description": "OK", "content": {"application/json": {"schema": ok}}},
            **{
                e: {
                    "description": "error",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
                for e in (*errors, "413", "429")
            },
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if auth:
        op["security"] = [{"session": [], "device": []}]
        op["responses"]["401"] = {
            "description": "no session, signed out, expired (session_expired: sign in again "
            "with the same keys), sent by another device (wrong_device), device removed, "
            "password changed or reset",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return op


OK = _obj(["ok"], ok={"type": "boolean"})
HEALTH = _obj(
    ["status", "database", "schema", "expected_schema"],
    status={"enum": ["ok", "unavailable"]},
    database={"enum": ["ok", "unreachable"]},
    schema={"type": ["integer", "null"], "description": "newest migration applied"},
    expected_schema={**INT, "description": "the migration this build needs"},
    migrations={"enum": ["pending", "newer than this build"]},
)


def _confirm_answers(what: str) -> dict[str, Any]:
    """The answers to confirming a reset (HTML pages), `what` naming the token it took."""
    html: dict[str, Any] = {"text/html": {}}
    return {
        "200": {"description": "done page with the setup code", "content": html},
        "400": {"description": "box not ticked", "content": html},
        "410": {"description": f"used, expired or unknown {what}", "content": html},
    }


def spec() -> dict[str, Any]:
    signin = _obj(
        [
            "token",
            "M2",
            "account_id",
            "email",
            "generation",
            "epoch",
            "wrapped_vk",
            "kdf",
            "kdf_salt",
            "revision",
            "plan",
        ],
        token=STR,
        M2=B64,
        account_id=STR,
        email=EMAIL,
        generation=INT,
        epoch=INT,
        wrapped_vk=B64,
        kdf=KDF,
        kdf_salt=B64,
        revision=INT,
        plan=STR,
    )
    remove = _op(
        "Remove a device: its sessions are revoked (device_removed). Another device than the "
        "caller needs a fresh proof; the caller's own needs none (and no body)",
        _obj([], proof=PROOF),
        _obj(["ok"], ok={"type": "boolean"}, M2=B64),
        auth=True,
        errors=("400", "403", "404"),
    )
    remove["requestBody"]["required"] = False
    paths: dict[str, Any] = {
        "/healthz": {
            "get": {
                "summary": "For load balancers: the database answers (on a new connection) and its "
                "schema is this build's",
                "responses": {
                    code: {
                        "description": what,
                        "content": {"application/json": {"schema": HEALTH}},
                    }
                    for code, what in (
                        ("200", "serving"),
                        ("503", "database unreachable or migrations not current"),
                    )
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus text format: requests by route and status, a latency "
                "histogram by route, pushes, pulls and envelopes; totals over every process "
                "of a --workers N server",
                "responses": {
                    "200": {
                        "description": "text exposition format 0.0.4",
                        "content": {"text/plain": {"schema": STR}},
                    }
                },
            }
        },
        "/v1/health": {
            "get": _op(
                "Liveness and schema version",
                None,
                _obj(["ok"], ok={"type": "boolean"}, schema=INT),
            )
        },
        "/v1/signup": {
            "post": _op(
                "Create an account (keys made on the device)",
                _obj(
                    ["email", "account_id", "credentials"],
                    email=EMAIL,
                    account_id={**STR, "minLength": 10, "maxLength": 10},
                    hint={**STR, "maxLength": 200},
                    credentials=CREDENTIALS,
                ),
                OK,
                status="201",
                errors=("400", "409"),
            )
        },
        "/v1/prelogin": {
            "post": _op(
                "KDF cost and salt (stable fake ones for unknown emails)",
                _obj(["email"], email=EMAIL),
                _obj(["kdf", "kdf_salt"], kdf=KDF, kdf_salt=B64),
            )
        },
        "/v1/signin/start": {
            "post": _op(
                "SRP-6a step 1: A → challenge, salt, B",
                _obj(["email", "A"], email=EMAIL, A=B64),
                _obj(["challenge", "srp_salt", "B"], challenge=STR, srp_salt=B64, B=B64),
            )
        },
        "/v1/signin/finish": {
            "post": _op(
                "SRP-6a step 2: M → session and wrapped keys; M2 proves the server",
                _obj(
                    ["email", "challenge", "M", "device_id", "device_name"],
                    email=EMAIL,
                    challenge=STR,
                    M=B64,
                    device_id={**STR, "maxLength": 64},
                    device_name={**STR, "maxLength": 100},
                ),
                signin,
                errors=("400", "401"),
            )
        },
        "/v1/signout": {"post": _op("End this session", None, OK, auth=True)},
        "/v1/account": {
            "get": _op(
                "Account status and plan",
                None,
                _obj(
                    ["account_id", "email", "plan", "generation", "epoch", "revision", "records"],
                    account_id=STR,
                    email=EMAIL,
                    plan=STR,
                    generation=INT,
                    epoch=INT,
                    revision=INT,
                    records=INT,
                ),
                auth=True,
            )
        },
        "/v1/account/keys": {
            "get": _op(
                "Wrapped Vault Key and KDF salt/cost",
                None,
                _obj(
                    ["generation", "epoch", "wrapped_vk", "kdf", "kdf_salt"],
                    generation=INT,
                    epoch=INT,
                    wrapped_vk=B64,
                    kdf=KDF,
                    kdf_salt=B64,
                ),
                auth=True,
            )
        },
        "/v1/proof/start": {
            "post": _op(
                "Fresh SRP-6a challenge against the current verifier, for a proof a credential "
                "change or device removal carries (bound to this session's device)",
                _obj(["A"], A=B64),
                _obj(["challenge", "srp_salt", "B"], challenge=STR, srp_salt=B64, B=B64),
                auth=True,
            )
        },
        "/v1/password": {
            "post": _op(
                "Change password or rotate the Account Key: atomic swap of verifier, KDF salt and "
                "wrapped VK; epoch + 1; only with a fresh proof of the current credentials. With "
                "key_change (a device removal's SRKC bytes, docs/formats.md), in the same "
                "transaction: the key change is kept for the remaining devices, the removed "
                "device's sessions are revoked (device_removed) and every envelope of the account, "
                "sealed under the replaced key, is dropped; revision (the server revision the "
                "device pulled up to) must be the account's, else 409 behind",
                _obj(
                    ["epoch", "new_epoch", "credentials", "proof"],
                    epoch=INT,
                    new_epoch=INT,
                    credentials=CREDENTIALS,
                    proof=PROOF,
                    key_change=B64,
                    revision=INT,
                ),
                _obj(["epoch", "M2"], epoch=INT, M2=B64),
                auth=True,
                errors=("400", "403", "409"),
            )
        },
        "/v1/devices": {
            "get": _op(
                "Devices signed in to this account",
                None,
                _obj(
                    ["devices"],
                    devices={
                        "type": "array",
                        "items": _obj(
                            ["device_id", "name", "created", "last_seen", "this"],
                            device_id=STR,
                            name=STR,
                            created=INT,
                            last_seen=INT,
                            this={"type": "boolean"},
                        ),
                    },
                ),
                auth=True,
            )
        },
        "/v1/keychange/{kid}": {
            "get": {
                **_op(
                    "The key change (SRKC) moving away from the Vault Key with this key id (hex): "
                    "a device that is behind a device removal fetches it with its session, which "
                    "may predate the change (never a revoked one), and follows",
                    None,
                    _obj(["key_change"], key_change=B64),
                    auth=True,
                    errors=("400", "401", "404"),
                ),
                "parameters": [{"name": "kid", "in": "path", "required": True, "schema": STR}],
            }
        },
        "/v1/devices/{device_id}": {
            "delete": {
                **remove,
                "parameters": [
                    {"name": "device_id", "in": "path", "required": True, "schema": STR}
                ],
            }
        },
        "/v1/sync/push": {
            "post": _op(
                "Upload envelopes; merged with the engine's rules; CAS on generation/epoch",
                _obj(
                    ["generation", "epoch", "envelopes"],
                    generation=INT,
                    epoch=INT,
                    envelopes={"type": "array", "items": B64},
                ),
                _obj(["revision", "stored"], revision=INT, stored=INT),
                auth=True,
                errors=("400", "409"),
            )
        },
        "/v1/sync/pull": {
            "post": _op(
                "Envelopes stored after server revision `since`, oldest first",
                _obj(
                    ["generation", "since"],
                    generation=INT,
                    since=INT,
                    limit={**INT, "maximum": 2000},
                ),
                _obj(
                    ["envelopes", "next", "revision", "more"],
                    envelopes={"type": "array", "items": B64},
                    next=INT,
                    revision=INT,
                    more={"type": "boolean"},
                ),
                auth=True,
                errors=("400", "409"),
            )
        },
        "/v1/blobs": {
            "get": _op(
                "The account's complete attachment blobs (name → size), bytes used and quota",
                None,
                _obj(
                    ["blobs", "used", "quota"],
                    blobs={"type": "object", "additionalProperties": INT},
                    used=INT,
                    quota=INT,
                ),
                auth=True,
            )
        },
        "/v1/blobs/forget": {
            "post": _op(
                "Delete blobs no record names any more (at most 500 names); only those uploaded "
                "more than the server's grace period ago (24 h by default) go, with uploads "
                "abandoned for 7 days",
                _obj(["names"], names={"type": "array", "items": STR}),
                _obj(
                    ["forgotten", "kept", "used"],
                    forgotten={"type": "array", "items": STR},
                    kept={"type": "array", "items": STR},
                    used=INT,
                ),
                auth=True,
            )
        },
        "/v1/blobs/{name}": {
            "get": {
                **_op(
                    "Whether a blob is complete and which parts the server holds (resume)",
                    None,
                    _obj(
                        ["complete", "size", "parts"],
                        complete={"type": "boolean"},
                        size={"type": ["integer", "null"]},
                        parts={"type": "array", "items": INT},
                    ),
                    auth=True,
                ),
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": STR}],
            }
        },
        "/v1/blobs/{name}/commit": {
            "post": {
                **_op(
                    "Make an uploaded blob visible once its parts carry its name (atomic)",
                    _obj(["size", "parts"], size=INT, parts=INT),
                    OK,
                    auth=True,
                ),
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": STR}],
            }
        },
        "/v1/blobs/{name}/parts/{idx}": {
            "put": {
                **_op(
                    "Store one part (raw bytes, at most 4 MiB) of a blob being uploaded; "
                    "413 quota_exceeded over the account's quota",
                    None,
                    _obj(["ok", "complete"], ok={"type": "boolean"}, complete={"type": "boolean"}),
                    auth=True,
                ),
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": STR},
                    {"name": "idx", "in": "path", "required": True, "schema": INT},
                ],
            },
            "get": {
                **_op(
                    "One part of a complete blob (raw bytes, application/octet-stream)",
                    None,
                    {"type": "string", "format": "binary"},
                    auth=True,
                    errors=("400", "404"),
                ),
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": STR},
                    {"name": "idx", "in": "path", "required": True, "schema": INT},
                ],
            },
        },
        "/v1/hint": {
            "post": _op(
                "Email the password hint (same answer for unknown emails)",
                _obj(["email"], email=EMAIL),
                OK,
                status="202",
            )
        },
        "/v1/reset/request": {
            "post": _op(
                "Email a single-use, expiring reset link (same answer for unknown emails)",
                _obj(["email"], email=EMAIL),
                OK,
                status="202",
            )
        },
        "/v1/reset/setup-info": {
            "post": _op(
                "Account id and new generation for the setup code from the reset page",
                _obj(["email", "code"], email=EMAIL, code=STR),
                _obj(["account_id", "generation"], account_id=STR, generation=INT),
                errors=("400", "410"),
            )
        },
        "/v1/reset/complete": {
            "post": _op(
                "Install keys made in the app after a reset (uses the setup code)",
                _obj(
                    ["email", "code", "generation", "credentials"],
                    email=EMAIL,
                    code=STR,
                    generation=INT,
                    credentials=CREDENTIALS,
                ),
                OK,
                errors=("400", "409", "410"),
            )
        },
        "/reset/{token}": {
            "get": {
                "summary": "Reset page (HTML): what is wiped and kept, confirmation form. Opening "
                "the link uses it up: the form carries its own token, posted to /reset",
                "parameters": [{"name": "token", "in": "path", "required": True, "schema": STR}],
                "responses": {
                    "200": {"description": "page", "content": {"text/html": {}}},
                    "410": {
                        "description": "used, expired or unknown link",
                        "content": {"text/html": {}},
                    },
                },
            },
            "post": {
                "summary": "Confirm an unopened link (form field confirm=wipe): wipe cloud data and "
                "keys, bump the generation",
                "parameters": [{"name": "token", "in": "path", "required": True, "schema": STR}],
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": _obj(["confirm"], confirm={"const": "wipe"})
                        }
                    }
                },
                "responses": _confirm_answers("link"),
            },
        },
        "/reset": {
            "post": {
                "summary": "The reset page's form: confirm (confirm=wipe) with the form's token",
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": _obj(
                                ["token", "confirm"], token=STR, confirm={"const": "wipe"}
                            )
                        }
                    }
                },
                "responses": _confirm_answers("form token"),
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Strongroom account server",
            "version": "1",
            "description": "Stores only SRP verifiers, wrapped keys and encrypted envelopes. See docs/server.md.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {
                "session": {"type": "http", "scheme": "bearer"},
                "device": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Strongroom-Device",
                    "description": "the device id the session was issued to (sign-in's "
                    "device_id); sessions made before schema 3 may omit it until their cutoff",
                },
            },
        },
    }


def dumps() -> str:
    return json.dumps(spec(), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    import sys
    from pathlib import Path

    Path(sys.argv[1] if len(sys.argv) > 1 else "docs/openapi.json").write_text(dumps())
