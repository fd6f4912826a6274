"""The ``captioner`` command line: the app's commands, and each stage's own (``dict``, ``translate``, ...)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from captioner.app.bundle import add_parser as add_bundle_parser
from captioner.app.check import add_parser as add_check_parser
from captioner.app.config import load_config
from captioner.app.bench.cli import add_stage_bench_parsers
from captioner.app.bench.corpus.build import add_parser as add_corpus_parser
from captioner.app.models import add_parser as add_models_parser
from captioner.app.service import add_parser as add_service_parser
from captioner.app.session import CaptionSession
from captioner.app.takeaway import connect_window
from captioner.convlog.cli import add_parser as add_log_parser
from captioner.core.errors import CaptionerError
from dictionary.cli import add_parser as add_dict_parser
from translate.cli import add_parser as add_translate_parser
from web.cli import add_parser as add_web_parser

log = logging.getLogger("captioner")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO if args.command != "transcribe" else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    previous = None
    try:
        previous = _ctrl_c.install()
        return args.handler(args)
    except KeyboardInterrupt:
        return 130
    except CaptionerError as e:
        if _ctrl_c.pressed:  # what Ctrl+C interrupted failed as a consequence: not an error to report
            return 130
        print(f"captioner: error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:  # e.g. `captioner dict list | head`: the reader has gone, which is fine
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail again
        return 0
    except Exception as e:
        if _ctrl_c.pressed:  # Ctrl+C turned into another error, e.g. ImportError by ctranslate2's import
            log.debug("interrupted by Ctrl+C (%s: %s)", type(e).__name__, e)
            return 130
        raise
    finally:
        _ctrl_c.uninstall(previous)
        _log_leftover_threads()


class _CtrlC:
    """SIGINT (Ctrl+C) ends a command at any point: KeyboardInterrupt, and the press remembered.

    Installed by main() for the whole command, also over an inherited SIG_IGN: a process
    started with SIGINT ignored (a background job of a shell script, some service managers)
    used to drop a SIGINT during start-up (loading the speech model, starting the web server)
    and go on to caption, while the same signal a moment later stopped it
    (``CaptionSession.run`` and the caption window install their own handlers).

    The press is remembered because a KeyboardInterrupt can come out as something else: raised
    while a native module initialises (``import ctranslate2``), it becomes ``ImportError:
    initialization failed``. main() then exits with 130, not with a traceback.
    """

    def __init__(self) -> None:
        self.pressed = False

    def __call__(self, signum, frame) -> None:
        self.pressed = True
        raise KeyboardInterrupt

    def install(self):
        """Handle SIGINT (main thread only); the handler it replaces, or None."""
        self.pressed = False
        if threading.current_thread() is not threading.main_thread():
            return None
        previous = signal.getsignal(signal.SIGINT)
        if previous not in (signal.default_int_handler, signal.SIG_IGN, signal.SIG_DFL):
            return None  # a caller's own handler (main() called in-process) stays
        signal.signal(signal.SIGINT, self)
        return previous

    def check(self) -> None:
        """Raise KeyboardInterrupt if Ctrl+C was pressed (its exception may have been swallowed)."""
        if self.pressed:
            raise KeyboardInterrupt

    def uninstall(self, previous) -> None:
        if previous is not None and signal.getsignal(signal.SIGINT) is self:
            signal.signal(signal.SIGINT, previous)


_ctrl_c = _CtrlC()


def _log_leftover_threads() -> None:
    """Every thread a command started must have ended with it (sessions stop theirs on exit)."""
    left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if left:
        log.warning("threads still running at exit: %s", ", ".join(sorted(left)))
    else:
        log.debug("no thread left at exit")


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

    add_models_parser(commands, _progress_bar)  # model [show|list|import|download|export]

    bench = commands.add_parser("bench", help="benchmark on an evaluation set; prints JSON")
    bench.add_argument("set_dir", metavar="SET_DIR")
    bench.add_argument("--config", metavar="PATH", help="configuration file")
    bench.add_argument("--no-nonspeech", action="store_true", help="skip the non-speech replay")
    bench.add_argument("--offline-baseline", action="store_true", help="also measure offline beam-5 CER per utterance")
    bench.add_argument("--no-dictionary", action="store_true", help="do not use the set's dictionary.yaml for biasing and correction")
    bench.add_argument("--display", action="store_true", help="also measure the caption window (offscreen without a screen)")
    bench.add_argument("--output", metavar="FILE", help="also write the JSON to FILE")
    bench.add_argument("--soak", type=float, metavar="HOURS", help="soak test: replay session.wav in a loop for HOURS of audio (captioner/app/bench/soak.py)")
    bench.add_argument("--pace", type=float, default=1.5, help="--soak replay speed (1.0 = real time; the default 1.5 fits 2 cores)")
    bench.set_defaults(handler=cmd_bench)

    dict_actions = add_dict_parser(commands, load_config, unwritable_checker)  # each stage owns its commands
    translate_actions = add_translate_parser(commands, load_config)
    for add_stage_parser in (add_web_parser, add_log_parser):
        add_stage_parser(commands, load_config)
    add_stage_bench_parsers(commands, dict_actions, translate_actions)  # their measuring ones live with the other tools
    for add_app_parser in (add_check_parser, add_bundle_parser, add_service_parser, add_corpus_parser):
        add_app_parser(commands)
    return parser


def unwritable_checker(config) -> Callable[[str], str] | None:
    """The characters of a word the configured speech model cannot write, or None (Whisper writes any)."""
    from captioner.engine.backends import model_vocabulary

    folder = model_vocabulary(config.asr)
    return folder.unwritable if folder is not None else None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="configuration file (default: the user's, else the shipped defaults)")
    parser.add_argument("--jsonl", action="store_true", help="print events as JSON Lines")


def cmd_run(args: argparse.Namespace) -> int:
    from captioner.app.sinks import JsonLinesWriter, terminal_sink
    from captioner.engine.recovery import (
        open_live_source,  # a microphone that survives unplugging
    )

    config = _config(args)
    pace = args.pace if args.input else None

    def open_source():
        return open_live_source(config.audio, args.input, pace)

    loaded = []  # the recognizer the window's engine loaded, reused if the window fails
    if config.display.enabled and not args.no_display:  # the caption window (display/); None = no screen
        from display.live import run_with_display

        def load_recognizer(progress):
            loaded.append(_recognizer(config, progress))
            return loaded[-1]

        def run_pipeline(recognizer, source, sinks, on_start, status):  # in the window's engine thread
            with CaptionSession(config, recognizer, sinks, web=True, conversation_log=True, status=status) as session:
                connect_window(session, sinks, config)
                return session.run(source, on_start=on_start)

        try:
            shown = run_with_display(
                config, open_source=open_source, load_recognizer=load_recognizer, run_pipeline=run_pipeline,
                sinks=[JsonLinesWriter()] if args.jsonl else [], file_input=args.input is not None,
                progress=_progress_bar,
            )  # fmt: skip
        except Exception:  # a bug in the window must not end captions: go on in the terminal
            if not loaded:  # the model itself failed: nothing to go on with
                raise
            log.exception("the caption window failed; captions continue in this terminal (and the browser viewer)")
            shown = None
        if shown is not None:
            return shown
    recognizer = loaded[-1] if loaded else _recognizer(config)
    with CaptionSession(config, recognizer, [terminal_sink(args.jsonl)], web=True, conversation_log=True) as session:
        _ctrl_c.check()  # a Ctrl+C during start-up whose KeyboardInterrupt a library swallowed
        session.run(open_source())
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    from captioner.app.sinks import JsonLinesWriter, TerminalPrinter
    from captioner.engine.audio import FileSource

    config = _config(args)
    source = FileSource(args.file, pace=None, block_ms=config.audio.block_ms)
    recognizer = _recognizer(config)
    sink = JsonLinesWriter() if args.jsonl else TerminalPrinter(live=False)
    with CaptionSession(config, recognizer, [sink]) as session:
        session.run(source, partials=False, backpressure=True)
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from captioner.engine.audio import format_devices, list_input_devices

    print(format_devices(list_input_devices()))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from captioner.app.bench.replay import run_bench

    set_dir = Path(args.set_dir)
    if not (set_dir / "session.wav").is_file():
        raise CaptionerError(f"{set_dir}: not an evaluation set (no session.wav)")
    config = _config(args)
    recognizer = _recognizer(config)
    if args.soak:
        from captioner.app.bench.soak import run_soak

        def loop_done(row) -> None:
            print(json.dumps(row, ensure_ascii=False), file=sys.stderr, flush=True)

        result = run_soak(
            config, recognizer, set_dir, args.soak, pace=args.pace, use_dictionary=not args.no_dictionary, progress=loop_done
        )
        return _print_json(result, args.output)
    result = run_bench(
        config, recognizer, set_dir,
        nonspeech=not args.no_nonspeech, baseline=args.offline_baseline, use_dictionary=not args.no_dictionary,
        display=args.display,
    )  # fmt: skip
    return _print_json(result, args.output)


def _print_json(result: dict, output: str | None) -> int:
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def _config(args: argparse.Namespace):
    return load_config(args.config)


def _recognizer(config, progress=None):
    from captioner.engine.backends import create_recognizer

    log.info("loading the speech model (%s, %s)", config.asr.backend, config.asr.model)
    return create_recognizer(config.asr, progress=progress or _progress_bar)


def _progress_bar(done: int, total: int) -> None:
    """The first run's model assembly: a live percentage on a terminal, two lines in a log."""
    percent = 100 * done // max(total, 1)
    if sys.stderr.isatty():
        end = "\n" if done >= total else ""
        print(f"\rPreparing the speech model (first run only): {percent:3d}%", end=end, file=sys.stderr, flush=True)
    elif done == 0 or done >= total:
        print(f"Preparing the speech model (first run only): {percent}%", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
