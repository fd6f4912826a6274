"""Counter captions: live offline captions for Japanese service counters.

Layers (enforced by import-linter, see pyproject.toml):
``captioner.core`` (events, errors, stage protocols, paths) < ``captioner.engine`` (audio,
VAD, streaming, recognizers, the pipeline) and the stages (``dictionary`` < ``translate`` <
``display`` < ``web``; ``captioner.convlog``) < ``captioner.app`` (config, session, CLI).
"""
