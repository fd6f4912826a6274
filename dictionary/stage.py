"""The dictionary stage of the pipeline: words to prime the recognizer in, corrected caption events out."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Sequence

from captioner.core.events import CaptionEvent
from dictionary.candidates import CandidateIndex
from dictionary.correct import Corrector
from dictionary.entries import Entry
from dictionary.options import DictionaryOptions
from dictionary.shown import ShownNames, restore

log = logging.getLogger(__name__)

class DictionaryStage:
    """Corrects every partial and final, and chooses the words Whisper is primed with.

    Committed text is corrected once, piece by piece as it grows, so its corrected form never
    changes either; only the tentative tail of a partial is corrected afresh each time.
    Entries can be swapped at any time (hot reload) from another thread.
    """

    def __init__(self, options: DictionaryOptions, entries: Sequence[Entry] = ()) -> None:
        self.options = options
        self._lock = threading.RLock()
        self._corrector = Corrector(entries, options)
        self._candidates = CandidateIndex(entries, min_score=options.candidate_min_score)
        self._last_used: dict[str, float] = {}  # surface → when a caption last contained it
        self._hotwords: list[str] | None = None
        self._committed: dict[int, tuple[str, str, dict[str, str]]] = {}  # utterance → (raw, corrected, readings)
        self._shown: dict[int, ShownNames] = {}  # utterance → the names its partials showed
        self._corrector.correct("防府市の富海")  # load the analyzer now, not on the first caption

    @property
    def entries(self) -> list[Entry]:
        return self._corrector.entries

    def set_entries(self, entries: Sequence[Entry]) -> None:
        """Use a new set of entries from the next caption on."""
        corrector = Corrector(entries, self.options)
        candidates = CandidateIndex(entries, min_score=self.options.candidate_min_score)
        with self._lock:
            self._corrector = corrector
            self._candidates = candidates
            self._hotwords = None
        log.info("dictionary: %d entries in use", len(corrector.entries))

    def hotword_list(self) -> list[str]:
        """Surfaces to prime Whisper with: by priority, then most recently heard; at most
        ``hotwords_max`` of them."""
        with self._lock:
            ranked = sorted(
                self._corrector.entries, key=lambda e: (-e.priority, -self._last_used.get(e.surface, 0.0))
            )
        chosen: list[str] = []
        for entry in ranked:
            if len(chosen) >= self.options.hotwords_max:
                break
            if entry.surface not in chosen:
                chosen.append(entry.surface)
        return chosen

    def prompt_words(self, heard: str = "") -> list[str]:
        """The words to prime a prompted recognizer (Whisper) with: :meth:`hotword_list` (cached
        until the words or their use change), then up to ``candidates_max`` registered names that
        sound like a part of ``heard`` (what a first decoding of the same speech wrote)."""
        return self._words(heard, self.options.candidates_max)

    def boost_words(self, heard: str = "") -> list[str]:
        """The words a hotword-boosting recognizer (a transducer, no prompt) favours: as
        :meth:`prompt_words` with ``boost_candidates_max`` names. A boost raises a name's score
        on the beam without making the model write it from nothing, so it is on by default."""
        return self._words(heard, self.options.boost_candidates_max)

    def _words(self, heard: str, most: int) -> list[str]:
        with self._lock:
            if self._hotwords is None:
                self._hotwords = self.hotword_list()
            words, candidates = list(self._hotwords), self._candidates
        if heard and most:
            words += [c.entry.surface for c in candidates.find(heard, most)]
        return list(dict.fromkeys(words))

    def apply(self, event: CaptionEvent) -> CaptionEvent:
        """The event with ``corrected_text``/``corrected_committed`` and the changes made."""
        with self._lock:
            corrector = self._corrector
        raw, corrected, readings = self._committed.get(event.utterance_id, ("", "", {}))
        if not event.committed.startswith(raw):  # cannot happen with the commit policy
            raw, corrected, readings = "", "", {}
        frozen = len(corrected)  # what the screen already holds for good
        changes = []
        if len(event.committed) > len(raw):  # corrected once, seeing the tentative text after it
            fixed = corrector.correct_piece(event.text[len(raw) :], len(event.committed) - len(raw), not event.is_final)
            raw, corrected, readings = event.committed, corrected + fixed.text, {**readings, **fixed.readings}
            changes += fixed.changes
        fixed_tail = corrector.correct(event.text[len(raw) :], open_end=not event.is_final)
        changes += fixed_tail.changes
        text, found = corrected + fixed_tail.text, {**readings, **fixed_tail.readings}
        shown = self._shown.pop(event.utterance_id, ShownNames())
        if "shown_names" in corrector.rules:  # needs the partials; before text is committed for good, or in the final
            text, restored, committed_end = restore(corrector, text, shown, frozen, len(corrected))
            corrected = text[:committed_end]
            changes += restored
            names = {c.entry.surface: c.entry.reading for c in restored}
            found.update(names)
            readings = {**readings, **{name: r for name, r in names.items() if name in corrected}}
        if event.is_final:
            self._committed.pop(event.utterance_id, None)
        else:
            self._committed[event.utterance_id] = (raw, corrected, readings)
            shown.add(text, set(found))
            self._shown[event.utterance_id] = shown
        if changes:
            self._note_use(c.entry.surface for c in changes)
        details = dict(event.details)
        if changes:
            details["corrections"] = [c.reason for c in changes]
        return dataclasses.replace(
            event, corrected_text=text, corrected_committed=corrected, details=details, readings=found
        )

    def _note_use(self, surfaces) -> None:
        now = time.monotonic()
        with self._lock:
            for surface in surfaces:
                self._last_used[surface] = now
            self._hotwords = None
