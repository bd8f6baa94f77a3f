"""Whether the machine's PostgreSQL answers: server tests run on it when it does, and skip with
the reason when it does not (SQLite stays the embedded default and always runs)."""

from __future__ import annotations

import os

PG_URL = os.environ.get("STRONGROOM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_unavailable() -> str | None:
    """None when PostgreSQL answers at PG_URL, else the reason to skip."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
        return f"PostgreSQL not reachable at {PG_URL} ({exc.__class__.__name__}); set STRONGROOM_TEST_PG"
    return None
