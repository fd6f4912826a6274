"""Offline translation of captions: Argos Translate packages run with CTranslate2.

``stage.TranslationStage`` wraps the sinks; ``packages`` installs and finds language
packages; ``names`` keeps dictionary names right (tiny real packages for tests and benchmarks:
captioner/app/bench/tiny_argos.py). Importing this package loads no model and no CTranslate2.
"""
