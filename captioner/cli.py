"""The ``captioner`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path

from captioner.errors import CaptionerError

log = logging.getLogger("captioner")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO if args.command != "transcribe" else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.handler(args)
    except CaptionerError as e:
        print(f"captioner: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="captioner", description="Live offline captions for service counters.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="live captions from the microphone (or --input FILE at real-time pace)")
    run.add_argument("--input", metavar="FILE", help="replay an audio file instead of the microphone")
    run.add_argument("--pace", type=float, default=1.0, help="replay speed for --input (1.0 = real time)")
    run.add_argument("--no-display", action="store_true", help="captions in this terminal instead of the caption window")
    _common(run)
    run.set_defaults(handler=cmd_run)

    transcribe = commands.add_parser("transcribe", help="print the final captions of a file as fast as possible")
    transcribe.add_argument("file")
    _common(transcribe)
    transcribe.set_defaults(handler=cmd_transcribe)

    devices = commands.add_parser("devices", help="list audio input devices")
    devices.set_defaults(handler=cmd_devices)

    model = commands.add_parser("model", help="prepare (assemble and verify) the configured model and print where it is")
    model.add_argument("--config", metavar="PATH", help="configuration file (default: the user's, else the shipped defaults)")
    model.set_defaults(handler=cmd_model)

    bench = commands.add_parser("bench", help="benchmark on an evaluation set; prints JSON")
    bench.add_argument("set_dir", metavar="SET_DIR")
    bench.add_argument("--config", metavar="PATH", help="configuration file")
    bench.add_argument("--no-nonspeech", action="store_true", help="skip the non-speech replay")
    bench.add_argument("--offline-baseline", action="store_true", help="also measure offline beam-5 CER per utterance")
    bench.add_argument("--no-dictionary", action="store_true", help="do not use the set's dictionary.yaml for biasing and correction")
    bench.add_argument("--display", action="store_true", help="also measure the caption window (offscreen without a screen)")
    bench.add_argument("--output", metavar="FILE", help="also write the JSON to FILE")
    bench.add_argument("--soak", type=float, metavar="HOURS", help="soak test: replay session.wav in a loop for HOURS of audio (captioner/soak.py)")
    bench.add_argument("--pace", type=float, default=1.5, help="--soak replay speed (1.0 = real time; the default 1.5 fits 2 cores)")
    bench.set_defaults(handler=cmd_bench)

    from captioner.dict_cli import add_parser as add_dict_parser

    add_dict_parser(commands)

    from translate.cli import add_parser as add_translate_parser

    add_translate_parser(commands)

    from web.cli import add_parser as add_web_parser

    add_web_parser(commands)

    from captioner.convlog_cli import add_parser as add_log_parser

    add_log_parser(commands)

    from captioner.check import add_parser as add_check_parser

    add_check_parser(commands)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="configuration file (default: the user's, else the shipped defaults)")
    parser.add_argument("--jsonl", action="store_true", help="print events as JSON Lines")


def cmd_run(args: argparse.Namespace) -> int:
    from captioner.recovery import open_live_source as open_source  # a microphone that survives unplugging
    from captioner.sinks import JsonLinesWriter, TerminalPrinter

    config = _config(args)
    loaded = []  # the recognizer the window's engine loaded, reused if the window fails

    def load_recognizer(progress):
        loaded.append(_recognizer(config, progress))
        return loaded[-1]

    if config.display.enabled and not args.no_display:  # the caption window (display/); None = no screen
        from display.live import run_with_display

        try:
            shown = run_with_display(
                config,
                open_source=lambda: open_source(config.audio, args.input, args.pace if args.input else None),
                load_recognizer=load_recognizer,
                run_pipeline=lambda recognizer, source, sinks, on_start: _run_pipeline(
                    config, recognizer, source, sinks, partials=None, web=True, on_start=on_start, conversation_log=True
                ),
                sinks=[JsonLinesWriter()] if args.jsonl else [],
                file_input=args.input is not None,
                progress=_progress_bar,
            )
        except Exception:  # a bug in the window must not end captions: go on in the terminal
            if not loaded:  # the model itself failed: nothing to go on with
                raise
            log.exception("the caption window failed; captions continue in this terminal (and the browser viewer)")
            shown = None
        if shown is not None:
            return shown
    source = open_source(config.audio, args.input, args.pace if args.input else None)
    recognizer = loaded[-1] if loaded else _recognizer(config)
    sink = JsonLinesWriter() if args.jsonl else TerminalPrinter()
    return _run_pipeline(config, recognizer, source, [sink], partials=None, web=True, conversation_log=True)


def cmd_transcribe(args: argparse.Namespace) -> int:
    from captioner.audio import FileSource
    from captioner.sinks import JsonLinesWriter, TerminalPrinter

    config = _config(args)
    source = FileSource(args.file, pace=None, block_ms=config.audio.block_ms)
    recognizer = _recognizer(config)
    sink = JsonLinesWriter() if args.jsonl else TerminalPrinter(live=False)
    return _run_pipeline(config, recognizer, source, [sink], partials=False, backpressure=True)


def cmd_devices(args: argparse.Namespace) -> int:
    from captioner.audio import format_devices, list_input_devices

    print(format_devices(list_input_devices()))
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    recognizer = _recognizer(_config(args))
    print(json.dumps(recognizer.describe(), ensure_ascii=False, indent=2))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from captioner.bench import run_bench

    set_dir = Path(args.set_dir)
    if not (set_dir / "session.wav").is_file():
        raise CaptionerError(f"{set_dir}: not an evaluation set (no session.wav)")
    config = _config(args)
    recognizer = _recognizer(config)
    if args.soak:
        from captioner.soak import run_soak

        def loop_done(row) -> None:
            print(json.dumps(row, ensure_ascii=False), file=sys.stderr, flush=True)

        result = run_soak(
            config, recognizer, set_dir, args.soak, pace=args.pace, use_dictionary=not args.no_dictionary, progress=loop_done
        )
        text = json.dumps(result, ensure_ascii=False, indent=2)
        if args.output:
            Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(text)
        return 0
    result = run_bench(
        config, recognizer, set_dir,
        nonspeech=not args.no_nonspeech, baseline=args.offline_baseline, use_dictionary=not args.no_dictionary,
        display=args.display,
    )  # fmt: skip
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def _config(args: argparse.Namespace):
    from captioner.config import load_config

    return load_config(args.config)


def _recognizer(config, progress=None):
    from captioner.asr import WhisperRecognizer

    return WhisperRecognizer(config.asr, progress=progress or _progress_bar)


def _run_pipeline(
    config, recognizer, source, sinks, *, web: bool = False, on_start=None, conversation_log: bool = False, **kwargs
) -> int:
    from captioner.pipeline import CaptionPipeline

    dictionary, watcher = _dictionary(config)
    server = None
    targets: list = []  # the final sinks (after masking/translation): where web replies and corrections go
    if web:  # the browser viewer and admin page (web/); its sink only schedules, never blocks
        from web.runner import start_web

        try:
            server = start_web(config, recognizer=recognizer, source=source, dictionary=dictionary,
                               publish=lambda event: [sink(event) for sink in targets])  # fmt: skip
        except BaseException:
            if watcher is not None:
                watcher.close()
            raise
        sinks = [*sinks, server.hub.sink] if server is not None else sinks
    audio_status = _window_status(sinks, "audio")  # microphone unplugged, silent, clipping
    if audio_status is not None and hasattr(source, "add_status_listener"):
        source.add_status_listener(audio_status)
    if conversation_log and config.conversation_log.enabled:  # masked finals, one file per day (captioner/convlog.py)
        from captioner.convlog import ConversationLog

        sinks = [*sinks, ConversationLog(config.conversation_log, on_status=_window_status(sinks, "log"))]
    translation = _translation(config, sinks, dictionary, on_problem=_window_status(sinks, "translation"))
    if translation is not None:
        sinks = [translation]  # it forwards every event at once and adds translations later
    if config.conversation_log.mask_on_screen:
        from captioner.convlog import MaskingStage

        sinks = [MaskingStage(sinks)]  # before translation, so numbers never reach any screen
    targets[:] = sinks
    pipeline = CaptionPipeline(config, recognizer, source, sinks, dictionary=dictionary, **kwargs)
    if on_start is not None:  # run by the caption window's engine thread: the window handles Ctrl+C
        on_start(pipeline)
    else:
        previous = signal.signal(signal.SIGINT, lambda *_: pipeline.stop())
    try:
        pipeline.run()
    finally:
        if on_start is None:
            signal.signal(signal.SIGINT, previous)
        if translation is not None:
            translation.close()
        if watcher is not None:
            watcher.close()
        if server is not None:
            server.stop()
    return 0


def _window_status(sinks, key: str):
    """``set(text | None)`` for the caption window's status line under ``key``; None without a window.

    Without a window, statuses are only in the log (stderr).
    """
    window_module = sys.modules.get("display.window")  # loaded only when the window is open
    if window_module is None:
        return None
    for sink in sinks:
        if isinstance(sink, window_module.CaptionWindow):
            return lambda text, window=sink: window.set_status(text, True, key=key)
    return None


def _dictionary(config):
    """The dictionary stage, kept up to date with the word folder; (None, None) when off."""
    if not config.dictionary.enabled:
        return None, None
    from dictionary.stage import DictionaryStage
    from dictionary.store import DictionaryWatcher

    stage = DictionaryStage(config.dictionary)
    watcher = DictionaryWatcher(config.dictionary, lambda result: stage.set_entries(result.entries))
    stage.set_entries(watcher.current().entries)
    return stage, watcher


def _translation(config, sinks, dictionary=None, on_problem=None):
    """The translation stage around ``sinks`` when languages are configured, else None."""
    if not config.translate.languages:
        return None
    from translate.names import glossary_of
    from translate.stage import build_stage

    return build_stage(config.translate, sinks, glossary=glossary_of(dictionary), on_problem=on_problem)


def _progress_bar(done: int, total: int) -> None:
    percent = 100 * done // max(total, 1)
    end = "\n" if done >= total else ""
    print(f"\rPreparing the speech model (first run only): {percent:3d}%", end=end, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
