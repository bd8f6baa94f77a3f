"""Finding devices of the same account on the LAN with zeroconf (mDNS/DNS-SD).

Each device announces `_strongroom._tcp.local.` under a random instance name and host name,
with a TXT record that holds only opaque tags, never an email, account id or device name:

    v    "1"
    tag  16 hex of HKDF(VK "lan" sub-key, day)      devices already linked to the account
    kt   16 hex of HKDF(AK ‖ account id, day)        a new device that has opened its Kit

`day` is the UTC day number, so a tag cannot follow a device from network to network for
longer than a day; receivers accept yesterday's, today's and tomorrow's tags (clock skew,
midnight). Both keys survive a password change, so devices on different epochs still find each
other and can say why they refuse to sync. Interfaces are explicit addresses (tests use
["127.0.0.1"] only); `lan_addresses()` lists this machine's LAN IPv4 addresses for the default.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vault.crypto import hkdf

log = logging.getLogger("sync.wifi")

SERVICE_TYPE = "_strongroom._tcp.local."
TXT_VERSION = "1"
DAY = 86400
RESOLVE_TIMEOUT_MS = 3000


def day_number(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // DAY)


def member_tag(lan_subkey: bytes, day: int) -> str:
    """The tag devices of one account recognise each other by (from VK's "lan" sub-key)."""
    return hkdf(lan_subkey, f"strongroom wifi tag v1 {day}", length=8).hex()


def kit_tag(ak: bytes, account_id: str, day: int) -> str:
    """The tag a new device looks for: it has AK (Kit + password) but no VK yet."""
    return hkdf(ak + account_id.encode(), f"strongroom wifi-tag v1 {day}", length=8).hex()


def tags_around(make: Callable[[int], str], now: float | None = None) -> set[str]:
    day = day_number(now)
    return {make(d) for d in (day - 1, day, day + 1)}


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses except loopback and link-local (the default interfaces)."""
    import ifaddr

    out: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if (
                isinstance(ip.ip, str)
                and not ip.ip.startswith(("127.", "169.254."))
                and ip.ip not in out
            ):
                out.append(ip.ip)
    return out


@dataclass(frozen=True)
class Found:
    """A resolved announcement whose tags matched."""

    name: str
    addresses: tuple[str, ...]
    port: int
    #: the TXT record as announced (tags only: nothing secret)
    properties: tuple[tuple[str, str], ...] = ()


class Discovery:
    """Announce this device (optional) and collect peers whose TXT record passes `accept`."""

    def __init__(self, interfaces: list[str], accept: Callable[[dict[str, str]], bool]) -> None:
        if not interfaces:
            raise ValueError("give at least one interface address to announce and browse on")
        self.interfaces = list(interfaces)
        self._accept = accept
        self.found: dict[str, Found] = {}
        self.changed = asyncio.Event()
        self.name: str | None = None
        self._zc: object | None = None
        self._browser: object | None = None
        self._info: object | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._registering: asyncio.Future[None] | None = None
        #: Set once our service is registered (probing done) and answerable by others.
        self.announced = asyncio.Event()

    async def start(
        self, port: int | None = None, properties: dict[str, str] | None = None
    ) -> None:
        """Open mDNS on the interfaces; register our service when `port` is given; browse."""
        from zeroconf import DNSQuestionType, IPVersion
        from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

        v6 = any(":" in a for a in self.interfaces)
        zc = AsyncZeroconf(
            interfaces=self.interfaces, ip_version=IPVersion.All if v6 else IPVersion.V4Only
        )
        self._zc = zc
        info: AsyncServiceInfo | None = None
        if port is not None:
            instance = secrets.token_hex(6)
            info = AsyncServiceInfo(
                SERVICE_TYPE,
                f"{instance}.{SERVICE_TYPE}",
                addresses=[
                    socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a)
                    for a in self.interfaces
                ],
                port=port,
                properties=dict(properties or {}),
                server=f"sr-{instance}.local.",
            )
            self.name = info.name
            self._info = info
        # Browse first: finding peers need not wait for our own probing (≈ 0.75 s with real timings).
        # Multicast (QM) questions: a unicast answer to port 5353 reaches only one of several
        # mDNS sockets on one host (SO_REUSEPORT), so with QU the first answer is often lost and
        # discovery waits for the second query, ≈ 1 s later.
        self._browser = AsyncServiceBrowser(
            zc.zeroconf, SERVICE_TYPE, handlers=[self._on_change], question_type=DNSQuestionType.QM
        )
        if info is not None:
            # Probing takes ≈ 0.75 s with real timings; peers can be found and synced meanwhile.
            self._registering = asyncio.ensure_future(self._register(zc, info))

    async def _register(self, zc: Any, info: Any) -> None:
        try:
            await (await zc.async_register_service(info, allow_name_change=True))
        except Exception as exc:  # reported; the device still syncs with the peers it finds
            log.warning("could not announce this device on the network: %s", type(exc).__name__)
            return
        if info.name != self.name:  # renamed after a collision
            taken, self.name = self.name, info.name
            self.found.pop(info.name, None)
            if taken is not None:  # the name we gave up belongs to another device: look at it now
                self._schedule_resolve(zc.zeroconf, SERVICE_TYPE, taken)
        self.announced.set()

    async def update(self, properties: dict[str, str]) -> None:
        """Re-announce with new tags (the day changed, or the keys did)."""
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

        if not isinstance(self._zc, AsyncZeroconf) or not isinstance(self._info, AsyncServiceInfo):
            return
        if self._registering is not None and not self._registering.done():
            await self._registering
        old = self._info
        info = AsyncServiceInfo(
            SERVICE_TYPE,
            old.name,
            addresses=old.addresses,
            port=old.port,
            properties=dict(properties),
            server=old.server,
        )
        self._info = info
        await (await self._zc.async_update_service(info))

    async def stop(self) -> None:
        from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

        for task in list(self._tasks):
            task.cancel()
        if self._registering is not None and not self._registering.done():
            self._registering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._registering
        if isinstance(self._browser, AsyncServiceBrowser):
            await self._browser.async_cancel()
        if isinstance(self._zc, AsyncZeroconf):
            await self._zc.async_close()  # unregisters our service (goodbye packets)
        self._browser = self._zc = self._info = None

    # -- browsing -----------------------------------------------------------------------------
    def _on_change(
        self, zeroconf: object, service_type: str, name: str, state_change: object
    ) -> None:
        from zeroconf import ServiceStateChange

        if name == self.name:
            return
        if state_change is ServiceStateChange.Removed:
            self.found.pop(name, None)
            return
        self._schedule_resolve(zeroconf, service_type, name)

    def _schedule_resolve(self, zeroconf: object, service_type: str, name: str) -> None:
        task = asyncio.ensure_future(self._resolve(zeroconf, service_type, name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, zeroconf: object, service_type: str, name: str) -> None:
        from zeroconf import DNSQuestionType, Zeroconf
        from zeroconf.asyncio import AsyncServiceInfo

        if not isinstance(zeroconf, Zeroconf):
            return
        info = AsyncServiceInfo(service_type, name)
        try:
            if not await info.async_request(
                zeroconf, RESOLVE_TIMEOUT_MS, question_type=DNSQuestionType.QM
            ):
                return
        except (OSError, RuntimeError) as exc:
            log.debug("could not resolve an announcement: %s", type(exc).__name__)
            return
        props: dict[str, str] = {}
        for k, v in (info.properties or {}).items():
            if isinstance(k, bytes) and isinstance(v, bytes):
                props[k.decode("ascii", "replace")] = v.decode("ascii", "replace")
        if props.get("v") != TXT_VERSION or not self._accept(props):
            self.found.pop(name, None)
            return
        if name == self.name:
            return  # ourselves, seen under a name we took after a collision
        addresses = tuple(info.parsed_addresses())
        if not addresses or not info.port:
            return
        self.found[name] = Found(name, addresses, info.port, tuple(sorted(props.items())))
        self.changed.set()

    async def wait_changed(self, timeout: float) -> None:
        """Wait until a matching peer is found (or the timeout passes)."""
        self.changed.clear()
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except TimeoutError:
            pass
