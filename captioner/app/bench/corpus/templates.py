"""Sentence templates of the evaluation corpus: what a clerk says at a city-hall counter.

Counter templates hold slots filled with real names and numbers: ``{town}``/``{town2}`` (two
towns of the sentence's city), ``{city}``, ``{term}`` (a registered counter term), and numbers:
``{date}``, ``{day}``, ``{year}``, ``{time}``, ``{time2}``, ``{amount}``, ``{phone}``, ``{days}``,
``{months}``, ``{people}``, ``{copies}``, ``{floor}``, ``{window}``. Distractor templates hold no
registered word but ordinary words that sound like place names (朝日 / 旭, 緑, 幸い, 港 …) and
may hold numbers.

Numbers are written either in digits or in kanji (one style per sentence), as a clerk's
transcript could be; the metrics compare them by value (``captioner.core.numerals``).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

SLOT = re.compile(r"\{([a-z0-9]+)\}")

# Registered counter terms (surface, hiragana reading): the counter's own words, in both splits.
TERMS: tuple[tuple[str, str], ...] = (
    ("印鑑登録証明書", "いんかんとうろくしょうめいしょ"),
    ("国民健康保険", "こくみんけんこうほけん"),
    ("後期高齢者医療", "こうきこうれいしゃいりょう"),
    ("児童扶養手当", "じどうふようてあて"),
    ("要介護認定", "ようかいごにんてい"),
    ("生活保護", "せいかつほご"),
    ("固定資産税", "こていしさんぜい"),
    ("国民年金", "こくみんねんきん"),
    ("障害基礎年金", "しょうがいきそねんきん"),
    ("粗大ごみ", "そだいごみ"),
    ("罹災証明書", "りさいしょうめいしょ"),
    ("指定避難所", "していひなんじょ"),
    ("福祉避難所", "ふくしひなんじょ"),
    ("転出証明書", "てんしゅつしょうめいしょ"),
    ("戸籍謄本", "こせきとうほん"),
    ("納税証明書", "のうぜいしょうめいしょ"),
    ("軽自動車税", "けいじどうしゃぜい"),
    ("高額療養費", "こうがくりょうようひ"),
    ("就学援助", "しゅうがくえんじょ"),
    ("資源ごみ", "しげんごみ"),
    ("確定申告", "かくていしんこく"),
    ("口座振替", "こうざふりかえ"),
    ("還付金", "かんぷきん"),
    ("延滞金", "えんたいきん"),
    ("介護保険料", "かいごほけんりょう"),
    ("基礎年金番号", "きそねんきんばんごう"),
    ("自主防災組織", "じしゅぼうさいそしき"),
    ("防災行政無線", "ぼうさいぎょうせいむせん"),
    ("住民基本台帳", "じゅうみんきほんだいちょう"),
    ("精神障害者保健福祉手帳", "せいしんしょうがいしゃほけんふくしてちょう"),
)

# (domain, template); a term in the fixed text is a registered word like any other.
COUNTER_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("residence", "{town}にお住まいの方は、{city}役所の本庁舎で手続きができます。"),
    ("residence", "{town}から{town2}へ引っ越される場合は、{days}以内に届け出てください。"),
    ("residence", "転出証明書は、{city}役所の{floor}にある市民課で受け取れます。"),
    ("residence", "住所は{city}{town}でよろしいでしょうか。"),
    ("residence", "{town}の出張所は、{time}から受付を始めます。"),
    ("residence", "住民票の写しは一通{amount}で、{town}支所の{window}窓口でお渡しします。"),
    ("residence", "{town}の方の戸籍謄本を{copies}ご用意しましたので、ご確認ください。"),
    ("residence", "{town}支所の窓口は、{date}から{time}までになります。"),
    ("residence", "住民基本台帳の閲覧は、{city}役所で予約が必要です。"),
    ("residence", "印鑑登録証明書は{amount}で、{town}の支所でも発行しています。"),
    ("welfare", "{town}の地域包括支援センターで、要介護認定の相談ができます。"),
    ("welfare", "児童扶養手当の現況届は、{date}までに{city}役所へ出してください。"),
    ("welfare", "精神障害者保健福祉手帳の更新は、{town}の保健センターで、有効期限の{months}前からできます。"),
    ("welfare", "{city}の生活保護の相談は、{window}窓口で{time}まで受け付けています。"),
    ("welfare", "{town}にお住まいの{people}世帯には、{date}に通知を送ります。"),
    ("welfare", "就学援助の申請書は、{town}や{town2}の小学校でもお配りしています。"),
    ("welfare", "{town}にお住まいの方の高額療養費の払い戻しは、申請から{months}ほどかかります。"),
    ("welfare", "{town}の福祉センターでは、毎月{day}に健康相談を行います。"),
    ("welfare", "介護保険料の通知は、{date}に{city}から発送します。"),
    ("welfare", "{city}福祉課へのお問い合わせは、{phone}までお電話ください。"),
    ("tax", "{town}の土地の固定資産税は、第一期の納期限が{date}です。"),
    ("tax", "{city}の軽自動車税は{amount}で、口座振替もご利用いただけます。"),
    ("tax", "納税証明書は一通{amount}で、{town}の支所でも{copies}まで出せます。"),
    ("tax", "確定申告の相談会は、{town}公民館で{date}に開きます。"),
    ("tax", "{city}からの還付金は、{date}ごろ指定の口座に振り込まれます。"),
    ("tax", "{town}の方は延滞金がかかりますので、{date}までに納めてください。"),
    ("tax", "{city}の市県民税は、{year}から口座振替に切り替えられます。"),
    ("tax", "{city}税務課の電話番号は{phone}です。"),
    ("pension", "国民年金の保険料は月額{amount}で、{town}の郵便局でも払えます。"),
    ("pension", "{town}から来られた方は、基礎年金番号がわかるものを{window}窓口でお見せください。"),
    ("pension", "障害基礎年金の請求は、{town}の年金事務所でも相談できます。"),
    ("pension", "{town}での年金の手続きは、{date}の{time}からご予約を承ります。"),
    ("pension", "後期高齢者医療の保険証は、{date}までに{town}のお宅へ届きます。"),
    ("pension", "{town}に転入して国民健康保険に加入される方は、{days}以内にお越しください。"),
    ("garbage", "{town}の粗大ごみは、毎月第二{weekday}に収集します。"),
    ("garbage", "資源ごみは、{town}と{town2}では{weekday}の朝{time}までに出してください。"),
    ("garbage", "粗大ごみの処理券は一枚{amount}で、{town}のコンビニでも買えます。"),
    ("garbage", "{city}のごみ収集の問い合わせは、環境課{phone}へお願いします。"),
    ("garbage", "{town}のごみステーションが、{date}から移動します。"),
    ("garbage", "年末は{date}まで収集し、{town}は{date2}から再開します。"),
    ("disaster", "{town}の指定避難所は、{town2}小学校の体育館です。"),
    ("disaster", "罹災証明書の申請は、{date}から{city}役所の{floor}で受け付けます。"),
    ("disaster", "福祉避難所は、{town}の老人福祉センターに開設します。"),
    ("disaster", "防災行政無線で、{time}に{town}へ避難指示が出ました。"),
    ("disaster", "自主防災組織の訓練を、{town}で{date}に行います。"),
    ("disaster", "{city}の災害対策本部の電話は{phone}です。"),
    ("disaster", "{town}と{town2}の一部に、{time}から断水のお知らせがあります。"),
    ("disaster", "{town}の避難所には、毛布を{people}分ご用意しています。"),
    ("general", "{city}役所の開庁時間は、{time}から{time2}までです。"),
    ("general", "{town}行きのバスは、{time}に正面玄関から出ます。"),
    ("general", "番号札の{window}をお持ちの{town}の方、{window2}窓口へお越しください。"),
    ("general", "{town}の市民センターは、{date}は休館日です。"),
    ("general", "{town}の市民ホールの駐車場は、{town2}側の入口から入って{floor}です。"),
    ("general", "{town}にある{city}の図書館は、{time}まで開いています。"),
)

WEEKDAYS = ("月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日")

# Sentences without a registered word; many hold an ordinary word that sounds like (or is part
# of) a place name. Slots: numbers and {weekday} only.
DISTRACTOR_TEMPLATES: tuple[str, ...] = (
    "朝日がまぶしいので、ブラインドを下ろしますね。",
    "緑色の封筒に入れて、{date}にお送りします。",
    "幸いにも、大きなけがはありませんでした。",
    "若葉マークの車には、気をつけてください。",
    "桜の季節は、公園の駐車場が混み合います。",
    "港の近くに、新しい駐車場ができました。",
    "豊富な種類のパンフレットをご用意しています。",
    "日の出の時刻は、{time}ごろになります。",
    "寿命が延びて、お元気な方が増えました。",
    "泉のように、アイデアがわいてきますね。",
    "平和な毎日が続くように願っています。",
    "松の木の手入れは、庭師さんにお願いしています。",
    "竹の子の季節になりましたね。",
    "梅の花が、もうすぐ咲きそうです。",
    "中央に線が引いてありますので、その内側にお書きください。",
    "本日の受付は、{time}で終了いたしました。",
    "新しい田んぼの区画整理が、来年から始まります。",
    "大手の銀行でしたら、どちらでもお振り込みいただけます。",
    "栄養のバランスを考えた献立をお配りしています。",
    "緑の多い公園で、ラジオ体操をしています。",
    "青葉が目にしみる季節になりました。",
    "東の空が明るくなってきました。",
    "西日が強いので、窓側の席は暑いですよ。",
    "北風が冷たいので、暖かくしてお越しください。",
    "南向きの部屋は、冬でも暖かいです。",
    "上の段に、お名前とご住所をお書きください。",
    "下の欄は、職員が記入しますので空けておいてください。",
    "高台にある公園からは、海がよく見えます。",
    "浜辺の清掃活動に、{people}の方が参加されました。",
    "川辺の遊歩道は、夜は暗いのでご注意ください。",
    "野原で遊ぶ子どもたちの声が聞こえます。",
    "森の中の散歩道は、とても静かです。",
    "岡の上から見る景色がきれいでした。",
    "橋の工事のため、{date}まで通行止めです。",
    "池の周りには、ベンチがいくつもあります。",
    "山の天気は変わりやすいので、お気をつけください。",
    "石の階段は滑りやすいので、手すりをお使いください。",
    "お宮参りの写真を見せていただきました。",
    "神社のお祭りは、{date}に行われます。",
    "お寺の鐘の音が聞こえてきました。",
    "市場で買った野菜が、とても新鮮でした。",
    "申請の書き方は、こちらの見本をご覧ください。",
    "ご相談の内容は、秘密を守りますのでご安心ください。",
    "この書類は、{days}以内に出していただければ大丈夫です。",
    "受付番号は{window}ですので、呼ばれるまでお待ちください。",
    "お支払いは{amount}になります。",
    "こちらの用紙は、{copies}お持ち帰りください。",
    "{time}からの説明会に、{people}の方が申し込まれました。",
    "会議室は{floor}の奥にございます。",
    "{weekday}は、職員が少ないので、お待たせするかもしれません。",
    "{date}は祝日ですので、窓口はお休みです。",
    "お電話の際は、番号をお確かめのうえおかけください。",
    "おかけになった番号は、現在使われておりません。",
    "郵送でのご請求もできますので、ご利用ください。",
    "ご本人様の確認ができる書類をお持ちですか。",
    "マイナンバーカードの暗証番号を、お忘れではないですか。",
    "書類に記入漏れがありましたので、こちらにご記入ください。",
    "押印は不要になりましたので、署名だけで結構です。",
    "ご家族の方が代わりに来られても、手続きできます。",
    "エレベーターは、正面の奥にございます。",
    "車いすの貸し出しもしておりますので、お申し付けください。",
    "筆談用のボードもございますので、お使いください。",
    "もう一度、ゆっくりお話しいたしますね。",
    "少々お時間をいただいてもよろしいでしょうか。",
    "恐れ入りますが、こちらでお待ちいただけますか。",
    "本日は、ご来庁いただきありがとうございました。",
    "お足元の悪い中、ありがとうございます。",
    "お忘れ物のないよう、お気をつけてお帰りください。",
    "天気予報では、{weekday}は雨になるそうです。",
    "この時期は、窓口が大変混み合っております。",
    "原本をお返しいたしますので、お確かめください。",
    "控えは大切に保管してください。",
    "お手数ですが、もう一枚ご記入いただけますか。",
    "合計で{amount}お預かりいたします。",
    "おつりは{amount}になります。",
    "{months}ごとに、更新のお知らせをお送りします。",
    "お待たせいたしました、{window}の方どうぞ。",
)


@dataclass(frozen=True)
class Rendered:
    """One filled template: the reference text and the text given to the synthesizer."""

    text: str
    spoken: str
    slots: tuple[tuple[str, int, int], ...] = ()  # (slot name, start, end) in ``text``


def kanji_number(n: int) -> str:
    """An integer in kanji numerals (1200 → 千二百, 15000 → 一万五千, 2026 → 二千二十六)."""
    if n == 0:
        return "〇"
    digits = "〇一二三四五六七八九"
    out = ""
    for unit_value, unit in ((10**8, "億"), (10**4, "万"), (1, "")):
        part, n = divmod(n, unit_value)
        if not part:
            continue
        text = ""
        for small_value, small in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d, part = divmod(part, small_value)
            if d:
                text += ("" if d == 1 and small else digits[d]) + small
        out += text + unit
    return out


def digits_amount(n: int, rng: random.Random) -> str:
    """An amount in digits, with or without a thousands comma, sometimes with 万 (1万5千)."""
    style = rng.random()
    if n >= 10000 and style < 0.3:
        man, rest = divmod(n, 10000)
        return f"{man}万{rest}" if rest else f"{man}万"
    return f"{n:,}" if n >= 1000 and style < 0.7 else str(n)


PHONE_DIGITS = ("ゼロ", "イチ", "ニー", "サン", "ヨン", "ゴー", "ロク", "ナナ", "ハチ", "キュー")


class NumberWriter:
    """Fills the number slots of one sentence, all in digits or all in kanji."""

    def __init__(self, rng: random.Random, kanji: bool) -> None:
        self.rng, self.kanji = rng, kanji

    def n(self, value: int) -> str:
        return kanji_number(value) if self.kanji else str(value)

    def date(self) -> str:
        month, day = self.rng.randint(1, 12), self.rng.randint(1, 28)
        return f"{self.n(month)}月{self.n(day)}日"

    def day(self) -> str:
        return f"{self.n(self.rng.randint(1, 28))}日"

    def year(self) -> str:
        if self.rng.random() < 0.5:
            return f"令和{self.n(self.rng.randint(7, 9))}年度"
        return f"{self.n(self.rng.randint(2025, 2027))}年度"

    def time(self) -> str:
        hour = self.rng.randint(8, 17)
        minute = self.rng.choice((0, 0, 10, 15, 30, 45, 20, 50))
        prefix = ("午前" if hour < 12 else "午後") if self.rng.random() < 0.6 else ""
        shown = hour - 12 if prefix == "午後" and hour > 12 else hour
        text = f"{prefix}{self.n(shown)}時"
        if minute == 30 and self.rng.random() < 0.4:
            return text + "半"
        return text + (f"{self.n(minute)}分" if minute else "")

    def amount(self) -> str:
        value = self.rng.choice((200, 300, 350, 400, 450, 500, 750, 1000, 1200, 1500, 2000, 2500, 3000,
                                 5000, 6500, 10800, 15000, 16980, 20000, 36000, 120000))  # fmt: skip
        return (kanji_number(value) if self.kanji else digits_amount(value, self.rng)) + "円"

    def phone(self) -> tuple[str, str]:
        """(written, spoken): phone numbers are written in digits and said digit by digit."""
        groups = ["0" + "".join(self.rng.choice("123456789") for _ in range(self.rng.choice((2, 3))))]
        groups.append("".join(self.rng.choice("0123456789") for _ in range(6 - len(groups[0]))))
        groups.append("".join(self.rng.choice("0123456789") for _ in range(4)))
        spoken = "の、".join("".join(PHONE_DIGITS[int(d)] for d in group) for group in groups)
        return "-".join(groups), spoken

    def days(self) -> str:
        return f"{self.n(self.rng.choice((7, 10, 14, 15, 30)))}日"

    def months(self) -> str:
        return f"{self.n(self.rng.choice((1, 2, 3, 6)))}か月"

    def people(self) -> str:
        return f"{self.n(self.rng.choice((2, 3, 5, 12, 20, 35, 120)))}人"

    def copies(self) -> str:
        return f"{self.n(self.rng.randint(2, 5))}通"

    def floor(self) -> str:
        return f"{self.n(self.rng.randint(1, 5))}階"

    def window(self) -> str:
        return f"{self.n(self.rng.randint(1, 12))}番"


def fill(template: str, rng: random.Random, names: dict[str, tuple[str, str]]) -> Rendered:
    """Fill ``template``'s slots: ``names`` maps town/town2/city/term to (surface, spoken)."""
    writer = NumberWriter(rng, kanji=rng.random() < 0.5)
    text, spoken = template, template
    slots = {
        "date": writer.date, "date2": writer.date, "day": writer.day, "year": writer.year,
        "time": writer.time, "time2": writer.time, "amount": writer.amount,
        "days": writer.days, "months": writer.months, "people": writer.people, "copies": writer.copies,
        "floor": writer.floor, "window": writer.window, "window2": writer.window,
        "weekday": lambda: rng.choice(WEEKDAYS),
    }  # fmt: skip
    values: dict[str, str] = {}
    for name in sorted(set(_slots(template))):
        if name in names:
            surface, said = names[name]
        elif name == "phone":
            surface, said = writer.phone()
        elif name in slots:
            surface = said = slots[name]()
        else:
            raise KeyError(f"template slot {{{name}}} has no value: {template}")
        values[name] = surface
        text = text.replace("{" + name + "}", surface)
        spoken = spoken.replace("{" + name + "}", said)
    return Rendered(text, spoken, _spans(template, values))


def _spans(template: str, values: dict[str, str]) -> tuple[tuple[str, int, int], ...]:
    """Where each slot's value sits in the filled text."""
    spans, shift = [], 0
    for match in SLOT.finditer(template):
        start = match.start() + shift
        value = values[match[1]]
        spans.append((match[1], start, start + len(value)))
        shift += len(value) - len(match.group())
    return tuple(spans)


def fixed_text(template: str) -> str:
    """The template without its slots (for checking that no town hides in the fixed words)."""
    return SLOT.sub("|", template)


def _slots(template: str) -> list[str]:
    return SLOT.findall(template)
