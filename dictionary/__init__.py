"""Place-name dictionary stage: admin-registered words by reading, and caption correction."""
