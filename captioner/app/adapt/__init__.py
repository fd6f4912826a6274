"""``captioner model adapt``: teach Whisper's decoder the registered words (PyTorch, the [adapt] extra)."""
