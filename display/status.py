"""Status messages for the caption window's status line, and a watcher that notices lag."""

from __future__ import annotations

import threading
from collections.abc import Callable

from captioner.core.events import CaptionEvent

MODEL_PREPARING = "音声モデルを準備しています {percent}%  Preparing the speech model"
MODEL_LOADING = "音声モデルを読み込んでいます…  Loading the speech model"
BEHIND = "字幕が {seconds:.0f} 秒遅れています  Captions are running behind"
INPUT_ENDED = "入力ファイルの終わり (Q で閉じる)  End of input, Q closes"
NO_JAPANESE_FONT = "No Japanese font: install fonts-morisawa-bizud-gothic or set display.font"

StatusSetter = Callable[[str | None, bool], None]


class LagWatch:
    """A sink that shows a warning while captions trail the speech by more than ``threshold_s``.

    Lag is the event's emission time minus the end of the audio it covers (both on the
    stream's clock). The warning clears once an event arrives with less than half of it.
    """

    def __init__(self, set_status: StatusSetter, threshold_s: float) -> None:
        self.set_status = set_status
        self.threshold_s = threshold_s
        self._lock = threading.Lock()
        self.behind = False

    def __call__(self, event: CaptionEvent) -> None:
        if self.threshold_s <= 0:
            return
        lag = event.emitted_at - event.audio_end
        with self._lock:
            if lag > self.threshold_s:
                self.behind = True
                self.set_status(BEHIND.format(seconds=lag), True)
            elif self.behind and lag < self.threshold_s / 2:
                self.behind = False
                self.set_status(None, False)
