"""Notice records changed outside the app's own connection: the CLI, `strongroom sync serve`,
another app on the same home, the app's own workers.

Each second (the app's existing tick) the app's connection asks SQLite's `PRAGMA data_version`,
which changes only when another connection commits to the file: a few microseconds, no disk
read, nothing written. Only when it moved is the store's change counter read; the screens are
refreshed only when that moved too. So the app's own writes on its connection wake nothing,
and a refresh that rewrites the encrypted summary index (no new version) does not refresh
again: no loop, and an idle app does no more than that one query a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vault.vault import Vault


class StoreWatch:
    """Changes to one vault's store made by other connections, noticed by polling."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._version = vault.store.data_version()
        self._seq = vault.store.max_seq()

    def changed(self) -> bool:
        """Whether records were stored by another connection since the last call."""
        version = self.vault.store.data_version()
        if version == self._version:
            return False
        self._version = version
        seq = self.vault.store.max_seq()
        if seq == self._seq:
            return False  # settings, the summary index, a sync's bookkeeping: no record changed
        self._seq = seq
        return True

    def catch_up(self) -> None:
        """The screens were refreshed for another reason (a sync the app ran): what is stored
        now is seen."""
        self._version = self.vault.store.data_version()
        self._seq = self.vault.store.max_seq()
