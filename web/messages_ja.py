"""Japanese wording of the dictionary's problem messages, for the Japanese admin page.

``dictionary.store`` and ``dictionary.csvio`` report problems in English (the CLI and the
logs use them). The admin page shows them through :func:`japanese`, which rewrites each
known message, keeping its file and line (``words.csv:12: ...`` → ``words.csv の 12 行目: ...``).
A message not listed here is shown as it is.
"""

from __future__ import annotations

import re

_KINDS = {"kanji": "漢字", "Latin letters": "ローマ字", "other characters": "ほかの文字"}
_WORDS = {"surface": "表記", "reading": "読み", "alias": "別表記"}
VALID_JA = "surface, reading, aliases, note, priority, または en, vi, zh, pt-br などの言語コード"

_RULES: list[tuple[re.Pattern[str], str]] = [
    (r"(?P<name>.*)'(?P<key>[^']+)' must be text, not (?P<v>.+) \(put it in quotes\)",
     "{name}「{key}」は文字で書いてください（{v} ではなく。引用符で囲みます）"),
    (r"(?P<name>.*): 'aliases' must be a list of text like \[豊富市, ほうふ市\], not (?P<v>.+)",
     "{name}: 別表記（aliases）は [豊富市, ほうふ市] のような文字のリストにしてください（{v} ではなく）"),
    (r"(?P<name>.*): 'priority' must be a whole number, not (?P<v>.+)", "{name}: 優先度（priority）は整数にしてください（{v} ではなく）"),
    (r"(?P<name>.*): language codes are lowercase: write '(?P<low>[^']+)', not '(?P<up>[^']+)'",
     "{name}: 言語コードは小文字で「{low}」と書いてください（「{up}」ではなく）"),
    (r"(?P<name>.*?):? ?unknown key '?(?P<key>.+?)'? \(valid: .*\)", "{name}不明な項目「{key}」です（使える項目: " + VALID_JA + "）"),
    (r"entry has no surface \(the word as it is displayed\)", "表記（画面に出す形）がありません"),
    (r"(?P<name>.*): reading is empty \(write it in hiragana or katakana\)", "{name}: 読みが空です（ひらがなかカタカナで書いてください）"),
    (r"(?P<name>.*): reading '(?P<r>.*)' must be hiragana or katakana, it has (?P<kind>kanji|Latin letters|other characters) \((?P<bad>.*)\)",
     "{name}: 読み「{r}」はひらがなかカタカナで書いてください（{kind}「{bad}」が入っています）"),
    (r"(?P<name>.*): the (?P<what>surface|reading|alias) has (?P<n>\d+) characters; a word has at most (?P<m>\d+)",
     "{name}: {what}が {n} 文字あります（一語は {m} 文字まで）"),
    (r"not UTF-8 text: cannot decode byte (?P<b>0x[0-9a-f]+) at byte offset (?P<at>\d+)",
     "UTF-8 の文字として読めません（{at} バイト目の {b}）"),
    (r"YAML syntax error: (?P<p>.*)", "YAML の書き方に誤りがあります（{p}）"),
    (r"cannot read: (?P<p>.*)", "読み込めません（{p}）"),
    (r"the file must be a list of entries, each starting with '- surface: \.\.\.'",
     "ファイルは「- surface: ...」で始まる単語の並びにしてください"),
    (r"each entry must be a mapping like \{surface: 防府市, reading: ほうふし\}",
     "各単語は {surface: 防府市, reading: ほうふし} の形で書いてください"),
    (r"duplicate key '(?P<k>.+)' \(first at line (?P<n>\d+)\); the first is used",
     "項目「{k}」が二回あります（最初は {n} 行目）。最初のものを使います"),
    (r"(?P<s>.+) is registered twice with different readings: (?P<a>.+) at (?P<at>.+) and (?P<b>.+) here; (?P<used>.+) is used",
     "「{s}」が違う読みで二回登録されています（{at} では {a}、ここでは {b}）。{used} を使います"),
    ((r"cannot decode byte (?P<b>0x[0-9a-f]+) at byte offset (?P<at>\d+) \(the file looks like (?P<enc>.+?)\); "
      r"this line is skipped — save the file as UTF-8 or Shift_JIS"),
     "{at} バイト目の {b} が読めません（{enc} のファイルのようです）。この行は飛ばします。UTF-8 か Shift_JIS で保存してください"),
    (r"missing required column (?P<names>.+); the header row is: (?P<shown>.*)",
     "必要な列 {names} がありません（見出し行: {shown}）"),
    (r"column '(?P<c>.+)' appears twice; the first one is used", "列「{c}」が二回あります。最初の列を使います"),
    (r"unknown column '(?P<c>.+)' is ignored \(known: .*\)",
     "不明な列「{c}」は使いません（使える列: 表記, 読み, 英語, ベトナム語, 中国語, 別表記, 備考, 優先度 など）"),
    (r"(?P<n>\d+) cells but the header has (?P<m>\d+) columns; the extra cells are ignored",
     "セルが {n} 個ありますが、見出しは {m} 列です。余分なセルは使いません"),
    (r"(?P<what>.+): its last good version \((?P<n>\d+) entries\) stays in use until this is fixed",
     "{what}: 直るまで、前の正しい版（{n} 語）を使います"),
    (r"(?P<s>.+): its last good version \((?P<r>.+)\) stays in use until this is fixed", "{s}: 直るまで、前の読み（{r}）を使います"),
    (r"unknown field '(?P<f>.+)'", "不明な項目「{f}」です"),
    (r"(?P<k>surface|reading|note) is too long \(200 characters at most\)", "{k} が長すぎます（200 文字まで）"),
    (r"translations must be an object like .*", "翻訳は {\"en\": \"Hofu City\"} の形で送ってください"),
    (r"invalid entry", "単語の内容が正しくありません"),
]  # fmt: skip
_COMPILED = [(re.compile(rf"^{pattern}$"), template) for pattern, template in _RULES]
_WHERE = re.compile(r"^(?P<file>[^\s:][^:]*?\.(?:ya?ml|csv|txt)):(?:(?P<line>\d+):)? (?P<rest>.*)$", re.DOTALL)


FIX_FIRST = "; fix it before the file can be changed"


def _one(message: str) -> str:
    if message.endswith(FIX_FIRST):
        return japanese(message[: -len(FIX_FIRST)]) + "。直すまで、このファイルは変更できません"
    for pattern, template in _COMPILED:
        match = pattern.match(message)
        if match:
            values = {k: ((_WORDS if k == "what" else _KINDS).get(v, v) if v is not None else "") for k, v in match.groupdict().items()}
            return template.format(**values)
    nested = _WHERE.match(message)  # "file:line: message" inside another message
    return message if nested is None else japanese(message)


def japanese(message: str) -> str:
    """``message`` in Japanese when it is a known dictionary problem (file and line kept)."""
    where = _WHERE.match(message)
    if where is None:
        parts = message.split("; ")
        if len(parts) > 1 and not any(p.startswith(("fix it", "the first", "this line")) for p in parts[1:]):
            return "。".join(_one(p) for p in parts)
        return _one(message)
    line = where.group("line")
    prefix = f"{where.group('file')} の {line} 行目" if line else where.group("file")
    return f"{prefix}: {_one(where.group('rest'))}"
