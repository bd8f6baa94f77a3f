"""Merge properties (hypothesis): 3+ devices, random interleavings of edits, deletes and syncs with
clock skew, through the real SQLite store — convergence, no silent loss, idempotent, commutative,
associative."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import tempfile
import time as _real_time
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from vault.envelope import Envelope, vv_key
from vault.merge import by_record, dominates, merge_into, next_version, state, survivors
from vault.records import Field, Record
from vault.store import Store
from vault.templates import FieldKind

#: `python3 -m bench soak` sets STRONGROOM_SOAK=N: N times as many examples.
SOAK = int(os.environ.get("STRONGROOM_SOAK", "1"))
DEVICES = ["dev-a", "dev-b", "dev-c", "dev-d"]
RECORDS = ["r1", "r2", "r3"]

write = st.tuples(
    st.just("write"),
    st.integers(0, 3),
    st.integers(0, 2),
    st.booleans(),
    st.integers(-5_000_000, 5_000_000),
)
sync = st.tuples(st.just("sync"), st.integers(0, 3), st.integers(0, 3))
#: device j becomes a copy of device i's store and writes as i from then on: a cloned home, or a
#: store put back from a copy, whose reused identity went unnoticed (same vector, new content)
clone = st.tuples(st.just("clone"), st.integers(0, 3), st.integers(0, 3))
ops = st.lists(st.one_of(write, sync, clone), min_size=1, max_size=40)


def _content(store: Store) -> frozenset[tuple[str, str, bytes]]:
    return frozenset((e.record_id, e.vv_text, e.ciphertext) for e in store.all_versions())


def _ints(op: tuple[object, ...]) -> list[int]:
    """The integer arguments of a generated operation (a bool counts as 0/1)."""
    return [int(x) for x in op[1:] if isinstance(x, int)]


def _run(ops_list: list[tuple[object, ...]], folder: Path) -> tuple[list[Store], list[Envelope]]:
    stores = [Store(folder / f"{d}.db") for d in DEVICES]
    names = list(DEVICES)  # the identity each device writes as
    retired: list[Store] = []
    written: list[Envelope] = []
    base = 1_700_000_000_000
    for n, op in enumerate(ops_list):
        if op[0] == "write":
            dev, rec, deleted, skew = _ints(op)
            rid = RECORDS[rec]
            store = stores[dev]
            vv, hlc = next_version(store.versions(rid), names[dev], wall_ms=base + n * 1000 + skew)
            env = Envelope(rid, vv_key(vv), hlc, names[dev], bool(deleted), f"{n}".encode() * 4)
            store.apply([env])
            written.append(env)
        elif op[0] == "clone":
            i, j = _ints(op)
            if i != j:  # the old store stays in the gossip (it may hold unsynced writes)
                retired.append(stores[j])
                stores[j] = Store(folder / f"{DEVICES[j]}-clone-{n}.db")
                stores[j].apply(stores[i].all_versions())
                names[j] = names[i]
        else:
            i, j = _ints(op)
            a, b = stores[i], stores[j]
            a.apply(b.all_versions())
            b.apply(a.all_versions())
    return stores + retired, written


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_devices_converge_and_nothing_is_silently_lost(ops_list: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stores, written = _run(ops_list, Path(tmp))
        for _ in range(2):  # a full gossip round (twice) reaches everyone
            for a, b in itertools.permutations(stores, 2):
                a.apply(b.all_versions())
        contents = {_content(s) for s in stores}
        assert len(contents) == 1, "devices did not converge"
        final = stores[0]
        for rid, versions in final.grouped().items():
            winners = {state(s.versions(rid)).winner.ciphertext for s in stores}
            assert len(winners) == 1, "devices show different winners"
            assert state(versions).winner.ciphertext in {v.ciphertext for v in versions}
        kept = final.all_versions()
        for w in written:  # every write survives, or a write that saw it supersedes it
            assert any(
                k.ciphertext == w.ciphertext or dominates(k.vv, w.vv)
                for k in kept
                if k.record_id == w.record_id
            )
        for s in stores:
            s.close()


envs = st.builds(
    lambda rid, vv, hlc, dev, deleted, body: Envelope(rid, vv_key(vv), hlc, dev, deleted, body),
    st.sampled_from(RECORDS),
    st.dictionaries(st.sampled_from(DEVICES), st.integers(1, 4), min_size=1, max_size=3),
    st.integers(0, 10),
    st.sampled_from(DEVICES),
    st.booleans(),
    st.binary(min_size=1, max_size=3),
)


def _key(es: list[Envelope]) -> frozenset[tuple[str, str, bytes]]:
    return frozenset((e.record_id, e.vv_text, e.ciphertext) for e in es)


def _merge(*groups: list[Envelope]) -> list[Envelope]:
    by_record: dict[str, list[Envelope]] = {}
    for g in groups:
        for e in g:
            by_record.setdefault(e.record_id, []).append(e)
    return [e for vs in by_record.values() for e in survivors(vs)]


def _genuine(es: list[Envelope]) -> list[Envelope]:
    """One clear header per ciphertext, as the AEAD guarantees (the header is its associated
    data). Several bodies under one vector stay: a reused causal identity writes those."""
    seen: dict[tuple[str, str, bytes], Envelope] = {}
    for e in es:
        seen.setdefault((e.record_id, e.vv_text, e.ciphertext), e)
    return list(seen.values())


@settings(max_examples=200, deadline=None)
@given(st.lists(envs, max_size=8), st.lists(envs, max_size=8), st.lists(envs, max_size=8))
def test_merge_is_idempotent_commutative_associative(
    a: list[Envelope], b: list[Envelope], c: list[Envelope]
) -> None:
    pool = _genuine(a + b + c)
    index = {(e.record_id, e.vv_text, e.ciphertext): e for e in pool}
    a, b, c = ([index[(e.record_id, e.vv_text, e.ciphertext)] for e in g] for g in (a, b, c))
    for rid, vv_text in {(e.record_id, e.vv_text) for e in pool}:  # same vector, other body:
        bodies = {e.ciphertext for e in pool if (e.record_id, e.vv_text) == (rid, vv_text)}
        kept = {e.ciphertext for e in _merge(pool) if (e.record_id, e.vv_text) == (rid, vv_text)}
        assert not kept or kept == bodies  # concurrent: all of them survive, or none does
    assert _key(_merge(a, a)) == _key(_merge(a))
    assert _key(_merge(a, b)) == _key(_merge(b, a))
    assert _key(_merge(_merge(a, b), c)) == _key(_merge(a, _merge(b, c)))
    with tempfile.TemporaryDirectory() as tmp:  # the SQLite store agrees with the pure merge
        s1, s2 = Store(Path(tmp) / "1.db"), Store(Path(tmp) / "2.db")
        for g in (a, b, c):
            s1.apply(g)
        for g in (c, a, b):
            s2.apply(g)
        s2.apply(a)
        assert _content(s1) == _content(s2) == _key(_merge(a, b, c))
        s1.close()
        s2.close()


@settings(max_examples=300, deadline=None)
@given(st.lists(envs, max_size=8), st.lists(envs, max_size=8))
def test_a_store_change_leaves_exactly_the_survivors(
    stored: list[Envelope], incoming: list[Envelope]
) -> None:
    """merge_into, the bookkeeping of this device's store and of the account server: a store that
    held the survivors of `stored`, after removing `drop` and writing `add` (both stores key a
    version by record, vector and body), holds the survivors of everything; and it has nothing to
    do exactly when nothing changes. Identical vectors with different bodies included: the server
    must cope with whatever a client sends."""
    held_by_record = {rid: survivors(vs) for rid, vs in by_record(stored).items()}
    for rid, new in by_record(incoming).items():
        held = held_by_record.get(rid, [])
        change = merge_into(held, new)
        table = {(e.vv_text, e.ciphertext) for e in held}
        for e in change.drop:
            table.remove((e.vv_text, e.ciphertext))
        for e in change.add:
            assert (e.vv_text, e.ciphertext) not in table  # never a second copy of one version
            table.add((e.vv_text, e.ciphertext))
        want = {(e.vv_text, e.ciphertext) for e in survivors(held + new)}
        assert table == want
        assert bool(change) == ({(e.vv_text, e.ciphertext) for e in held} != want)


# -- the same properties end to end: real Vaults on their own homes, one shared folder, real
# data.mssb files, Dropbox-style conflicted copies written by a device that was offline --------

FOLDER_OPS = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["add", "edit", "delete", "open", "save"]),
            st.integers(0, 2),
            st.integers(0, 2),
        ),
        st.tuples(st.sampled_from(["sync", "offline-copy"]), st.integers(0, 2), st.just(0)),
        st.tuples(st.just("ghost"), st.just(3), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=25,
)


#: Device clocks off by an hour behind, a day ahead and two minutes behind: the winner among
#: concurrent versions follows the hybrid logical clock, and nothing may be lost to skew.
SKEW_MS = [0, -3_600_000, 86_400_000, -120_000]


class _SkewedClock:
    def __init__(self, skew_ms: int) -> None:
        self.skew = skew_ms / 1000

    def time(self) -> float:
        return _real_time.time() + self.skew


@contextlib.contextmanager
def _device_clock(skew_ms: int) -> Iterator[None]:
    """Writes made inside read this device's (wrong) wall clock, as vault/merge.py stamps them."""
    from vault import merge

    saved = merge.time
    merge.time = _SkewedClock(skew_ms)  # type: ignore[assignment]
    try:
        yield
    finally:
        merge.time = saved


def _folder_devices(tmp: Path) -> tuple[Path, list[object]]:
    from sync.folder import FolderSync, bootstrap_from_folder
    from vault.vault import Vault

    folder = tmp / "Dropbox"
    folder.mkdir()
    first = Vault.create(tmp / "dev0", "p@example.com", "property password")
    FolderSync(first, folder).sync_now()
    rest = [
        bootstrap_from_folder(
            tmp / f"dev{i}", folder, "p@example.com", "property password", first.slot.kit
        )
        for i in (1, 2, 3)
    ]
    return folder, [first, *rest]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FOLDER_OPS)
def test_devices_converge_through_a_shared_folder(ops_list: list[tuple[str, int, int]]) -> None:
    from sync import mssb
    from sync.folder import FolderSync, read_folder
    from vault.records import new_record
    from vault.vault import Detail, Vault

    with tempfile.TemporaryDirectory() as tmp:
        folder, devs = _folder_devices(Path(tmp))
        vaults: list[Vault] = [d for d in devs if isinstance(d, Vault)]
        ids = ["%016x" % (i + 1) for i in range(3)]
        ever: set[tuple[str, str, bytes]] = set()
        bases: dict[tuple[int, int], Detail] = {}
        syncs = [
            FolderSync(v, folder) for v in vaults
        ]  # one per device, as the app keeps it (caches)
        for n, (op, d, r) in enumerate(ops_list):
            v = vaults[d]
            rid = ids[r]
            alive = rid in {s.id for s in v.summaries()}
            with _device_clock(SKEW_MS[d]):
                if op == "add" and not v.store.versions(rid):
                    v.add(dataclasses.replace(new_record("note", f"{rid} by {d}"), id=rid))
                elif op == "edit" and alive:
                    v.update(dataclasses.replace(v.record(rid), title=f"{rid} edit {n} by {d}"))
                elif op == "delete" and alive:
                    v.delete(rid)
                elif op == "open" and alive:  # the edit form opens; saved later, however stale
                    bases[(d, r)] = v.detail(rid)
                elif op == "save" and (d, r) in bases:
                    base = bases.pop((d, r))
                    v.update(dataclasses.replace(base.record, title=f"{rid} form {n} by {d}"), base)
            if op == "sync":
                syncs[d].sync_now()
            elif op in (
                "offline-copy",
                "ghost",
            ):  # what Dropbox keeps when this device wrote while offline
                if op == "ghost":  # device 3 only ever reaches the folder through conflicted copies
                    v.apply(read_folder(folder, v.keys))
                    if rid in {s.id for s in v.summaries()}:
                        v.update(dataclasses.replace(v.record(rid), title=f"{rid} ghost edit {n}"))
                    elif not v.store.versions(rid):
                        v.add(dataclasses.replace(new_record("note", f"{rid} by ghost"), id=rid))
                data = mssb.encode(
                    mssb.header_for(v.slot, v.device, 1), v.keys, v.store.all_versions()
                )
                (
                    mssb.account_dir(folder, v.slot.account_id)
                    / f"data (dev{d}'s conflicted copy {n}).mssb"
                ).write_bytes(data)
            ever |= {(e.record_id, e.vv_text, e.ciphertext) for e in v.store.all_versions()}
        vaults, ghost = vaults[:3], vaults[3]
        for _ in range(2):
            for i in range(3):
                syncs[i].sync_now()
        contents = {_content(v.store) for v in vaults}
        assert len(contents) == 1, "devices did not converge through the folder"
        views = [sorted((s.id, s.title) for s in v.summaries()) for v in vaults]
        assert views[0] == views[1] == views[2]
        kept = vaults[0].store.all_versions()
        for rid, vv_text, body in ever:  # no write silently lost
            vv = Envelope(rid, vv_text, 0, "", False, b"").vv
            assert any(
                k.ciphertext == body or dominates(k.vv, vv) for k in kept if k.record_id == rid
            )
        account_dir = mssb.account_dir(folder, vaults[0].slot.account_id)
        assert not [p for p in account_dir.iterdir() if p.name.endswith(").mssb")], (
            "copies not retired"
        )
        in_folder = _merge(read_folder(folder, vaults[0].keys))  # snapshot + change files
        assert _key(in_folder) == _content(vaults[0].store)
        for v in [*vaults, ghost]:
            v.close()


# -- edits that carry their base: writers on one home (the app's form, CLI processes), each
# saving an edit of the version it opened, however stale -------------------------------------


class StaleBaseEdits(RuleBasedStateMachine):
    """Three connections on one home. `open` takes a writer's base (its form opens); `save` saves
    an edit of that base setting one field to a new value; `now` reads and edits at once (the
    CLI); `delete` deletes. After every step, every value ever saved is still visible (in the
    record or a version in conflict with it) or in the history, unless a later write whose base
    had seen it changed that field or deleted the record."""

    FIELDS = ("username", "url", "password")

    def __init__(self) -> None:
        super().__init__()
        from vault.records import new_record
        from vault.vault import Detail, Vault

        self.tmp = tempfile.TemporaryDirectory()
        first = Vault.create(Path(self.tmp.name) / "home", "p@example.com", "property password")
        self.rid = first.add(new_record("login", "R", {"username": "u0"})).id
        self.writers = [first, first.another_connection(), first.another_connection()]
        self.bases: dict[int, tuple[int, Detail]] = {}
        self.saved: list[tuple[int, str, str]] = []  # (step, field, value)
        self.replaced: list[tuple[int, str | None]] = []  # (step its base was read, field|delete)
        self.step = 0

    def _next(self) -> int:
        self.step += 1
        return self.step

    @rule(w=st.integers(0, 2))
    def open(self, w: int) -> None:
        from vault.errors import NotFoundError

        n = self._next()
        with contextlib.suppress(NotFoundError):  # deleted: nothing to open
            self.bases[w] = (n, self.writers[w].detail(self.rid))

    @rule(w=st.integers(0, 2), f=st.sampled_from(FIELDS))
    def save(self, w: int, f: str) -> None:
        n = self._next()
        if w not in self.bases:
            return
        seen_at, base = self.bases.pop(w)
        self.writers[w].update(_with_value(base.record, f, f"v{n}"), base)
        self.saved.append((n, f, f"v{n}"))
        self.replaced.append((seen_at, f))

    @rule(w=st.integers(0, 2), f=st.sampled_from(FIELDS))
    def now(self, w: int, f: str) -> None:
        from vault.errors import NotFoundError

        n = self._next()
        with contextlib.suppress(NotFoundError):
            self.writers[w].edit(self.rid, lambda r: _with_value(r, f, f"v{n}"))
            self.saved.append((n, f, f"v{n}"))
            self.replaced.append((n, f))

    @rule(w=st.integers(0, 2))
    def delete(self, w: int) -> None:
        from vault.errors import NotFoundError

        n = self._next()
        with contextlib.suppress(NotFoundError):
            self.writers[w].delete(self.rid)
            self.replaced.append((n, None))

    @invariant()
    def nothing_acknowledged_is_lost(self) -> None:
        from vault.errors import NotFoundError

        try:
            final = self.writers[0].detail(self.rid)
            shown = [final.record, *final.others]
        except NotFoundError:
            shown = []
        for n, name, value in self.saved:
            visible = {r.value(name) for r in shown}
            history = {hf.value for r in shown for h in r.history for hf in h.fields}
            superseded = any(seen > n and what in (name, None) for seen, what in self.replaced)
            assert value in visible | history or superseded, (n, name, value)

    def teardown(self) -> None:
        for v in self.writers:
            v.close()
        self.tmp.cleanup()


def _with_value(rec: Record, name: str, value: str) -> Record:
    kind = FieldKind.SECRET if name == "password" else FieldKind.TEXT
    fields = tuple(f for f in rec.fields if f.name != name)
    return dataclasses.replace(rec, fields=(*fields, Field(name, kind, value)))


StaleBaseEdits.TestCase.settings = settings(
    max_examples=40 * SOAK,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_edits_with_stale_bases_lose_nothing = StaleBaseEdits.TestCase
