"""``python -m tlslab.course build|check``: see ``tlslab.course.build``."""

import sys

from tlslab.course.build import main

sys.exit(main())
