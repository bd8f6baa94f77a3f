"""The OpenAPI 3.1 description of the API, served at /openapi.json and copied to docs/openapi.json."""

from __future__ import annotations

from typing import Any


def spec() -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "Strongroom account server", "version": "1"}, "paths": {}}
