"""``python -m captioner.corpus build [--out DIR] [--limit N] [--subsets PATTERN]``."""

import sys

from captioner.corpus.build import main

sys.exit(main())
