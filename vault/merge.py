"""The merge engine: every record is a set of versions with version vectors.

Merge = union, then drop every version dominated by another (decided from vectors alone, so
pruning dominated versions is always safe). Several survivors = a conflict: the winner is
chosen deterministically (live before tombstone, then highest hybrid-logical-clock time, then
device id, then ciphertext bytes) and the others stay until a local edit dominates them all.
A delete is a tombstone version, so an edit concurrent with a delete survives.
Used by the local store, backups and every sync method; `merge_into` is the bookkeeping both
stores of versions (this device's SQLite, the account server's database) do with it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from .envelope import MAX_HLC, Envelope, VersionVector, vv_key


def dominates(a: VersionVector, b: VersionVector) -> bool:
    """True when `a` has seen everything `b` has, and more."""
    if a == b:
        return False
    return all(a.get(k, 0) >= v for k, v in b.items())


def covers(a: VersionVector, b: VersionVector) -> bool:
    """True when `a` has seen everything `b` has (equal, or dominating)."""
    return all(a.get(k, 0) >= v for k, v in b.items())


def join(vectors: Iterable[VersionVector]) -> dict[str, int]:
    """The smallest vector that covers all of them: what a reader of those versions has seen."""
    out: dict[str, int] = {}
    for vv in vectors:
        for k, v in vv.items():
            out[k] = max(out.get(k, 0), v)
    return dict(sorted(out.items()))


def concurrent(a: VersionVector, b: VersionVector) -> bool:
    return a != b and not dominates(a, b) and not dominates(b, a)


def survivors(versions: Iterable[Envelope]) -> list[Envelope]:
    """Union then dominance. Copies of one version (same vector, same ciphertext) count once; two
    versions with the same vector and different content are concurrent — a reused causal
    identity (restored or cloned store) wrote them — so both stay. Sorted winner-first."""
    given = versions if isinstance(versions, list) else list(versions)
    if (
        len(given) == 1
    ):  # nearly every record: nothing to compare (export and sync walk all of them)
        return [given[0]]
    by_version: dict[tuple[str, bytes], Envelope] = {}
    for env in given:
        key = (env.vv_text, env.ciphertext)
        cur = by_version.get(key)
        if cur is None or _tiebreak(env) > _tiebreak(cur):
            by_version[key] = env
    cands = list(by_version.values())
    kept = [e for e in cands if not any(dominates(o.vv, e.vv) for o in cands if o is not e)]
    kept.sort(key=_rank, reverse=True)
    return kept


def _tiebreak(env: Envelope) -> tuple[int, str, bool]:
    """Between copies of one ciphertext with different clear headers (only one can be genuine:
    the header is its associated data): any fixed choice keeps merge commutative."""
    return (env.hlc, env.device, env.deleted)


def _rank(env: Envelope) -> tuple[bool, int, str, bytes]:
    return (not env.deleted, env.hlc, env.device, env.ciphertext)


def by_record(envelopes: Iterable[Envelope]) -> dict[str, list[Envelope]]:
    """Envelopes grouped by record id, in the order given."""
    groups: dict[str, list[Envelope]] = {}
    for env in envelopes:
        groups.setdefault(env.record_id, []).append(env)
    return groups


@dataclass(frozen=True)
class StoreChange:
    """What a store of versions must do to hold the merge of one record: nothing when both are empty.

    `drop`: stored versions that no longer survive (dominated, or an identical vector whose other
    copy won the tie-break). `add`: surviving versions the store does not hold yet; a stored copy
    with the same vector must be replaced by it.
    """

    drop: list[Envelope] = field(default_factory=list)
    add: list[Envelope] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.drop or self.add)


def merge_into(stored: list[Envelope], incoming: list[Envelope]) -> StoreChange:
    """The change that makes a store holding `stored` (one record's versions) hold their
    survivors together with `incoming`."""
    kept = survivors(stored + incoming)
    have = {(e.vv_text, e.ciphertext) for e in stored}
    keep = {(e.vv_text, e.ciphertext) for e in kept}
    return StoreChange(
        drop=[e for e in stored if (e.vv_text, e.ciphertext) not in keep],
        add=[e for e in kept if (e.vv_text, e.ciphertext) not in have],
    )


@dataclass(frozen=True)
class RecordState:
    """The merged view of one record id."""

    winner: Envelope
    others: tuple[Envelope, ...]

    @property
    def deleted(self) -> bool:
        return self.winner.deleted

    @property
    def conflict(self) -> bool:
        """Concurrent live versions that nobody has resolved yet."""
        return sum(1 for e in self.others if not e.deleted) > 0 and not self.winner.deleted


def state(versions: Iterable[Envelope]) -> RecordState:
    kept = survivors(versions)
    return RecordState(kept[0], tuple(kept[1:]))


def next_version(
    current: Iterable[Envelope], device: str, wall_ms: int | None = None
) -> tuple[dict[str, int], int]:
    """Vector and HLC time for a local write that supersedes every current version."""
    given = current if isinstance(current, list) else list(current)
    vv = join(e.vv for e in given)
    vv[device] = vv.get(device, 0) + 1
    return dict(sorted(vv.items())), _clock(given, wall_ms)


def first_version(device: str, wall_ms: int | None = None) -> tuple[dict[str, int], int]:
    """= next_version([], device): a record's first version (an import's new records)."""
    return {device: 1}, _clock([], wall_ms)


def version_beside(
    seen: VersionVector, current: Iterable[Envelope], actor: str, wall_ms: int | None = None
) -> tuple[dict[str, int], int]:
    """Vector and HLC time for a write that supersedes what its writer saw (`seen`) and nothing
    else: it is concurrent with every current version `seen` does not cover, so both survive as
    a conflict. `actor` must be a fresh id that never wrote: the device's own counter cannot make
    a write concurrent with another version that same device wrote meanwhile (a CLI edit while
    the app's form was open)."""
    given = current if isinstance(current, list) else list(current)
    vv = dict(seen)
    vv[actor] = vv.get(actor, 0) + 1
    return dict(sorted(vv.items())), _clock(given, wall_ms)


def _clock(current: list[Envelope], wall_ms: int | None) -> int:
    """Hybrid logical clock: the wall clock, but always after every version it follows (never past
    the envelope's limit: at it, the vector alone orders the versions)."""
    wall = int(time.time() * 1000) if wall_ms is None else wall_ms
    return min(MAX_HLC, max(wall, max((e.hlc for e in current), default=0) + 1))


__all__ = [
    "RecordState",
    "StoreChange",
    "by_record",
    "concurrent",
    "covers",
    "dominates",
    "first_version",
    "join",
    "merge_into",
    "next_version",
    "state",
    "survivors",
    "version_beside",
    "vv_key",
]
