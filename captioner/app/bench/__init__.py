"""Measurement tooling, not product code: benchmarks, the evaluation corpus and test helpers.

In the app layer so that each tool may use every stage. ``captioner bench`` replays a set
(:mod:`.replay`, scored by :mod:`.evaluation`; ``--soak``: :mod:`.soak`; ``--display``:
:mod:`.display_probe`); ``captioner dict bench`` / ``dict ablate`` (:mod:`.dictionary_bench`,
:mod:`.ablation`) and ``captioner translate bench`` (:mod:`.translation_bench`) are registered
under their stage's command by :mod:`.cli`; ``captioner corpus build`` makes the generated
corpus (:mod:`.corpus`); :mod:`.tiny_argos` builds tiny real translation packages for tests.
"""
