"""Speech in, caption events out: audio sources, VAD, streaming policy, guard, recognizers, pipeline.

Imports only :mod:`captioner.core`; knows no stage (the dictionary, translation, displays).
"""
