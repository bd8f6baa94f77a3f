"""Keeping an unlocked process's memory to itself: no core dumps, no debugger attaching.

The app and the agent hold the Vault Key and decrypted records in memory. A crash would write
that memory to a core file (or hand it to a crash reporter such as systemd-coredump or apport),
and any process of the same user could attach a debugger (ptrace) or read /proc/<pid>/mem.
`RLIMIT_CORE` 0 stops the core file; on Linux `prctl(PR_SET_DUMPABLE, 0)` also stops ptrace
and /proc access by the user's other processes (root keeps them, as always). Elsewhere only
the rlimit applies. Both are best effort: a refusal is not a reason to stop the user working.
"""

from __future__ import annotations

import sys

PR_SET_DUMPABLE = 4  # <linux/prctl.h>


def guard_process() -> None:
    """Call once, first thing, in a process that will hold secrets (the app, the agent)."""
    _no_core_file()
    if sys.platform == "linux":
        _not_dumpable()


def _no_core_file() -> None:
    try:
        import resource
    except ImportError:  # not a POSIX system
        return
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (OSError, ValueError):
        pass  # best effort, see the module docstring


def _not_dumpable() -> None:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # best effort, see the module docstring
