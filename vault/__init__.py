"""The pure core of Strongroom: crypto, keys, the Kit, records, the local store, merge.

Nothing here touches a terminal UI or the network; `sync/` and `tui/` build on it.
"""
