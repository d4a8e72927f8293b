"""``python -m pathgan``: the same as the ``pathgan`` command."""

import sys

from pathgan.cli import main

sys.exit(main())
