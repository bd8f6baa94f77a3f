"""The account server: `python3 -m bench server [--quick] [--pg]` runs `sync.server.bench`.

200 concurrent clients syncing small changes (p50/p99), bytes for a one-record change in a
10,000-record vault, first sign-in download of 10,000 records (KDF excluded). `--quick`: 50
clients, 5 rounds, 2,000 records. `--pg`: the same run against PostgreSQL too (STRONGROOM_TEST_PG
or postgresql://postgres@127.0.0.1:5432/test; a fresh schema, dropped afterwards).
Targets (issue 5): p99 < 100 ms, < 4 KB per one-record change, first sign-in < 3 s.
"""

from __future__ import annotations

import os
import sys


def run() -> None:
    from sync.server.bench import main

    quick = "--quick" in sys.argv
    args = ["--clients", "50", "--rounds", "5", "--records", "2000"] if quick else []
    main(args)
    if "--pg" in sys.argv:
        main(
            [
                *args,
                "--pg",
                os.environ.get("STRONGROOM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"),
            ]
        )
