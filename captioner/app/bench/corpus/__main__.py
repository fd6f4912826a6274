"""``python -m captioner.app.bench.corpus build [--out DIR] [--limit N] [--subsets PATTERN]``."""

import sys

from captioner.app.bench.corpus.build import main

sys.exit(main())
