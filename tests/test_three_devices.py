"""No acknowledged edit is lost across three real devices (issue 17, Build 6): a hypothesis state
machine drives three homes in temp dirs through edits, deletes, concurrent CLI writers, edits
saved from a stale base (an edit form opened before other changes arrived), store restores
(vault.db* copied aside and put back), clones (`cp -r` of a home) and syncs, through each sync
method for real: a folder, an account server on 127.0.0.1 (SQLite, and PostgreSQL when
tests/pgcheck.py says it answers) and Wi-Fi sessions on loopback.

The model is causal, not a second implementation: every acknowledged write remembers what its
device knew when it read its base (`saw`: the writes it had seen). After a full sync, all three
devices show the same records, and every write that no later write saw is, on every device, the
value of its field in the record or in a version in conflict with it. A write that a later write
of another field saw may have been resolved into the history (an edit that resolves a conflict
keeps the other side there); one that a later write of the same field, or a delete, saw was
replaced on purpose. A write destroyed by putting back an older copy of the only store that held
it is outside the promise (the person chose to restore over it).

CI runs a few bounded examples per method; `python3 -m bench soak` runs ten times as many.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import pytest
from clikit import cli_env, short_runtime_dir
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule
from pgcheck import PG_URL, pg_unavailable

from vault.errors import NotFoundError
from vault.records import Record, new_record
from vault.vault import Detail, Vault

#: `python3 -m bench soak` sets STRONGROOM_SOAK=N: N times as many examples.
SOAK = int(os.environ.get("STRONGROOM_SOAK", "1"))
PW = "three devices password"
FIELDS = ("username", "password")
RECORDS = 3
LOOPBACK = ["127.0.0.1"]
_accounts = itertools.count()
#: what the runs did (printed by soak runs: `python3 -m bench soak`)
TALLY: Counter[str] = Counter()


@dataclass(frozen=True)
class Write:
    """One acknowledged write: `field` None for a delete; `saw` the writes its base had seen."""

    id: int
    rec: int
    field: str | None
    value: str | None
    saw: frozenset[int]


def _with_value(rec: Record, name: str, value: str) -> Record:
    return replace(
        rec, fields=tuple(replace(f, value=value) if f.name == name else f for f in rec.fields)
    )


def _shown(vault: Vault, rid: str) -> list[Record]:
    """The record and every version in conflict with it; [] when it is gone."""
    try:
        d = vault.detail(rid)
    except NotFoundError:
        return []
    return [d.record, *d.others]


class ThreeDevices(RuleBasedStateMachine):
    """Three devices of one account; subclasses pick the sync method."""

    method: ClassVar[str] = "folder"
    server_url: ClassVar[str | None] = None

    def __init__(self) -> None:
        super().__init__()
        TALLY["examples"] += 1
        self.tmp = Path(tempfile.mkdtemp(prefix="three-"))
        self.homes = [self.tmp / f"home{i}" for i in range(3)]
        self.email = f"three{next(_accounts)}-{os.getpid()}@example.com"
        self.writes: list[Write] = []
        self.counter = itertools.count(1)
        self.vaults = self._devices()
        self.rids = [s.id for s in sorted(self.vaults[0].summaries(), key=lambda s: s.title)]
        everyone = {w.id for w in self.writes}
        self.known = [set(everyone) for _ in range(3)]  # what each device's store holds
        self.medium = set(everyone)  # what the folder's file / the server holds
        self.forms: list[tuple[int, int, Detail, frozenset[int]]] = []  # open edit forms
        self.snaps: dict[int, tuple[Path, set[int]]] = {}
        self.settled = len(self.writes)  # writes made before the last full sync and check

    # -- devices ----------------------------------------------------------------------------------
    def _first(self) -> Vault:
        a = Vault.create(self.homes[0], self.email, PW)
        for r in range(RECORDS):
            values = {f: f"{f}-0-{r}" for f in FIELDS}
            a.add(new_record("login", f"R{r}", values))
            for f in FIELDS:
                self.writes.append(Write(next(self.counter), r, f, values[f], frozenset()))
        return a

    def _devices(self) -> list[Vault]:
        from sync.method import configure, sync_now

        if self.method == "folder":
            from sync.folder import bootstrap_from_folder

            folder = self.tmp / "Dropbox"
            folder.mkdir()
            a = self._first()
            configure(a, "folder", folder=str(folder))
            sync_now(a)
            return [a] + [
                bootstrap_from_folder(h, folder, self.email, PW, a.slot.kit) for h in self.homes[1:]
            ]
        if self.method == "cloud":
            from sync.cloud import CloudClient, save_session

            assert self.server_url is not None
            client = CloudClient(self.server_url)
            a = self._first()
            save_session(a, client.signup(a.slot, a.keys, a.device, "laptop"))
            configure(a, "cloud", server=self.server_url)
            sync_now(a)
            out = [a]
            for i, home in enumerate(self.homes[1:]):
                slot, keys, session = client.signin_with_kit(
                    self.email, PW, a.slot.kit, f"dev{i}{os.urandom(3).hex()}", "phone"
                )
                v = Vault.adopt(home, slot, keys, [])
                save_session(v, session)
                configure(v, "cloud", server=self.server_url)
                sync_now(v)
                out.append(v)
            return out
        a = self._first()
        configure(a, "wifi", interfaces=LOOPBACK)
        out = [a]
        for home in self.homes[1:]:
            v = Vault.adopt(home, a.slot, a.keys, a.store.all_versions())
            configure(v, "wifi", interfaces=LOOPBACK)
            out.append(v)
        return out

    def _reopen(self, d: int) -> None:
        self.vaults[d] = Vault.open(self.homes[d])
        self.vaults[d].unlock(PW)

    def _close_forms(self, d: int) -> None:
        """The app on device d restarts with its home: its open forms are gone."""
        self.forms = [form for form in self.forms if form[0] != d]

    def _write(self, d: int, rec: int, field: str | None, value: str | None) -> None:
        TALLY["edit" if field else "delete"] += 1
        w = Write(next(self.counter), rec, field, value, frozenset(self.known[d]))
        self.writes.append(w)
        self.known[d].add(w.id)

    # -- syncing ----------------------------------------------------------------------------------
    def _sync(self, d: int, e: int) -> None:
        """Device d syncs: with the folder or the server, or over Wi-Fi with device e."""
        from sync.method import sync_now

        if self.method != "wifi" or d != e:
            TALLY["sync"] += 1
        if self.method != "wifi":
            sync_now(self.vaults[d])
            self.known[d] |= self.medium
            self.medium |= self.known[d]
            return
        if d == e:
            return
        asyncio.run(self._wifi(self.vaults[d], self.vaults[e]))
        self.known[d] |= self.known[e]
        self.known[e] |= self.known[d]

    @staticmethod
    async def _wifi(a: Vault, b: Vault) -> None:
        from sync.wifi import WifiPeer

        async with WifiPeer(a, LOOPBACK) as pa, WifiPeer(b, LOOPBACK) as pb:
            result = await pa.sync_with(LOOPBACK[0], pb.port)
            assert result.error is None, result.error

    def _full_sync(self) -> None:
        if self.method == "wifi":
            for d, e in ((0, 1), (1, 2), (0, 1)):
                self._sync(d, e)
        else:
            for d in (0, 1, 2, 0, 1):
                self._sync(d, d)

    # -- rules ------------------------------------------------------------------------------------
    @rule(d=st.integers(0, 2), r=st.integers(0, RECORDS - 1), f=st.sampled_from(FIELDS))
    def edit(self, d: int, r: int, f: str) -> None:
        """The CLI's `edit`: read and save in one transaction."""
        value = f"{f}-{next(self.counter)}"
        with contextlib.suppress(NotFoundError):  # deleted here
            self.vaults[d].edit(self.rids[r], lambda rec: _with_value(rec, f, value))
            self._write(d, r, f, value)

    @rule(d=st.integers(0, 2), r=st.integers(0, RECORDS - 1), really=st.integers(0, 3))
    def delete(self, d: int, r: int, really: int) -> None:
        if really:  # one time in four: deletes end a record's story
            return
        with contextlib.suppress(NotFoundError):
            if not _shown(self.vaults[d], self.rids[r]):
                return
            self.vaults[d].delete(self.rids[r])
            self._write(d, r, None, None)

    @rule(d=st.integers(0, 2), r=st.integers(0, RECORDS - 1))
    def open_form(self, d: int, r: int) -> None:
        """The app's edit form opens on device d: it keeps the version it started from."""
        with contextlib.suppress(NotFoundError):
            base = self.vaults[d].detail(self.rids[r])
            self.forms.append((d, r, base, frozenset(self.known[d])))

    @precondition(lambda self: bool(self.forms))
    @rule(k=st.integers(0, 5), f=st.sampled_from(FIELDS))
    def save_form(self, k: int, f: str) -> None:
        """ctrl+s on a form opened earlier (other changes may have arrived since)."""
        d, r, base, saw = self.forms.pop(k % len(self.forms))
        value = f"{f}-{next(self.counter)}"
        try:
            self.vaults[d].update(_with_value(base.record, f, value), base)
        except NotFoundError:
            return
        w = Write(next(self.counter), r, f, value, saw)
        self.writes.append(w)
        self.known[d].add(w.id)
        TALLY["stale-base save" if saw != self.known[d] - {w.id} else "form save"] += 1

    @rule(d=st.integers(0, 2), r=st.integers(0, RECORDS - 1))
    def cli_writers(self, d: int, r: int) -> None:
        """Two real `strongroom edit` processes on one home at the same moment, other fields."""
        if not _shown(self.vaults[d], self.rids[r]):
            return
        env = cli_env(self.homes[d], PW, XDG_RUNTIME_DIR=short_runtime_dir())
        values = {f: f"{f}-{next(self.counter)}" for f in FIELDS}
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "cli", "edit", self.rids[r], "--field", f"{f}={v}"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for f, v in values.items()
        ]
        saw = frozenset(self.known[d])
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
        TALLY["concurrent CLI pair"] += 1
        for f, v in values.items():  # both acknowledged; each may or may not have seen the other
            w = Write(next(self.counter), r, f, v, saw)
            self.writes.append(w)
            self.known[d].add(w.id)

    @rule(d=st.integers(0, 2), e=st.integers(0, 2))
    def sync(self, d: int, e: int) -> None:
        self._sync(d, e)

    @rule(d=st.integers(0, 2))
    def copy_aside(self, d: int) -> None:
        """Copy the store's files aside (a backup by hand, a Time Machine copy)."""
        self.vaults[d].close()
        snap = self.tmp / f"snap{d}-{next(self.counter)}"
        snap.mkdir()
        for f in self.homes[d].glob("vault.db*"):
            shutil.copy2(f, snap / f.name)
        self.snaps[d] = (snap, set(self.known[d]))
        TALLY["copy aside"] += 1
        self._reopen(d)

    @precondition(lambda self: bool(self.snaps))
    @rule(k=st.integers(0, 2))
    def put_back(self, k: int) -> None:
        """Put a copy back over its store (everything written since is gone from this home)."""
        d = sorted(self.snaps)[k % len(self.snaps)]
        snap, known = self.snaps[d]
        self.vaults[d].close()
        for f in self.homes[d].glob("vault.db*"):
            f.unlink()
        for f in snap.iterdir():
            shutil.copy2(f, self.homes[d] / f.name)
        self.known[d] = set(known)
        self._close_forms(d)
        TALLY["put back"] += 1
        self._reopen(d)

    @rule(i=st.integers(0, 2), j=st.integers(0, 2))
    def clone(self, i: int, j: int) -> None:
        """Device j becomes `cp -r` of device i's home (j's old home is thrown away)."""
        if i == j:
            return
        self.vaults[i].close()
        self.vaults[j].close()
        shutil.rmtree(self.homes[j])
        shutil.copytree(self.homes[i], self.homes[j])
        self.known[j] = set(self.known[i])
        TALLY["clone"] += 1
        self._close_forms(j)  # a snapshot of j's old home may still be put back: a restore too
        self._reopen(i)
        self._reopen(j)

    @precondition(lambda self: len(self.writes) > self.settled)
    @rule()
    def settle(self) -> None:
        """Every device syncs until all have everything; then the promise is checked."""
        self._full_sync()
        self._check()
        self.settled = len(self.writes)

    def teardown(self) -> None:
        try:
            self.settle()
        finally:
            for v in self.vaults:
                v.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the promise ------------------------------------------------------------------------------
    def _view(self, vault: Vault) -> dict[str, tuple[bool, list[tuple[str | None, ...]]]]:
        out = {}
        for s in vault.summaries():
            shown = _shown(vault, s.id)
            out[s.id] = (len(shown) > 1, sorted(tuple(r.value(f) for f in FIELDS) for r in shown))
        return out

    def _check(self) -> None:
        TALLY["full sync + check"] += 1
        views = [self._view(v) for v in self.vaults]
        assert views[0] == views[1] == views[2], views
        present = self.medium.union(*self.known)
        alive = [w for w in self.writes if w.id in present]
        for w in alive:
            if w.field is None:
                continue
            later = [
                x for x in alive if x.rec == w.rec and x.id != w.id and w.id in x.saw
            ]  # writes of this record whose base had seen w
            if any(x.field in (w.field, None) for x in later):
                continue  # replaced or deleted by someone who saw it
            for d, vault in enumerate(self.vaults):
                shown = _shown(vault, self.rids[w.rec])
                visible = {r.value(w.field) for r in shown}
                if later:  # an edit of another field that saw it may have resolved its conflict
                    visible |= {hf.value for r in shown for h in r.history for hf in h.fields}
                assert w.value in visible, (self.method, d, w, visible)


def _run(machine: type[ThreeDevices], examples: int, steps: int) -> None:
    case = machine.TestCase
    case.settings = settings(
        max_examples=examples * SOAK,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    TALLY.clear()
    case().runTest()
    if SOAK > 1:
        done = ", ".join(f"{k} {v}" for k, v in sorted(TALLY.items()))
        print(f"\n[{machine.method}] {done}")


@pytest.fixture
def fast_mdns(monkeypatch: pytest.MonkeyPatch) -> None:
    import zeroconf._core as core

    for name in ("_CHECK_TIME", "_REGISTER_TIME", "_UNREGISTER_TIME"):
        monkeypatch.setattr(core, name, 10)


@contextlib.contextmanager
def _server(database: str, schema: str | None) -> Iterator[str]:
    from sync.server.runner import ServerThread
    from sync.server.service import Limit, Limits, ServerConfig

    roomy = Limit(100_000, 900)
    limits = Limits(
        signin_account=roomy,
        signin_address=roomy,
        email_account=roomy,
        email_address=roomy,
        signup_address=roomy,
        signin_pair=(roomy,),
    )
    config = ServerConfig(database=database, pg_schema=schema, limits=limits)
    with ServerThread(config) as srv:
        yield srv.url


class FolderDevices(ThreeDevices):
    method = "folder"


class CloudDevices(ThreeDevices):
    method = "cloud"


class WifiDevices(ThreeDevices):
    method = "wifi"


def test_three_devices_through_a_folder() -> None:
    _run(FolderDevices, examples=4, steps=14)


def test_three_devices_through_a_server_on_sqlite(tmp_path: Path) -> None:
    with _server(str(tmp_path / "server.db"), None) as url:
        CloudDevices.server_url = url
        _run(CloudDevices, examples=3, steps=14)


def test_three_devices_through_a_server_on_postgresql(tmp_path: Path) -> None:
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    import secrets

    from sync.server.storage import Storage

    schema = f"t_{secrets.token_hex(6)}"
    try:
        with _server(PG_URL, schema) as url:
            CloudDevices.server_url = url
            _run(CloudDevices, examples=2, steps=14)
    finally:
        Storage(PG_URL, schema, migrate=False).drop_schema()


def test_three_devices_over_wifi(fast_mdns: None) -> None:
    _run(WifiDevices, examples=3, steps=14)
