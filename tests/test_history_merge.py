"""Merging histories (issue 22) is a union: commutative, associative, idempotent, and no version
any device acknowledged is dropped by a merge, whatever order devices exchange versions in.
Property tests on the pure merge and on real vaults (SQLite) exchanging real envelopes."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.merge import survivors
from vault.records import Version, bare, merge_versions, new_record
from vault.vault import Vault

BASE = bare(new_record("login", "Base", {"username": "u", "password": "p"}))

versions = st.builds(
    lambda m, d, notes: Version(float(m), d, replace(BASE, notes=notes, modified=float(m))),
    st.integers(0, 50),
    st.sampled_from(["aaaa", "bbbb", "cccc"]),
    st.sampled_from(["", "x", "y"]),
)
histories = st.lists(versions, max_size=6).map(lambda vs: merge_versions(tuple(vs)))


@given(histories, histories, histories)
def test_merge_is_a_union(
    a: tuple[Version, ...], b: tuple[Version, ...], c: tuple[Version, ...]
) -> None:
    assert merge_versions(a, b) == merge_versions(b, a)
    assert merge_versions(merge_versions(a, b), c) == merge_versions(a, merge_versions(b, c))
    assert merge_versions(a, a) == a
    ids = {v.vid for v in merge_versions(a, b)}
    assert ids == {v.vid for v in a} | {v.vid for v in b}


ops = st.lists(
    st.tuples(st.sampled_from(["edit", "trash", "untrash", "sync"]), st.integers(0, 2)),
    min_size=1,
    max_size=10,
)


def _exchange(vaults: list[Vault], order: list[int]) -> None:
    for i in order:
        for j in order:
            if i != j:
                src = vaults[i].store.grouped().values()
                vaults[j].apply([e for vs in src for e in survivors(vs)], "wifi")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops, st.permutations([0, 1, 2]))
def test_nothing_acknowledged_is_lost_across_three_devices(
    steps: list[tuple[str, int]], order: list[int]
) -> None:
    """Every version of the record any device saw while it was current is, after a full sync
    and one resolving edit, in the history (or is the current version): merge drops none."""
    with tempfile.TemporaryDirectory() as tmp:
        a = Vault.create(Path(tmp) / "a", "ann@example.com", "history merge pw")
        rec = a.add(new_record("login", "Site", {"password": "p0"}))
        vaults = [a] + [Vault.adopt(Path(tmp) / n, a.slot, a.keys, []) for n in ("b", "c")]
        _exchange(vaults, [0, 1, 2])
        seen: set[tuple[str, float]] = set()
        for n, (op, who) in enumerate(steps):
            v = vaults[who]
            cur = v.detail(rec.id).record
            if op == "edit":
                new = v.edit(rec.id, lambda r, n=n, who=who: replace(r, notes=f"{who}:{n}"))
            elif op == "trash" and cur.trashed is None:
                new = v.trash(rec.id)
            elif op == "untrash" and cur.trashed is not None:
                new = v.untrash(rec.id)
            else:
                _exchange(vaults, order)
                continue
            seen.add((new.notes, new.modified))
        _exchange(vaults, order)
        final = vaults[order[0]].edit(rec.id, lambda r: replace(r, title="Site (resolved)"))
        _exchange(vaults, order)
        kept = {(v.snapshot.notes, v.snapshot.modified) for v in final.versions}
        assert seen <= kept
        for v in vaults:
            got = v.detail(rec.id)
            assert not got.conflict and got.record.versions == final.versions
            v.close()
