"""``python -m verify_sublin.cli``: the command line."""

import sys

from . import main

sys.exit(main())
