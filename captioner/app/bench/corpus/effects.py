"""Signal effects for the evaluation corpus (numpy only, seeded): resampling to 16 kHz, a
small-room reverb, counter noise mixed at a given SNR, a non-speech file, WAV writing."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from captioner.core.files import replacing

RATE = 16000


def resample(x: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Band-limited resampling of a whole signal (FFT: no aliasing from 24/48 kHz TTS)."""
    x = np.asarray(x, dtype=np.float64)
    if rate == target or len(x) == 0:
        return x.astype(np.float32)
    n = round(len(x) * target / rate)
    spectrum = np.fft.rfft(x)
    bins = n // 2 + 1
    if bins <= len(spectrum):
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - len(spectrum), dtype=spectrum.dtype)])
    return (np.fft.irfft(spectrum, n) * (n / len(x))).astype(np.float32)


def trim(x: np.ndarray, threshold: float = 0.005, pad_s: float = 0.05) -> np.ndarray:
    """Cut leading and trailing silence (Open JTalk pads ~0.2–0.4 s), keeping ``pad_s`` of it:
    an utterance's start and end in refs.json are then where its speech starts and ends."""
    loud = np.flatnonzero(np.abs(x) > threshold)
    if len(loud) == 0:
        return x
    pad = int(pad_s * RATE)
    return x[max(0, loud[0] - pad) : loud[-1] + pad + 1]


def peak_normalize(x: np.ndarray, peak: float = 0.5) -> np.ndarray:
    return (x * (peak / max(1e-6, float(np.max(np.abs(x)))))).astype(np.float32)


def room(x: np.ndarray, rng: np.random.Generator, rt60: float = 0.25, wet: float = 0.3) -> np.ndarray:
    """A small office: exponentially decaying noise impulse response, mixed ``wet`` (30 %)."""
    n = int(RATE * rt60)
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    ir[0] = 1.0
    reverberant = np.convolve(x, ir / np.sqrt(np.sum(ir**2)))[: len(x)]
    return ((1 - wet) * x + wet * reverberant).astype(np.float32)


def counter_noise(length: int, rng: np.random.Generator) -> np.ndarray:
    """Pink-ish hiss, 50 Hz hum and slowly modulated babble-like noise, unit power."""
    t = np.arange(length) / RATE
    hiss = np.convolve(rng.standard_normal(length), np.ones(8) / 8, mode="same")
    hum = np.sin(2 * np.pi * 50 * t)
    babble = np.convolve(rng.standard_normal(length), np.ones(40) / 40, mode="same")
    babble *= 1 + 0.8 * np.sin(2 * np.pi * 0.7 * t)
    noise = hiss / (hiss.std() or 1) + 0.2 * hum + 0.6 * babble / (babble.std() or 1)
    return (noise / np.sqrt(np.mean(noise**2))).astype(np.float32)


def add_noise(x: np.ndarray, speech_power: float, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` plus counter noise whose power is ``speech_power`` / 10^(snr/10)."""
    noise = counter_noise(len(x), rng)
    return (x + noise * np.sqrt(speech_power / 10 ** (snr_db / 10))).astype(np.float32)


def nonspeech(seconds: float, seed: int) -> np.ndarray:
    """Silence, mains hum, room noise, keyboard clicks and ticket-machine beeps (a fifth each)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    seg = n // 5
    t = np.arange(seg) / RATE
    parts = [np.zeros(seg)]
    parts.append(0.02 * np.sin(2 * np.pi * 50 * t) + 0.003 * rng.standard_normal(seg))
    parts.append(0.05 * np.convolve(rng.standard_normal(seg), np.ones(16) / 16, "same"))
    clicks = np.zeros(seg)
    for i in rng.integers(0, seg - 200, 60):
        clicks[i : i + 200] += 0.3 * np.exp(-np.arange(200) / 30) * rng.standard_normal(200)
    parts.append(clicks)
    parts.append(0.1 * np.sin(2 * np.pi * 1000 * t) * ((t % 2) < 0.3))
    x = np.concatenate(parts)[:n]
    return np.concatenate([x, np.zeros(n - len(x))]).astype(np.float32)


def write_wav(path: Path, x: np.ndarray) -> None:
    """16 kHz mono 16-bit PCM, written to a temporary name first (never a half file)."""
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2")
    with replacing(path) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
