"""`WifiPeer`: one device on the LAN, listening, announcing, finding and syncing with its peers;
`bootstrap`: a new device's vault from a peer (Account Password + Kit, no VK yet)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault import keys as keymod
from vault import removal
from vault.envelope import Envelope
from vault.errors import AccountExistsError, KitError, VaultError, WrongPasswordError
from vault.intake import Refusal
from vault.kdf import normalize_email
from vault.keys import KeySlot, UnlockedKeys
from vault.kitcode import KitPayload
from vault.words import plural

from ..errors import SourceUnavailableError, SyncError
from . import blobs as wifi_blobs
from . import protocol as p
from . import serving
from .channel import (
    HANDSHAKE_TIMEOUT,
    MODE_BOOTSTRAP,
    MODE_KEYCHANGE,
    MODE_MEMBER,
    VERSION,
    Channel,
    ChannelError,
    Claims,
    PeerAuthError,
    PeerGoneError,
    PeerVersionError,
    WifiError,
    bootstrap_key,
    client_handshake,
    member_key,
    server_handshake,
    version_refusal,
)
from .discovery import Discovery, Found, kit_tag, member_tag, tags_around

log = logging.getLogger("sync.wifi")

#: Sessions (after the handshake) served at once; more wait (a flood cannot exhaust the device).
MAX_INBOUND = 16
#: Connections still in their handshake (strangers until they prove membership); a new one past
#: the cap closes the oldest, so idle connections cannot keep a real peer waiting.
MAX_STRANGERS = 16
CONNECT_TIMEOUT = 3.0
TAG_REFRESH_SECONDS = 60.0


@dataclass
class PeerInfo:
    """A device of this account seen on the network (for the sync settings screen)."""

    name: str
    address: str
    port: int
    last_sync: float | None = None
    last_error: str | None = None


@dataclass
class PeerResult:
    """One sync session with one peer, seen from this device."""

    name: str
    address: str
    received: int = 0  # records whose state changed here
    sent: int = 0  # envelopes sent
    refused: int = 0  # versions received that did not open (kept aside, not merged)
    error: Exception | None = None
    files_received: int = 0  # attachment blobs streamed in (sync/wifi/blobs.py)
    files_sent: int = 0
    #: attachment blobs that did not open under their record's key: "<blob>: <reason>"
    file_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class SyncReport:
    results: list[PeerResult] = field(default_factory=list)

    @property
    def synced(self) -> list[PeerResult]:
        return [r for r in self.results if r.ok]

    @property
    def errors(self) -> list[Exception]:
        return [r.error for r in self.results if r.error is not None]

    @property
    def received(self) -> int:
        return sum(r.received for r in self.results)

    @property
    def sent(self) -> int:
        return sum(r.sent for r in self.results)

    @property
    def refused(self) -> int:
        return sum(r.refused for r in self.results)


def _verify_and_apply(
    vault: Any, envelopes: list[Envelope], refused: list[Refusal], result: PeerResult | None = None
) -> list[str]:
    """Open before merge (vault/intake.py): what opens with this account's key is merged; the
    rest, and `refused` (malformed), is kept aside in the store and counted (`sync status`)."""
    took = vault.take_in(envelopes, "wifi", refused)
    if took.refused:
        log.warning(
            "refused %s from a peer: not sealed with this account's key, or malformed",
            plural("version", len(took.refused)),
        )
        if result is not None:
            result.refused += len(took.refused)
    changed: list[str] = took.changed
    return changed


class WifiPeer:
    """Serve, announce and sync one unlocked vault over the LAN (see the package docstring)."""

    def __init__(
        self,
        vault: Any,
        interfaces: list[str],
        port: int = 0,
        on_change: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.vault = vault
        self.interfaces = list(interfaces)
        self.port = port
        self.on_change = on_change
        self.pending_slot: KeySlot | None = None
        self._servers: list[asyncio.base_events.Server] = []
        self._discovery: Discovery | None = None
        self._known: dict[str, PeerInfo] = {}
        self._sem = asyncio.Semaphore(MAX_INBOUND)
        self._strangers: dict[asyncio.StreamWriter, None] = {}  # oldest first
        self._refresh: asyncio.Task[None] | None = None
        self._props: dict[str, str] = {}
        self._mark: Path | None = None  # HOME/wifi-serving entry naming us (sync/wifi/serving.py)
        self._marked_name = ""
        self._own: tuple[float, set[str]] = (0.0, set())  # (when read, names of this home's peers)

    def __repr__(self) -> str:
        return (
            f"WifiPeer(interfaces={self.interfaces!r}, port={self.port}, peers={len(self._known)})"
        )

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """Our random instance name on the network (empty before `start`)."""
        return (self._discovery.name or "") if self._discovery else ""

    def _keys(self) -> UnlockedKeys:
        keys: UnlockedKeys = self.vault.keys  # LockedError (a VaultError) when locked
        return keys

    def _claims(self, keys: UnlockedKeys) -> Claims:
        """What this device proves in a handshake: account, generation, key epoch, device."""
        return Claims(keys.account_id, keys.generation, keys.epoch, self.vault.device)

    def _properties(self) -> dict[str, str]:
        keys = self._keys()
        lan = keys.subkey("lan")
        props = {
            "v": "1",
            "p": str(VERSION),
            "tag": member_tag(lan, _today()),
            "kt": kit_tag(keys.ak, keys.account_id, _today()),
        }
        served = removal.served_changes(self.vault.store, keys)
        if served:  # a device removal moved on from these keys: peers still on them find us
            props["ot"] = member_tag(served[0][0], _today())
        return props

    def _accept(self, props: dict[str, str]) -> bool:
        try:
            lan = self._keys().subkey("lan")
        except VaultError:
            return False
        ours = tags_around(lambda d: member_tag(lan, d))
        return props.get("tag", "") in ours or props.get("ot", "") in ours

    def _moved_on(self, found: Found) -> bool:
        """Did this peer move on from our keys (a device removal we have not followed)?"""
        props = dict(found.properties)
        try:
            ours = tags_around(lambda d: member_tag(self._keys().subkey("lan"), d))
        except VaultError:
            return False
        return props.get("tag", "") not in ours and props.get("ot", "") in ours

    async def start(self) -> None:
        """Listen on every interface (one port), announce, browse. The vault must be unlocked."""
        self._props = self._properties()
        try:
            first = await asyncio.start_server(self._serve, host=self.interfaces[0], port=self.port)
            self._servers.append(first)
            self.port = int(first.sockets[0].getsockname()[1])
            for addr in self.interfaces[1:]:
                self._servers.append(
                    await asyncio.start_server(self._serve, host=addr, port=self.port)
                )
        except OSError as exc:
            await self.stop()
            raise SourceUnavailableError(
                f"cannot listen for Wi-Fi peers: {exc.strerror or exc}"
            ) from None
        self._discovery = Discovery(self.interfaces, self._accept)
        try:
            await self._discovery.start(self.port, self._props)
        except OSError as exc:
            await self.stop()
            raise SourceUnavailableError(
                f"cannot use the network interfaces {self.interfaces}: {exc.strerror or exc}"
            ) from None
        self._refresh = asyncio.ensure_future(self._refresh_tags())
        self._own_names()

    def _own_names(self) -> set[str]:
        """Our name and those of the other running peers of this home (a `sync serve` beside a
        `sync now`): never counted or synced with as peers. Read at most once a second."""
        home = getattr(self.vault, "home", None)
        if home is None:
            return {self.name}
        if self.name and self.name != self._marked_name:  # started, or renamed after a collision
            serving.unmark(self._mark)
            self._mark, self._marked_name = serving.mark(Path(home), self.name), self.name
        now = time.monotonic()
        if now - self._own[0] > 1.0:
            self._own = (now, serving.own_names(Path(home)))
        return self._own[1] | {self.name}

    async def stop(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh
            self._refresh = None
        for server in self._servers:
            server.close()
        for server in self._servers:
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 1.0)
        self._servers = []
        if self._discovery is not None:
            await self._discovery.stop()
            self._discovery = None
        serving.unmark(self._mark)
        self._mark, self._marked_name = None, ""

    async def __aenter__(self) -> WifiPeer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _refresh_tags(self) -> None:
        """Re-announce when the day (and so the tags) or the keys change."""
        while True:
            await asyncio.sleep(TAG_REFRESH_SECONDS)
            try:
                props = self._properties()
            except VaultError:
                continue  # locked: keep the last announcement; sessions are refused meanwhile
            if props != self._props and self._discovery is not None:
                self._props = props
                await self._discovery.update(props)

    def peers(self) -> list[PeerInfo]:
        """Devices of this account currently announced on the network, with the last sync time."""
        own = self._own_names()
        if self._discovery is not None:
            for name, f in self._discovery.found.items():
                if name in own:
                    continue
                info = self._known.setdefault(name, PeerInfo(name, f.addresses[0], f.port))
                info.address, info.port = f.addresses[0], f.port
        current = set(self._discovery.found) - own if self._discovery else set()
        return [
            i
            for n, i in sorted(self._known.items())
            if n not in own and (n in current or i.last_sync is not None)
        ]

    # -- outgoing -------------------------------------------------------------------------------
    async def sync_with_all(self, timeout: float = 3.0, expect: int | None = None) -> SyncReport:
        """Sync with every peer found within `timeout` seconds (each as soon as it is found).

        With `expect`, return as soon as that many peers have answered (synced or refused).
        """
        if self._discovery is None:
            raise WifiError("start the Wi-Fi peer before syncing")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        tasks: dict[str, asyncio.Task[PeerResult]] = {}
        while True:
            own = self._own_names()
            for name, found in list(self._discovery.found.items()):
                if name not in tasks and name not in own:
                    tasks[name] = asyncio.ensure_future(self._sync_found(found))
            if expect is not None and sum(1 for t in tasks.values() if t.done()) >= expect:
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.sleep(min(remaining, 0.02))
        results = list(await asyncio.gather(*tasks.values())) if tasks else []
        return SyncReport(results)

    async def _sync_found(self, found: Found) -> PeerResult:
        result = PeerResult(found.name, found.addresses[0])
        older = _announced_version(found)
        if older is not None:
            result.error = older
            return result
        if self._moved_on(found):
            try:
                await self.follow_key_change(found.addresses[0], found.port)
            except (SyncError, VaultError) as exc:
                result.error = exc
                return result
        for address in found.addresses:
            result = await self.sync_with(address, found.port, found.name)
            if not isinstance(result.error, PeerGoneError):
                break
        return result

    async def sync_with(self, address: str, port: int, name: str | None = None) -> PeerResult:
        """One MEMBER session with the peer at address:port; errors are returned, not raised."""
        name = name or f"{address}:{port}"
        result = PeerResult(name, address)
        info = self._known.setdefault(name, PeerInfo(name, address, port))
        try:
            keys = self._keys()
            ch = await _connect(
                address, port, MODE_MEMBER, member_key(keys.subkey("lan")), self._claims(keys)
            )
            try:
                await self._client_session(ch, result)
            finally:
                await ch.close()
        except (SyncError, VaultError) as exc:
            result.error = exc
            info.last_error = str(exc)
            log.info("sync with %s failed: %s", address, exc)
            return result
        info.last_sync, info.last_error = time.time(), None
        return result

    async def follow_key_change(self, address: str, port: int) -> None:
        """Ask a peer that moved on from our keys (a device removal made elsewhere) for the key
        change, proving our current keys in MODE_KEYCHANGE, and follow it: our wrap opens with
        this device's key, nothing typed. DeviceRemovedError when this device is the one removed."""
        keys = self._keys()
        ch = await _connect(
            address, port, MODE_KEYCHANGE, member_key(keys.subkey("lan")), self._claims(keys)
        )
        try:
            data = await p.expect(ch, p.KEYCHANGE)
        finally:
            await ch.close()
        try:
            change = removal.open_change(data, keys)
        except (VaultError, ValueError) as exc:
            raise WifiError(
                f"the key change a Wi-Fi peer handed over does not open ({exc}); nothing was "
                "changed here"
            ) from None
        await asyncio.to_thread(removal.follow, self.vault, change, data)
        log.info("followed a device removal made on another device (from %s)", address)
        if self._discovery is not None:  # announce the new keys' tags at once
            self._props = self._properties()
            await self._discovery.update(self._props)

    async def _client_session(self, ch: Channel, result: PeerResult) -> None:
        keys = self._keys()
        await ch.send(p.STATE, p.state_body(keys.generation, keys.epoch, self.name, blobs=True))
        theirs = p.proven_state(ch, await p.expect(ch, p.STATE))
        await self._check_state(ch, keys, theirs)
        mine = self.vault.store.all_versions()
        await p.send_summary(ch, p.summary_of(mine, theirs.summaries))
        their_summary = await p.recv_summary(ch)
        bad: list[Refusal] = []
        incoming = await p.recv_envelopes(ch, bad)
        changed = _verify_and_apply(self.vault, incoming, bad, result)
        outgoing = p.lacking(mine, their_summary, theirs.summaries)
        await p.send_envelopes(ch, outgoing)
        await p.expect(ch, p.DONE)
        result.received, result.sent = len(changed), len(outgoing)
        if theirs.blobs >= wifi_blobs.BLOB_VERSION:
            files = await wifi_blobs.exchange(ch, self.vault, client=True)
            result.files_received, result.files_sent = files.received, files.sent
            result.file_problems = files.problems
        self._after_sync(changed)

    async def _check_state(self, ch: Channel, keys: UnlockedKeys, theirs: p.PeerState) -> None:
        """Refuse (both sides) when the devices are on different account keys; the device that
        is ahead hands over its key slot so the other can follow with the new password."""
        err = p.refusal((keys.generation, keys.epoch), theirs)
        if err is None:
            return
        if isinstance(err, p.PeerOnOldPasswordError):
            await ch.send(p.SLOT, self.vault.slot.to_bytes())
        elif isinstance(err, p.PasswordChangedElsewhereError):
            slot = p.parse_slot(await p.expect(ch, p.SLOT))
            if (slot.account_id, slot.generation, slot.epoch) == (
                keys.account_id,
                theirs.generation,
                theirs.epoch,
            ):
                self.pending_slot = err.offered_slot = slot
        raise err

    def _after_sync(self, changed: list[str]) -> None:
        self.vault.update_settings(last_sync=time.time(), last_sync_seq=self.vault.store.max_seq())
        if changed and self.on_change is not None:
            self.on_change(changed)

    async def adopt_new_password(self, new_password: str) -> KeySlot:
        """Follow a password change made on another device, from the slot a peer handed over."""
        slot = self.pending_slot
        if slot is None:
            raise WifiError("no device has offered a newer Account Password yet; sync first")
        new_slot = await asyncio.to_thread(adopt_offered_slot, self.vault, slot, new_password)
        self.pending_slot = None
        return new_slot

    # -- incoming -------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else "?"
        ch: Channel | None = None
        try:
            ch = await self._handshake(reader, writer)
            async with self._sem:
                if ch.mode == MODE_MEMBER:
                    await self._serve_member(ch)
                elif ch.mode == MODE_KEYCHANGE:
                    await self._serve_key_change(ch)
                else:
                    await self._serve_bootstrap(ch)
        except (SyncError, VaultError) as exc:
            log.info("dropped connection from %s: %s", address, exc)
        except Exception as exc:  # a listener never dies of one bad connection
            log.warning("dropped connection from %s: unexpected %s", address, type(exc).__name__)
        finally:
            if ch is not None:
                await ch.close()
            else:
                writer.close()
                with contextlib.suppress(OSError, TimeoutError):
                    await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _handshake(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Channel:
        """The server handshake within one deadline, as one of at most MAX_STRANGERS."""
        self._strangers[writer] = None
        if len(self._strangers) > MAX_STRANGERS:
            oldest = next(iter(self._strangers))
            del self._strangers[oldest]
            oldest.close()  # its reads end: that handshake fails and its connection goes
        try:
            keys = self._keys()
            accepted: dict[int, bytes | list[bytes]] = {
                MODE_MEMBER: member_key(keys.subkey("lan")),
                MODE_BOOTSTRAP: bootstrap_key(keys.x_auth),
                MODE_KEYCHANGE: [
                    member_key(lan) for lan, _ in removal.served_changes(self.vault.store, keys)
                ],
            }
            try:
                return await asyncio.wait_for(
                    server_handshake(reader, writer, accepted, self._claims(keys)),
                    HANDSHAKE_TIMEOUT,
                )
            except TimeoutError:
                raise PeerGoneError("the peer did not finish its handshake in time") from None
        finally:
            self._strangers.pop(writer, None)

    async def _serve_member(self, ch: Channel) -> None:
        keys = self._keys()
        theirs = p.proven_state(ch, await p.expect(ch, p.STATE))
        await ch.send(p.STATE, p.state_body(keys.generation, keys.epoch, self.name, blobs=True))
        await self._check_state(ch, keys, theirs)
        mine = self.vault.store.all_versions()
        their_summary = await p.recv_summary(ch)
        await p.send_summary(ch, p.summary_of(mine, theirs.summaries))
        await p.send_envelopes(ch, p.lacking(mine, their_summary, theirs.summaries))
        bad: list[Refusal] = []
        incoming = await p.recv_envelopes(ch, bad)
        changed = _verify_and_apply(self.vault, incoming, bad)
        await ch.send(p.DONE, b'{"applied": %d}' % len(changed))
        if theirs.blobs >= wifi_blobs.BLOB_VERSION:
            await wifi_blobs.exchange(ch, self.vault, client=False)
        self._after_sync(changed)
        if theirs.name:
            info = self._known.setdefault(theirs.name, PeerInfo(theirs.name, ch.peer_address, 0))
            info.last_sync, info.last_error = time.time(), None

    async def _serve_key_change(self, ch: Channel) -> None:
        """A peer proved keys a device removal replaced: hand it that key change (its own wrap
        opens only with its device key; a removed device learns only that it was removed)."""
        served = removal.served_changes(self.vault.store, self._keys())
        if ch.key_index >= len(served):
            raise WifiError("the key change asked for is no longer kept")
        await ch.send(p.KEYCHANGE, served[ch.key_index][1])
        log.info(
            "handed a device removal's key change to a peer on older keys (%s)", ch.peer_address
        )

    async def _serve_bootstrap(self, ch: Channel) -> None:
        keys = self._keys()
        await ch.send(p.STATE, p.state_body(keys.generation, keys.epoch, self.name))
        await ch.send(p.SLOT, self.vault.slot.to_bytes())
        await p.send_envelopes(ch, self.vault.store.all_versions())
        await p.expect(ch, p.DONE)
        log.info("a new device of this account was set up from this one (%s)", ch.peer_address)


def _announced_version(found: Found) -> PeerVersionError | None:
    """A peer announcing another Wi-Fi protocol version in its TXT `p` (absent: 1, a build from
    before it): the refusal, without connecting (an older build drops our hello silently)."""
    raw = dict(found.properties).get("p", "1")
    theirs = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 4 else VERSION + 1
    return None if theirs == VERSION else version_refusal(theirs)


def _today() -> int:
    from .discovery import day_number

    return day_number()


def adopt_offered_slot(vault: Any, slot: KeySlot, new_password: str) -> KeySlot:
    """Follow a password change made on another device, from the key slot its peer handed over:
    it must open with `new_password`, be a newer epoch of this account and hold the same Vault
    Key; then it becomes this device's slot (the Kit and the records stay as they are)."""
    keys = _open_slot(slot, new_password)
    if keys.account_id != vault.slot.account_id or keys.epoch <= vault.slot.epoch:
        raise WifiError("the offered key slot is not a newer one of this account")
    if vault.unlocked and keys.vk != vault.keys.vk:
        raise WifiError("the offered key slot does not hold this account's Vault Key")
    new_slot = KeySlot(vault.slot.email, slot.kit, slot.wrapped_vk, vault.slot.hint)
    vault.replace_slot(new_slot, keys)
    return new_slot


def _open_slot(slot: KeySlot, password: str) -> UnlockedKeys:
    ak, k_pw = keymod.open_account_key(slot.kit, password)
    try:
        return keymod.open_vault_key(slot.kit, ak, k_pw, slot.wrapped_vk)
    except KitError:
        raise WrongPasswordError("that password does not open the other device's keys") from None


async def _connect(address: str, port: int, mode: int, key: bytes, me: Claims) -> Channel:
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(address, port), CONNECT_TIMEOUT
        )
    except (OSError, TimeoutError) as exc:
        raise PeerGoneError(f"cannot reach the peer at {address}:{port}") from exc
    try:
        return await client_handshake(reader, writer, mode, key, me, HANDSHAKE_TIMEOUT)
    except BaseException:
        writer.close()
        raise


# -- a new device ---------------------------------------------------------------------------
async def bootstrap(
    home: Path,
    email: str,
    password: str,
    kit_payload: KitPayload,
    interfaces: list[str],
    timeout: float = 5.0,
    progress: Callable[[str], None] | None = None,
) -> Any:
    """Create this device's vault from a peer of the account found on the LAN.

    The peer hands over its key slot (the Kit's EAK and VK wrapped under K_unlock) and every
    record envelope; none of it opens without this Account Password and this Kit. Raises
    AccountExistsError, or WrongPasswordError / KdfParamsError (the Kit does not open), before
    any network use. The new slot keeps the account's email and hint as the peer holds them;
    `email` is used only if the peer's slot has none. `progress` (optional) is told, in words,
    when the search starts and when a device was found (the TUI shows it).
    """
    from vault.vault import Vault

    if Vault.exists(home):
        raise AccountExistsError(f"an account already exists in {home}")
    kit = kit_payload
    ak, k_pw = await asyncio.to_thread(keymod.open_account_key, kit, password)
    key = bootstrap_key(keymod.auth_secret(kit, ak, k_pw))
    if progress:
        progress(
            f"Looking for a device of this account on {', '.join(interfaces)} (up to {timeout:g} s)…"
        )
    wanted = tags_around(lambda d: kit_tag(ak, kit.account_id, d))
    device = os.urandom(4).hex()  # this device's id, chosen now: the handshake binds it
    discovery = Discovery(interfaces, lambda props: props.get("kt", "") in wanted)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    tried: set[str] = set()
    errors: list[Exception] = []
    try:
        await discovery.start()
        while loop.time() < deadline:
            fresh = [f for n, f in discovery.found.items() if n not in tried]
            for found in fresh:
                tried.add(found.name)
                older = _announced_version(found)
                if older is not None:
                    errors.append(older)
                    continue
                for address in found.addresses:
                    if progress:
                        progress(f"Found a device at {address}; downloading the vault…")
                    refused: list[Refusal] = []
                    try:
                        slot, keys, envelopes = await _fetch(
                            address, found.port, key, kit, ak, k_pw, refused, device
                        )
                    except (SyncError, VaultError) as exc:
                        errors.append(exc)
                        log.info("bootstrap from %s failed: %s", address, exc)
                        continue
                    new_slot = KeySlot(
                        slot.email or normalize_email(email), kit, slot.wrapped_vk, slot.hint
                    )
                    vault = Vault.adopt(
                        home, new_slot, keys, envelopes, "wifi", refused, device=device
                    )
                    vault.update_settings(
                        sync={"method": "wifi", "interfaces": list(interfaces)},
                        last_sync=time.time(),
                        last_sync_seq=vault.store.max_seq(),
                    )
                    return vault
            await discovery.wait_changed(max(0.0, min(deadline - loop.time(), 0.25)))
    finally:
        await discovery.stop()
    if any(isinstance(e, PeerAuthError) for e in errors):
        raise PeerAuthError(
            f"found {plural('device', len(tried))} of this account, but none accepted this Kit and "
            "password: was the password changed since this Kit was made? Use the newest "
            "Kit and password, with the other device unlocked"
        )
    if errors:
        raise errors[0]
    raise SourceUnavailableError(
        f"no unlocked device of this account answered on {', '.join(interfaces)} "
        f"within {timeout:g} s: unlock Strongroom on another device on this network "
        "(with Wi-Fi sync on) and try again"
    )


async def _fetch(
    address: str,
    port: int,
    key: bytes,
    kit: KitPayload,
    ak: bytes,
    k_pw: bytes,
    refused: list[Refusal],
    device: str,
) -> tuple[KeySlot, UnlockedKeys, list[Envelope]]:
    me = Claims(kit.account_id, kit.generation, kit.epoch, device)
    ch = await _connect(address, port, MODE_BOOTSTRAP, key, me)
    try:
        state = p.proven_state(ch, await p.expect(ch, p.STATE))
        slot = p.parse_slot(await p.expect(ch, p.SLOT))
        if (slot.account_id, slot.generation, slot.epoch) != (
            kit.account_id,
            state.generation,
            state.epoch,
        ):
            raise ChannelError("the peer's key slot does not match its state")
        keymod.check_kit_against(kit, slot.account_id, slot.generation, slot.epoch)
        try:
            keys = keymod.open_vault_key(kit, ak, k_pw, slot.wrapped_vk)
        except KitError:
            raise ChannelError(
                "the peer's key slot does not open with this Kit and password"
            ) from None
        # Vault.adopt opens every one before merging (vault/intake.py) and keeps refusals aside.
        incoming = await p.recv_envelopes(ch, refused)
        await ch.send(p.DONE)
        return slot, keys, incoming
    finally:
        await ch.close()
