"""``captioner check``: the morning readiness report, one OK / NG line per part.

Checks the configuration, the dictionary, the speech model (found, SHA-256 verified for the
bundled one, loaded, one decode), the microphone (opened for 2 s, level in dBFS), the font,
the display, the translation packages and the conversation log folder (when configured).
Exit code 0 when nothing is NG, 1 otherwise, so a start-up script can act on it.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from captioner.core.audio import SAMPLE_RATE
from captioner.core.errors import CaptionerError

log = logging.getLogger(__name__)

OK, NG, WARN, SKIP = "OK", "NG", "WARN", "--"
QUIET_DBFS = -60.0  # peak below this in 2 s: probably the wrong input or a switched-off microphone
MIN_FREE_MB = 100


@dataclass(frozen=True)
class Item:
    name: str
    status: str  # OK, NG, WARN (works, but look at it) or -- (not configured or skipped)
    detail: str

    def line(self) -> str:
        return f"{self.status:<4} {self.name:<12} {self.detail}"


def add_parser(commands) -> None:
    check = commands.add_parser("check", help="readiness report for the morning start-up (OK/NG per part)")
    check.add_argument("--config", metavar="PATH", help="configuration file")
    check.add_argument("--seconds", type=float, default=2.0, help="how long to listen to the microphone")
    check.add_argument("--skip", action="append", default=[], metavar="PART",
                       help="leave a part out (model, microphone, display, ...); repeatable")  # fmt: skip
    check.set_defaults(handler=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    items = run_checks(args.config, seconds=args.seconds, skip=set(args.skip), report=lambda item: print(item.line(), flush=True))
    bad = [item.name for item in items if item.status == NG]
    counts = {status: sum(item.status == status for item in items) for status in (OK, WARN, NG, SKIP)}
    summary = f"{counts[OK]} OK, {counts[WARN]} WARN, {counts[NG]} NG, {counts[SKIP]} not checked"
    if bad:
        print(f"\nNG 準備ができていません (not ready): {', '.join(bad)}; {summary}")
    else:
        print(f"\nOK 準備完了 (ready): {summary}")
    return 1 if bad else 0


def run_checks(
    config_path: str | None, *, seconds: float = 2.0, skip: set[str] = frozenset(), report: Callable[[Item], None] = lambda item: None
) -> list[Item]:
    """Every check, in order; a check that crashes is an NG line, never a traceback."""
    items: list[Item] = []

    def add(item: Item) -> None:
        items.append(item)
        report(item)

    config = None
    try:
        config, detail = _config(config_path)
        add(Item("config", OK, detail))
    except CaptionerError as e:
        add(Item("config", NG, str(e)))
    if config is None:
        from captioner.app.config import Config

        config = Config()  # go on with the defaults so the other parts are still checked
    checks: list[tuple[str, Callable[[], Item]]] = [
        ("dictionary", lambda: check_dictionary(config)),
        ("model", lambda: check_model(config)),
        ("vocabulary", lambda: check_vocabulary(config)),
        ("microphone", lambda: check_microphone(config, seconds)),
        ("font", lambda: check_font(config)),
        ("display", lambda: check_display(config)),
        ("translation", lambda: check_translation(config)),
        ("log", lambda: check_conversation_log(config)),
    ]
    for name, check in checks:
        if name in skip:
            add(Item(name, SKIP, "skipped (--skip)"))
            continue
        try:
            add(check())
        except Exception as e:  # a check must report, not crash the report
            log.debug("check %s failed", name, exc_info=True)
            add(Item(name, NG, f"{type(e).__name__}: {e}"))
    return items


def _config(path: str | None) -> tuple[Any, str]:
    from captioner.app.config import load_config, user_config_path

    config = load_config(path)
    used = path or (str(user_config_path()) if user_config_path().is_file() else "shipped defaults")
    return config, str(used)


def check_dictionary(config) -> Item:
    if not config.dictionary.enabled:
        return Item("dictionary", SKIP, "dictionary.enabled is false")
    from dictionary.store import load_folder, word_files

    folder = config.dictionary.path()
    if not folder.is_dir():
        return Item("dictionary", WARN, f"no folder {folder} yet: captions run without registered words")
    result = load_folder(folder)
    files = len(word_files(folder))
    if result.problems:
        shown = "; ".join(str(p) for p in result.problems[:3])
        more = f" (+{len(result.problems) - 3} more: captioner dict check)" if len(result.problems) > 3 else ""
        return Item("dictionary", NG, f"{len(result.problems)} problems: {shown}{more}")
    return Item("dictionary", OK, f"{len(result.entries)} words in {files} files ({folder})")


def check_vocabulary(config) -> Item:
    """Registered words the speech model cannot write (sherpa-onnx models have a closed vocabulary)."""
    from captioner.engine.backends import model_vocabulary

    folder = model_vocabulary(config.asr)
    if folder is None:
        return Item("vocabulary", SKIP, f"asr.backend {config.asr.backend} writes any character")
    if not config.dictionary.enabled or not config.dictionary.path().is_dir():
        return Item("vocabulary", SKIP, "no dictionary to check")
    from dictionary.store import load_folder

    entries = load_folder(config.dictionary.path()).entries
    bad = [f"{e.surface} ({missing})" for e in entries if (missing := folder.unwritable(e.surface))]
    if bad:
        shown = ", ".join(bad[:5]) + (f" (+{len(bad) - 5} more)" if len(bad) > 5 else "")
        return Item(
            "vocabulary", WARN,
            f"{len(bad)} of {len(entries)} words have characters {folder.path.name}/tokens.txt lacks: {shown}; "
            "the model cannot write them and they are no hotwords (the correction by reading still can)",
        )  # fmt: skip
    return Item("vocabulary", OK, f"the model can write all {len(entries)} registered words")


def check_model(config) -> Item:
    from captioner.app.models import verify_folder
    from captioner.engine.backends import create_recognizer
    from captioner.engine.model_store import bundled_folder, imported_models_root

    started = time.perf_counter()
    recognizer = create_recognizer(config.asr, progress=lambda done, total: None)  # verifies the bundled model
    info = recognizer.describe()
    path = Path(str(info.get("model_path", "")))
    verified = "SHA-256 verified" if path == bundled_folder() else "folder checked"
    if path.parent == imported_models_root():  # `captioner model import`: check the files against the manifest
        problems = verify_folder(path, full=True)
        if problems:
            return Item("model", NG, f"{config.asr.model} ({path}): " + "; ".join(problems) + " (import it again)")
        verified = "manifest SHA-256 verified"
    recognizer.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32))  # the model runs, not only loads
    device = f"{info.get('device')}/{info.get('compute_type') or info.get('kind')}"
    detail = f"{config.asr.model} ({verified}), {device}, loaded and decoded in {time.perf_counter() - started:.1f} s ({path})"
    if info.get("cuda_fallback"):
        return Item("model", WARN, f"{detail}; CUDA failed, CPU used: {info['cuda_fallback']}")
    if stale := adapted_staleness(config, path):
        return Item("model", WARN, f"{detail}; this adapted model is {stale}: run `captioner model adapt --name {config.asr.model} --force`")
    return Item("model", OK, detail)


def adapted_staleness(config, path: Path) -> str | None:
    """For a model made by ``captioner model adapt``: what changed in the dictionary since."""
    from captioner.app.adapt.stale import read_adapted, staleness

    record = read_adapted(path)
    if record is None or not config.dictionary.enabled:
        return None
    from dictionary.store import load_folder

    return staleness(record, load_folder(config.dictionary.path()).entries)


def check_microphone(config, seconds: float) -> Item:
    from captioner.core.errors import AudioDeviceError
    from captioner.engine.audio import MicrophoneSource
    from captioner.engine.recovery import CLIP_FRACTION, CLIP_LEVEL, SILENT_PEAK

    specs = list(dict.fromkeys([str(config.audio.device), *map(str, config.audio.fallback_devices)]))
    reasons = []
    for spec in specs:
        try:
            source = MicrophoneSource(spec, config.audio.block_ms)
        except AudioDeviceError as e:
            reasons.append(str(e).splitlines()[0])
            continue
        try:
            audio = _record(source, seconds)
        except AudioDeviceError as e:
            reasons.append(str(e).splitlines()[0])
            continue
        name = f"{source.device.index}: {source.name}" + ("" if spec == specs[0] else f" (fallback {spec!r})")
        if audio.size == 0:
            reasons.append(f"{name}: no audio within {seconds + 3:.0f} s")
            continue
        peak = float(np.max(np.abs(audio)))
        rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
        level = f"level {_dbfs(rms):.0f} dBFS (peak {_dbfs(peak):.0f} dBFS) over {audio.size / SAMPLE_RATE:.1f} s"
        if peak < SILENT_PEAK:
            return Item("microphone", NG, f"{name}: silent, {level}: muted or the wrong input?")
        clipped = float(np.mean(np.abs(audio) >= CLIP_LEVEL))
        if clipped > CLIP_FRACTION:
            return Item("microphone", WARN, f"{name}: {level}, {clipped:.0%} clipped: turn the input gain down")
        if peak < 10 ** (QUIET_DBFS / 20):
            return Item("microphone", WARN, f"{name}: very quiet, {level}: is it switched on?")
        return Item("microphone", OK, f"{name}: {level}")
    return Item("microphone", NG, "マイクが見つかりません: " + "; ".join(reasons))


def _record(source, seconds: float) -> np.ndarray:
    """Up to ``seconds`` of audio; the first block may take a while (PortAudio's first start)."""
    blocks: list[np.ndarray] = []
    deadline = time.monotonic() + seconds + 3.0
    wanted = int(seconds * SAMPLE_RATE)
    try:
        for block in source.blocks():
            blocks.append(block)
            if sum(map(len, blocks)) >= wanted or time.monotonic() > deadline:
                break
    finally:
        source.close()
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def _dbfs(value: float) -> float:
    return 20 * np.log10(max(value, 1e-10))


def check_font(config) -> Item:
    from display.fonts import find_font

    choice = find_font(config.display.font, config.display.bold)
    if not choice.japanese:
        return Item("font", NG, choice.warning or "no Japanese font")
    if choice.warning:
        return Item("font", WARN, choice.warning)
    return Item("font", OK, f"{choice.name} ({choice.path})")


def check_display(config) -> Item:
    if not config.display.enabled:
        return Item("display", SKIP, "display.enabled is false: captions in the terminal and the browser viewer")
    from captioner.core.errors import DisplayUnavailable
    from display.pg import pygame
    from display.window import _init_video

    try:
        _init_video()
    except DisplayUnavailable as e:
        return Item("display", NG, f"{e} (captions would go to the terminal and the browser viewer)")
    try:
        driver = pygame.display.get_driver()
        sizes = pygame.display.get_desktop_sizes() if hasattr(pygame.display, "get_desktop_sizes") else []
    finally:
        pygame.display.quit()
    screens = ", ".join(f"{w}x{h}" for w, h in sizes) or "unknown size"
    if driver in ("offscreen", "dummy"):
        return Item("display", NG, f"only the {driver} video driver: no screen to show captions on")
    return Item("display", OK, f"video driver {driver}, screens: {screens}")


def check_translation(config) -> Item:
    options = config.translate
    from translate.packages import PackageError, PackageStore
    from translate.translators import find_route

    store = PackageStore(options.package_dirs())
    installed, problems = store.scan()
    names = ", ".join(p.name for p in installed) or "none"
    if not options.languages:
        return Item("translation", SKIP, f"translate.languages is empty (packages installed: {names})")
    found, missing = [], []
    for language in options.languages:
        try:
            found.append(f"{language} ({find_route(store, options.source, language, options.pivot).describe()})")
        except PackageError as e:
            missing.append(f"{language}: {e}")
    if missing:
        return Item("translation", NG, "; ".join(missing) + f" (captioner translate install / list; installed: {names})")
    broken = f"; problems: {'; '.join(problems)}" if problems else ""
    return Item("translation", WARN if problems else OK, ", ".join(found) + f"; packages: {names}{broken}")


def check_conversation_log(config) -> Item:
    options = config.conversation_log
    if not options.enabled:
        return Item("log", SKIP, "conversation_log.enabled is false (nothing is stored)")
    from captioner.convlog.log import log_folder

    folder = log_folder(options)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".check-") as probe:
            probe.write(b"ok\n")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as e:
        reason = "disk full" if e.errno == errno.ENOSPC else e.strerror or str(e)
        return Item("log", NG, f"cannot write to {folder}: {reason}")
    free_mb = shutil.disk_usage(folder).free / 2**20
    retention = f"kept {options.retention_days} days" if options.retention_days else "kept forever"
    if free_mb < MIN_FREE_MB:
        return Item("log", WARN, f"{folder}: only {free_mb:.0f} MB free; {retention}")
    return Item("log", OK, f"{folder} writable, {free_mb:.0f} MB free; {retention}")

