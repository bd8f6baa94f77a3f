"""Wi-Fi sync: devices of one account on one LAN find each other (zeroconf) and sync directly.

Modules: `discovery` (mDNS announce/browse, opaque tags), `channel` (challenge-response, AEAD
frames), `protocol` (summaries, envelopes, refusals), `peer` (`WifiPeer`, `bootstrap`).

API for the CLI and the TUI (everything is asyncio; run it with `asyncio.run(...)`):

    from sync.wifi import WifiPeer, bootstrap, lan_addresses

    interfaces = args.interface or lan_addresses()        # never empty: refuse if it is

    # `sync serve` / the TUI while unlocked: stay reachable and announced
    async with WifiPeer(vault, interfaces, port=0, on_change=refresh) as peer:
        report = await peer.sync_with_all(timeout=3.0)     # `sync now`: every peer found in 3 s
        peer.peers()                                       # [PeerInfo(name, address, port, last_sync, last_error)]
        await asyncio.Event().wait()                       # `sync serve`: until interrupted

    # `signin --email E --kit FILE --wifi [--interface ADDR]`
    vault = await bootstrap(home, email, password, kit_payload, interfaces, timeout=5.0)

`WifiPeer(vault, interfaces, port=0, on_change=None)` needs an unlocked vault. `start()` listens
on every interface address (one TCP port) and announces; `stop()` says goodbye.
`sync_with_all(timeout=3.0, expect=None) -> SyncReport`: syncs with every peer as soon as it is
found; with `expect=N` returns once N peers answered (synced or refused). `SyncReport.results`
holds one `PeerResult` per peer (`received` records changed here, `sent` envelopes, `error`);
`report.errors` lists the failures, which are typed:

- `PasswordChangedElsewhereError` (also a vault `EpochChangedError`): "password changed on
  another device". The peer handed over its new key slot: `await peer.adopt_new_password(pw)`
  (WrongPasswordError if `pw` is not the new password) and sync again.
- `PeerOnOldPasswordError`: the other device needs the new password.
- `AccountResetElsewhereError` (also a vault `GenerationChangedError`) / `PeerBeforeResetError`.
- `PeerAuthError`: the peer is not a device of this account; `ChannelError`: it broke the
  protocol; `PeerGoneError` (a `SourceUnavailableError`): unreachable or timed out;
  `PeerVersionError`: it speaks another Wi-Fi protocol version ("update Strongroom on the
  other device" / "on this device").

All are `WifiError`, a `sync.errors.SyncError`. `bootstrap` raises `WrongPasswordError` /
`KdfParamsError` (the Kit does not open, before any network use), `PeerAuthError` (peers of the
account found but none accepted this Kit + password: outdated Kit?), `SourceUnavailableError`
(no peer answered in time), `AccountExistsError`. It sets the device's sync method to
`{"method": "wifi", "interfaces": [...]}`.

Tests bind to ["127.0.0.1"] only; never pass 0.0.0.0 or all interfaces in a test.
"""

from __future__ import annotations

from .channel import ChannelError, PeerAuthError, PeerGoneError, PeerVersionError, WifiError
from .discovery import SERVICE_TYPE, lan_addresses
from .peer import PeerInfo, PeerResult, SyncReport, WifiPeer, adopt_offered_slot, bootstrap
from .protocol import (
    AccountResetElsewhereError,
    PasswordChangedElsewhereError,
    PeerBeforeResetError,
    PeerOnOldPasswordError,
)

__all__ = [
    "SERVICE_TYPE",
    "AccountResetElsewhereError",
    "ChannelError",
    "PasswordChangedElsewhereError",
    "PeerAuthError",
    "PeerBeforeResetError",
    "PeerGoneError",
    "PeerVersionError",
    "PeerInfo",
    "PeerOnOldPasswordError",
    "PeerResult",
    "SyncReport",
    "WifiError",
    "WifiPeer",
    "adopt_offered_slot",
    "bootstrap",
    "lan_addresses",
]
