"""`python3 -m cli …` runs the scripting interface as the `strongroom` command does."""

import sys

from .main import main

sys.exit(main())
