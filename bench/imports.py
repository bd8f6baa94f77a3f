"""Issue 7 numbers: import 10,000 Bitwarden-JSON records (KDF excluded) under 5 s and 200 MB;
re-import (all duplicates); export; parsing a 50 MB CSV (streamed). `--quick`: 1,000 records."""

from __future__ import annotations

import csv
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

PASSWORD = "bench password 1"


def bitwarden_doc(n: int) -> dict[str, Any]:
    """A realistic personal export: folders, URIs, TOTP on some, custom fields, notes, history."""
    folders = [{"id": f"f-{i}", "name": f"Folder {i}"} for i in range(20)]
    items = []
    for i in range(n):
        items.append(
            {
                "id": f"00000000-0000-4000-8000-{i:012d}",
                "organizationId": None,
                "folderId": f"f-{i % 20}",
                "type": 1,
                "reprompt": 0,
                "name": f"Site {i:05d}",
                "notes": f"note for site {i}\nsecond line" if i % 3 else None,
                "favorite": i % 10 == 0,
                "fields": [{"name": "PIN", "value": f"{i:04d}", "type": 1, "linkedId": None}]
                if i % 4 == 0
                else [],
                "login": {
                    "uris": [{"match": None, "uri": f"https://site{i}.example.com/login"}],
                    "username": f"user{i}@example.com",
                    "password": f"pw-{i}-Correct-Horse-{i * 7919 % 100000}",
                    "totp": "JBSWY3DPEHPK3PXP" if i % 5 == 0 else None,
                },
                "passwordHistory": [
                    {"lastUsedDate": "2023-01-01T00:00:00.000Z", "password": f"old-{i}"}
                ]
                if i % 7 == 0
                else None,
                "collectionIds": None,
                "revisionDate": "2024-01-02T03:04:05.000Z",
                "creationDate": "2022-01-01T00:00:00.000Z",
            }
        )
    return {"encrypted": False, "folders": folders, "items": items}


def _big_csv(path: Path, target_bytes: int) -> int:
    """A Bitwarden CSV of about `target_bytes` (long notes), returns its row count."""
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "folder",
                "favorite",
                "type",
                "name",
                "notes",
                "fields",
                "reprompt",
                "login_uri",
                "login_username",
                "login_password",
                "login_totp",
            ]
        )
        note = 'A long note, with commas and "quotes"\n' * 10
        while f.tell() < target_bytes:
            w.writerow(
                [
                    f"F{rows % 9}",
                    "",
                    "login",
                    f"Row {rows}",
                    note,
                    "k: v",
                    "0",
                    f"https://r{rows}.example",
                    f"u{rows}",
                    f"p{rows}",
                    "",
                ]
            )
            rows += 1
    return rows


def _reset_peak() -> bool:
    """Reset this process's peak RSS (Linux: clear_refs 5), so the next reading covers only what follows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    """Peak RSS since the last reset (VmHWM), else since the start (ru_maxrss)."""
    from bench.common import own_peak_mb

    return own_peak_mb()


def run() -> None:
    from bench.common import ensure_bytecode, refuse_insecure_test_kdf
    from vault import kdf
    from vault.export import export_records, vault_records
    from vault.importers import import_report, read_file
    from vault.vault import Vault

    refuse_insecure_test_kdf()
    ensure_bytecode()
    n = 1_000 if "--quick" in sys.argv else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "bitwarden.json"
        src.write_text(json.dumps(bitwarden_doc(n)), encoding="utf-8")
        size_mb = src.stat().st_size / 1e6
        vault = Vault.create(
            Path(tmp) / "home", "bench@example.com", PASSWORD, params=kdf.PRODUCTION
        )  # KDF: setup

        gc.collect()
        reset = _reset_peak()
        t0 = time.perf_counter()
        report = read_file("bitwarden-json", src)
        t1 = time.perf_counter()
        result = import_report(vault, report)
        t2 = time.perf_counter()
        assert len(result.added) == n, result
        print(
            f"import {n:,} Bitwarden-JSON records ({size_mb:.1f} MB), KDF excluded: "
            f"{t2 - t0:.2f} s  (parse {t1 - t0:.2f} s, dedupe + seal + one transaction {t2 - t1:.2f} s)"
            f"   budget 5 s{'  OK' if t2 - t0 <= 5 else '  OVER'}",
            flush=True,
        )
        peak_rss = _peak_mb()
        print(
            f"  process peak RSS during the import {peak_rss:.0f} MB (whole process: interpreter and SQLite "
            f"included{'' if reset else '; Argon2 too: peak could not be reset'})   budget 200 MB"
            f"{'  OK' if peak_rss <= 200 else '  OVER'}",
            flush=True,
        )

        t0 = time.perf_counter()
        again = import_report(vault, read_file("bitwarden-json", src))
        t1 = time.perf_counter()
        assert not again.added and len(again.duplicates) == n
        print(
            f"re-import the same file (all {n:,} recognised as duplicates): {t1 - t0:.2f} s",
            flush=True,
        )

        t0 = time.perf_counter()
        records, _ = vault_records(vault)
        out = export_records(records, "json", Path(tmp) / "export.json")
        t1 = time.perf_counter()
        print(
            f"export {len(records):,} records as strongroom-json: {t1 - t0:.2f} s "
            f"({out.stat().st_size / 1e6:.1f} MB)",
            flush=True,
        )
        vault.close()

        # Python-heap peak of the import alone (tracemalloc slows it, so timed separately above).
        vault2 = Vault.create(
            Path(tmp) / "home2", "bench@example.com", PASSWORD, params=kdf.PRODUCTION
        )
        gc.collect()
        tracemalloc.start()
        import_report(vault2, read_file("bitwarden-json", src))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        vault2.close()
        print(
            f"  Python-heap peak during the import (tracemalloc): {peak / 1e6:.0f} MB   budget 200 MB"
            f"{'  OK' if peak <= 200e6 else '  OVER'}",
            flush=True,
        )

        big = Path(tmp) / "big.csv"
        rows = _big_csv(big, (5 if "--quick" in sys.argv else 50) * 1024 * 1024)
        gc.collect()
        _reset_peak()
        t0 = time.perf_counter()
        parsed = read_file("bitwarden-csv", big)
        t1 = time.perf_counter()
        assert len(parsed.records) == rows
        print(
            f"parse a {big.stat().st_size / 1e6:.0f} MB Bitwarden CSV ({rows:,} rows, streamed line by line): "
            f"{t1 - t0:.2f} s, process peak RSS {_peak_mb():.0f} MB (the {rows:,} parsed records included)",
            flush=True,
        )
