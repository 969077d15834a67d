"""``python -m tlslab``: the same command line as the ``tlslab`` console script (see tlslab/cli.py)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
