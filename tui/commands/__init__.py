"""CLI command areas; each module has `register(subparsers)` (see tui/cli.py)."""
