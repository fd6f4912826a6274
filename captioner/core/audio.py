"""The one audio format every layer shares: 16 kHz mono float32 samples in -1..1."""

from __future__ import annotations

SAMPLE_RATE = 16000
