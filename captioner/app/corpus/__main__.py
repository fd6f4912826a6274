"""``python -m captioner.app.corpus build [--out DIR] [--limit N] [--subsets PATTERN]``."""

import sys

from captioner.app.corpus.build import main

sys.exit(main())
