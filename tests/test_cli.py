"""The command line as a user runs it: real subprocesses, real model, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
import wave

import pytest


def captioner(*args: str, env=None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "captioner", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


@pytest.mark.model
def test_transcribe_prints_final_captions(eval_dir):
    result = captioner("transcribe", str(eval_dir / "d03.wav"))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines and "北口" in "".join(lines)
    assert "\x1b" not in result.stdout  # not a terminal: plain lines only


@pytest.mark.model
def test_transcribe_jsonl_prints_one_event_per_line(eval_dir):
    result = captioner("transcribe", "--jsonl", str(eval_dir / "d16.wav"))
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events and all(e["kind"] == "final" for e in events)
    assert {"utterance_id", "text", "audio_start", "audio_end", "emitted_at", "committed"} <= set(events[0])


@pytest.mark.model
def test_run_replays_a_file_with_partials(eval_dir):
    result = captioner("run", "--jsonl", "--pace", "2", "--input", str(eval_dir / "d07.wav"))
    assert result.returncode == 0, result.stderr
    kinds = [json.loads(line)["kind"] for line in result.stdout.splitlines()]
    assert "partial" in kinds and kinds[-1] == "final"


def test_missing_audio_file(tmp_path):
    result = captioner("transcribe", str(tmp_path / "nothing.wav"))
    assert result.returncode == 5 and "nothing.wav" in result.stderr


def test_unreadable_and_empty_audio_files(tmp_path):
    garbage = tmp_path / "notes.wav"
    garbage.write_text("this is not audio", encoding="utf-8")
    result = captioner("transcribe", str(garbage))
    assert result.returncode == 5 and "notes.wav" in result.stderr

    empty = tmp_path / "empty.wav"
    with wave.open(str(empty), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
    result = captioner("transcribe", str(empty))
    assert result.returncode == 5 and "no audio" in result.stderr.lower()


def test_malformed_config_names_the_key(tmp_path, eval_dir):
    config = tmp_path / "bad.yaml"
    config.write_text("asr:\n  beam: 3\n", encoding="utf-8")
    result = captioner("transcribe", "--config", str(config), str(eval_dir / "d13.wav"))
    assert result.returncode == 2
    assert "asr.beam" in result.stderr and str(config) in result.stderr


@pytest.mark.model
def test_missing_microphone_is_a_status_and_run_waits_for_it(tmp_path):
    """A counter PC may start before its USB microphone is plugged in: run waits, it does not exit."""
    import signal
    import time

    config = tmp_path / "mic.yaml"
    config.write_text("audio:\n  device: no-such-microphone\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "captioner", "run", "--no-display", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(8)
        assert process.poll() is None, process.communicate()[1]  # still running, waiting for the device
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "マイクが接続されていません" in stderr and "no-such-microphone" in stderr


def test_model_folder_missing_files(tmp_path, eval_dir):
    (tmp_path / "model").mkdir()
    config = tmp_path / "model.yaml"
    config.write_text(f"asr:\n  model: {tmp_path / 'model'}\n", encoding="utf-8")
    result = captioner("transcribe", "--config", str(config), str(eval_dir / "d13.wav"))
    assert result.returncode == 3 and "model.bin" in result.stderr


def test_unknown_model_offline_explains_the_fix(tmp_path, eval_dir):
    config = tmp_path / "model.yaml"
    config.write_text("asr:\n  model: large-v3-turbo\n", encoding="utf-8")
    env = {**__import__("os").environ, "HF_HUB_CACHE": str(tmp_path / "hub")}
    result = captioner("transcribe", "--config", str(config), str(eval_dir / "d13.wav"), env=env)
    assert result.returncode == 3
    assert "not on this computer" in result.stderr and "allow_download" in result.stderr


def test_devices_command_runs():
    result = captioner("devices")
    assert result.returncode == 0


def test_captions_printed_to_a_log_instead_of_a_terminal_are_masked():
    """Issue 27 (Low): without the window, ``captioner run`` printed captions unmasked to stdout,
    which a service's journal (or run.log) keeps; a terminal still shows them as said."""
    import io

    from captioner.app.sinks import terminal_sink
    from captioner.core.events import CaptionEvent

    said = CaptionEvent("final", 1, "携帯は090-1234-5678です。", 0, 1, 1, committed="携帯は090-1234-5678です。")
    journal = io.StringIO()  # not a terminal
    terminal_sink(stream=journal)(said)
    assert journal.getvalue() == "携帯は[電話番号]です。\n"

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    terminal_sink(stream=screen)(said)
    assert "090-1234-5678" in screen.getvalue()
