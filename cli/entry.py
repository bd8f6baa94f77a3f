"""The `strongroom` console script: try the unlock agent first, with as few imports as possible.

Only when no agent answers does the full CLI (argparse, vault/, …) load.
"""

from __future__ import annotations

import sys


def main() -> int:
    from agent.wire import try_agent

    try:
        code = try_agent(sys.argv[1:])
        if code is not None:
            sys.stdout.flush()
            return code
    except BrokenPipeError:  # `strongroom ls | head -1` answered by the agent
        from .output import reader_gone

        return reader_gone()
    from .main import main as full_main

    return full_main(agent=False)


if __name__ == "__main__":
    sys.exit(main())
