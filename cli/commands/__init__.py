"""CLI command areas; each module has `register(subparsers)` (see cli/main.py)."""
