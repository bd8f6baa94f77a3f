"""The terminal app (Textual) and the scripting CLI.

This package's __init__ must stay import-free: the CLI path must never import Textual.
"""
