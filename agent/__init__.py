"""The unlock agent: one process per home holding the unlocked vault (daemon), its socket
protocol (wire, stdlib only: the CLI's fast path imports it) and the app's link to it (client)."""
