"""Everything the conversation routes work on, in one object (built once per server)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from captioner.core.events import CaptionEvent, UtteranceIds
from captioner.core.paths import data_dir
from web.addresses import CHOICE_FILE, AddressChoice
from web.conversation.exchange import Conversation, ReplyTranslator
from web.conversation.phrases import PHRASES_FILE, Phrases
from web.conversation.survey import FILE as SURVEY_FILE
from web.conversation.survey import SurveyStore
from web.hub import CaptionHub
from web.options import WebOptions


@dataclass
class ConversationContext:
    """The conversation, the survey answers, the quick phrases and the chosen LAN address."""

    conversation: Conversation
    survey: SurveyStore
    phrases: Phrases
    addresses: AddressChoice


def default_context(
    options: WebOptions,
    hub: CaptionHub,
    publish: Callable[[CaptionEvent], None] | None = None,
    *,
    translator: ReplyTranslator | None = None,
    ids: UtteranceIds | None = None,
) -> ConversationContext:
    """The conversation on the data folder; ``translator`` and ``ids`` are the session's (its
    translation stage's reply translator, the utterance ids its pipeline draws from)."""
    folder = data_dir()
    return ConversationContext(
        Conversation(hub, publish, idle_s=options.idle_minutes * 60, survey=options.survey, translator=translator, ids=ids),
        SurveyStore(folder / SURVEY_FILE),
        Phrases(folder / PHRASES_FILE),
        AddressChoice(folder / CHOICE_FILE),
    )
