"""Masking residents' personal numbers in caption text (conversation log, optionally the screen).

:func:`mask` replaces, in this order: 12-digit My Number (個人番号), phone numbers, bank account
numbers after 口座 (口座番号), postal codes (〒 or 3-4 digits), dates of birth (a full date in a
caption that, or whose previous caption, talks about 生年月日/誕生日/生まれ, also as 8 digits
or with an era name), and finally any other run of 8 or more digits that is not an amount of
money (円). Digits may be ASCII,
full-width or kanji numerals said one by one (〇九〇…), and groups may be separated by hyphens,
long-vowel marks, spaces, 、 or の (spoken Japanese: 090の1234の5678); a phone number's groups
also by a slash or a hyphen with spaces around it, as residents type them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from captioner.core.events import CaptionEvent

D = "[0-9０-９〇零一二三四五六七八九]"  # one digit as Whisper may write it
SEP = r"(?:[\s\-‐‑–—―−－ー・.,、]|の)?"  # an optional separator between digit groups
# between a phone number's groups, also a typed slash or a hyphen with spaces (090 - 1234 - 5678)
PHONE_SEP = r"(?:\s*[\-‐‑–—―−－ー・.,、/／]\s*|\s+|の)?"
NOT_BEFORE = r"(?<![0-9０-９〇零一二三四五六七八九])"
NOT_AFTER = rf"(?!{SEP}{D})"

LABELS = {
    "my_number": "[個人番号]",
    "phone": "[電話番号]",
    "account": "[口座番号]",
    "postal": "[郵便番号]",
    "birth_date": "[生年月日]",
    "number": "[番号]",
}


def _digits(count_min: int, count_max: int | None = None) -> str:
    """A run of ``count_min``..``count_max`` digits with separators allowed between them."""
    top = "" if count_max is None else str(count_max - 1)
    return rf"{D}(?:{SEP}{D}){{{count_min - 1},{top}}}"


MY_NUMBER = re.compile(rf"{NOT_BEFORE}(?:{_digits(4, 4)}{SEP}{_digits(4, 4)}{SEP}{_digits(4, 4)}){NOT_AFTER}")
PHONE = re.compile(
    rf"{NOT_BEFORE}(?:[0０〇零]{PHONE_SEP}(?:{D}{PHONE_SEP}){{8,9}}{D})(?!{PHONE_SEP}{D})"  # 0X-XXXX-XXXX, 090-XXXX-XXXX
    rf"|{NOT_BEFORE}(?:\(?[0０〇零]{D}{{1,4}}\)?{PHONE_SEP}{D}{{1,4}}{PHONE_SEP}{D}{{4}})(?!{PHONE_SEP}{D})"
)
ACCOUNT = re.compile(rf"(口座(?:番号)?[^0-9０-９〇零一二三四五六七八九]{{0,8}}?)({_digits(6, 8)}){NOT_AFTER}")
POSTAL = re.compile(
    rf"〒\s*{_digits(3, 3)}{SEP}{_digits(4, 4)}"
    rf"|(郵便番号[^0-9０-９〇零一二三四五六七八九]{{0,6}}?){_digits(7, 7)}{NOT_AFTER}"
    rf"|{NOT_BEFORE}{D}{{3}}[\-‐−－ー]{D}{{4}}{NOT_AFTER}"
)
ERA = "(?:明治|大正|昭和|平成|令和)"
NUM = "[0-9０-９〇零一二三四五六七八九十元]"
DATE = re.compile(
    rf"(?:{ERA}\s*{NUM}{{1,3}}\s*年|{NOT_BEFORE}{D}{{4}}\s*年)\s*{NUM}{{1,3}}\s*月\s*{NUM}{{1,3}}\s*日"
    rf"|{NOT_BEFORE}(?:19|20|１９|２０){D}{{2}}{SEP}{D}{{2}}{SEP}{D}{{2}}{NOT_AFTER}"
    rf"|{ERA}\s*{NUM}{{1,3}}\s*年\s*{NUM}{{1,3}}\s*月"
)
BIRTH_CONTEXT = re.compile("生年月日|誕生日|生まれ|お生まれ|生年")
LONG_NUMBER = re.compile(rf"{NOT_BEFORE}{_digits(8)}(?![0-9０-９〇零一二三四五六七八九万億]|\s*円)")  # not an amount of money


@dataclass(frozen=True)
class Masked:
    text: str
    kinds: tuple[str, ...]  # what was masked, in order of the rules (for the log record)


def mask(text: str, context: str = "") -> Masked:
    """``text`` with personal numbers replaced by labels such as [電話番号].

    ``context`` is the previous caption: a date in an answer to 「生年月日は？」 is a birth date.
    """
    kinds: list[str] = []

    def sub(pattern: re.Pattern[str], kind: str, value: str, keep_group: int | None = None) -> str:
        def replace(match: re.Match[str]) -> str:
            kinds.append(kind)
            prefix = match.group(keep_group) if keep_group and match.group(keep_group) else ""
            return prefix + LABELS[kind]

        return pattern.sub(replace, value)

    text = sub(MY_NUMBER, "my_number", text)
    text = sub(PHONE, "phone", text)
    text = sub(ACCOUNT, "account", text, keep_group=1)
    text = sub(POSTAL, "postal", text, keep_group=1)
    if BIRTH_CONTEXT.search(text) or BIRTH_CONTEXT.search(context):
        text = sub(DATE, "birth_date", text)
    text = sub(LONG_NUMBER, "number", text)
    return Masked(text, tuple(dict.fromkeys(kinds)))


class ScreenMasking:
    """A transform: the event with personal numbers masked in the text shown and its translations.

    Runs before translation (``conversation_log.mask_on_screen``), so numbers reach no screen.
    """

    def __init__(self) -> None:
        self._context = ""  # the previous final's text (a date of birth is told by it)

    def __call__(self, event: CaptionEvent) -> CaptionEvent:
        context = self._context
        text = mask(event.display_text, context).text
        committed = event.display_committed
        masked_committed = mask(committed, context).text if committed else committed
        if event.is_final and not event.is_update:
            self._context = event.display_text
        if not text.startswith(masked_committed):
            masked_committed = ""
        return dataclasses.replace(
            event,
            corrected_text=text,
            corrected_committed=masked_committed,
            translations={k: mask(v).text for k, v in event.translations.items()},
        )
