"""Reading a typed reply against the buttons the bot has just offered.

Customers often type instead of pressing: "5", "5 sao", "năm", "rất hài
lòng" to a 1-5 rating, "ok" or "đúng" to a yes/no, "cái thứ hai" or a
button's own title to a list. The intent classifier, which never sees the
question, reads "5" as `inform` and "rất hài lòng" as nothing at all. So the
reply is first read against the question, whatever the question is: one
reading for every message with buttons (rating, yes/no, category, summary,
FAQ suggestions, menus), driven by the buttons' titles and payloads, not a
rule per question. Only a reply that *is* an answer is taken as one: every
word must be accounted for, so "5 ngày rồi chưa nhận" to a rating question
is not a rating and goes to the classifier as usual. One allowance: an answer
and then, after a comma or a full stop, a comment ("2/5, took too long",
"ko, chả giúp dc j", "ok số đó đc, xin lỗi nãy mình hơi nóng"); the comment
must not carry something new (an order number, a phone, a question, a "but").

Plain Python on text; bot/nlu/answers.py applies it inside Rasa's NLU.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bot.parsers import parse_contact, parse_order_number, parse_ticket_code
from bot.text import fold, nfc


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    @property
    def intent(self) -> Optional[str]:
        return parse_payload(self.payload)[0]

    @property
    def entities(self) -> Dict[str, str]:
        return parse_payload(self.payload)[1]


_PAYLOAD = re.compile(r"^/([\w-]+)(\{.*\})?$", re.DOTALL)


def parse_payload(payload: str) -> Tuple[Optional[str], Dict[str, str]]:
    """("rate", {"rating": "5"}) for '/rate{"rating":"5"}'; (None, {}) for anything that is not a payload."""
    match = _PAYLOAD.match((payload or "").strip())
    if not match:
        return None, {}
    entities: Dict[str, str] = {}
    if match.group(2):
        try:
            loaded = json.loads(match.group(2))
        except ValueError:
            return None, {}
        if not isinstance(loaded, dict):
            return None, {}
        entities = {str(k): str(v) for k, v in loaded.items()}
    return match.group(1), entities


def buttons_from(raw: Iterable[dict]) -> List[Button]:
    return [Button(str(b.get("title") or ""), str(b.get("payload") or "")) for b in raw or () if b.get("payload")]


# Words that carry no answer of their own: politeness, pronouns, "I choose".
_FILLERS = frozenset(
    """a ah ak ad ban bn cho chon da di em e gium giup ha ho minh mk nha nhe nhi oi
    roi shop thi toi tui vay voi luon the ne nhen
    i choose pick give it its is my answer please pls""".split()
)
# ...and, to a rating question, "I give it 5 stars / points" ("chấm" folds like "chậm", late: only here),
# or "ok, 5 stars" (an "ok" before a number is no yes/no: there is none on a scale).
_SCALE_FILLERS = frozenset("""cham danh gia diem sao thoi rate rating score stars star points point only just
    ok oke okay okie oki vang u uh""".split())
# Thanks, and the thing the question was about pointed at ("số đó đc": that number is fine).
_FILLER_PHRASES = re.compile(
    r"(?<![a-z0-9])(?:cam on|cam on nhieu|thank you|thanks|thank u|thx|ty"
    r"|so do|so nay|so ay|sdt do|sdt nay|email do|email nay|cai do|cai nay"
    r"|that number|this number|that one|this one|that email|this email)(?![a-z0-9])"
)
# Fillers that are an answer when they are the whole reply: "dạ" is a polite "yes".
_ANSWER_FILLERS = frozenset({"da"})

_NUMBER_WORDS = {
    "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
}
# A 1-5 satisfaction scale said in words (after folding: no diacritics).
_SCALE_WORDS: Dict[str, int] = {}
for _value, _phrases in {
    5: ("rat hai long", "hai long lam", "qua hai long", "rat tot", "tot lam", "qua tot", "tuyet voi", "xuat sac",
        "hoan hao", "rat ok", "qua ok", "rat on", "tuyet", "very good", "excellent", "great", "amazing",
        "perfect", "awesome", "very satisfied", "very happy", "fantastic", "outstanding"),
    4: ("hai long", "tot", "kha tot", "on", "kha on", "kha hai long", "good", "satisfied", "happy", "pretty good",
        "quite good", "nice"),
    3: ("binh thuong", "tam duoc", "tam", "tam on", "trung binh", "cung duoc", "tam tam", "average", "so so",
        "not bad", "fair", "neutral"),
    2: ("khong hai long", "ko hai long", "chua hai long", "te", "kem", "chua tot", "khong tot", "ko tot", "bad",
        "poor", "not good", "unsatisfied", "dissatisfied", "not happy", "disappointed"),
    1: ("rat te", "te qua", "qua te", "te hai", "rat kem", "kem qua", "that vong", "rat that vong",
        "rat khong hai long", "very bad", "terrible", "awful", "horrible", "worst", "very poor", "very unhappy",
        "useless"),
}.items():
    for _phrase in _phrases:
        _SCALE_WORDS[_phrase] = _value

# "How easy was it" (CES, 1-5, 5 = very easy) said in words.
_EASE_WORDS: Dict[str, int] = {}
for _value, _phrases in {
    5: ("rat de", "de lam", "qua de", "cuc de", "rat de dang", "de dang lam", "sieu de", "rat nhanh gon",
        "very easy", "super easy", "extremely easy", "effortless", "so easy", "really easy"),
    4: ("de", "de dang", "kha de", "cung de", "nhanh gon", "easy", "fairly easy", "quite easy", "pretty easy"),
    3: ("binh thuong", "trung binh", "tam duoc", "cung duoc", "khong de khong kho", "neutral", "average",
        "so so"),
    2: ("kho", "hoi kho", "kha kho", "kho khan", "khong de", "ko de", "chua de", "hoi phuc tap", "phuc tap",
        "difficult", "hard", "not easy", "quite hard", "quite difficult", "a bit hard", "a bit difficult"),
    1: ("rat kho", "kho qua", "qua kho", "kho lam", "cuc kho", "rat kho khan", "rat phuc tap", "qua phuc tap",
        "very difficult", "very hard", "extremely difficult", "really hard", "impossible"),
}.items():
    for _phrase in _phrases:
        _EASE_WORDS[_phrase] = _value
# The 1-5 words a scale's buttons mean, by the entity their payloads set (rating: satisfaction).
_WORDS_BY_ENTITY = {"rating": _SCALE_WORDS, "ces_score": _EASE_WORDS}
# 6-10 for the 0-10 scale (NPS); "sáu" alone is also "later", so only where a 0-10 scale was offered.
_TENS = {"sau": 6, "bay": 7, "tam": 8, "chin": 9, "muoi": 10, "zero": 0, "six": 6, "seven": 7, "eight": 8,
         "nine": 9, "ten": 10}

_YES = frozenset((
    "ok", "oke", "okay", "okie", "oki", "okela", "okla", "ok ok", "u", "uh", "uhm", "um", "ung", "vang", "da",
    "dung", "chuan", "duoc", "dc", "co", "phai", "yes", "yeah", "yep", "yup", "ya", "sure", "correct", "right",
    "fine", "exactly", "agree", "confirm",
    "dung vay", "dung the", "chinh xac", "chuan xac", "dong y", "da vang", "da dung", "da co", "vang dung",
    "dung ok", "ok dung", "da duoc", "chuan luon", "ok luon", "xac nhan", "yes please", "of course",
    "that s right", "thats right",
))
_NO = frozenset((
    "khong", "ko", "k", "kh", "khg", "hong", "hok", "hem", "sai", "chua", "no", "nope", "nah", "wrong",
    "incorrect", "khong phai", "ko phai", "k phai", "khong dung", "ko dung", "chua dung", "sai bet",
    "khong co", "ko co", "khong can", "ko can", "da khong", "thoi khong", "not really", "no thanks",
    "not right", "not correct", "that s wrong", "thats wrong",
))

# Words that are each a yes (or each a no): "ok đc", "ừ đúng", "ko ko" are answers however they are put together.
_YES_WORDS = frozenset(p for p in _YES if " " not in p)
_NO_WORDS = frozenset(p for p in _NO if " " not in p)

# Where an answer may end and a comment begin: a comma, a full stop, a dash between spaces, a new line.
_CLAUSE_BREAK = re.compile(r"[,;!?\n]|\.(?=\s|$)|\s[-\u2013\u2014]\s")
# A comment that turns the answer round or asks something is more than a comment.
_CONTRAST = frozenset("nhung but however tuy except".split())

_ORDINAL_WORDS = {
    "nhat": 1, "hai": 2, "nhi": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9,
}
_ENGLISH_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8, "9th": 9,
}
_PLACE = r"(?:(?:cai|muc|nut|lua chon|phuong an|so|y|cau|loai|option|choice|number|no|button)\s+)*"
# "2", "số 2", "cái thứ 2", "option 2"; "thứ hai" needs its "thứ" ("hai" alone, "sáu" = "later", are no positions).
_VI_POSITION = re.compile(_PLACE + r"(?:(?P<digits>\d{1,2})|thu\s+(?P<word>\d{1,2}|[a-z]+)|(?P<first>dau tien|dau))$")
_EN_POSITION = re.compile(r"(?:the\s+)?(?P<word>[a-z0-9]+)(?:\s+(?:one|option|choice|button))?$")
_LAST = frozenset({"cai cuoi", "cai cuoi cung", "cuoi cung", "muc cuoi", "last one", "last", "the last one",
                   "the last"})


def _tokens(text: str) -> List[str]:
    # Keep digits with their letters ("2nd") and split "5/5", "5*", "4,5".
    return re.findall(r"[a-z0-9]+", fold(text))


def _key(text: str) -> str:
    return " ".join(_tokens(text))


def _strip_fillers(tokens: Sequence[str]) -> List[str]:
    tokens = _FILLER_PHRASES.sub(" ", " ".join(tokens)).split()
    kept = [t for t in tokens if t not in _FILLERS]
    if kept:
        return kept
    # "dạ" or "rồi" alone is an answer, not politeness.
    return [t for t in tokens if t in _ANSWER_FILLERS]


def _title_keys(title: str) -> List[str]:
    """A title and its parts: "Giao chậm / chưa nhận" is also "giao chậm" and "chưa nhận"."""
    keys = [_key(title)]
    for part in re.split(r"\s+/\s+|,\s+|\s+-\s+", nfc(title)):
        if part.strip() and _key(part) not in keys:
            keys.append(_key(part))
    return [k for k in keys if k]


def _by_title(text: str, buttons: Sequence[Button]) -> Optional[Button]:
    typed = nfc(text).strip()
    for button in buttons:
        if typed == nfc(button.title).strip():  # emoji titles (👍) have no letters to compare
            return button
    said = " ".join(_strip_fillers(_tokens(text)))
    if not said:
        return None
    whole = [b for b in buttons if said in (_key(b.title), " ".join(_strip_fillers(_tokens(b.title))))]
    if len(whole) == 1:
        return whole[0]
    parts = [b for b in buttons if said in _title_keys(b.title)[1:]]
    return parts[0] if len(parts) == 1 else None


def _scale(buttons: Sequence[Button]) -> Optional[Dict[int, Button]]:
    """The buttons as a numeric scale (titles "1".."5"), or None."""
    titles = [b.title.strip() for b in buttons]
    if len(titles) < 2 or not all(t.isdigit() for t in titles):
        return None
    return {int(t): b for t, b in zip(titles, buttons)}


def _scale_words(buttons: Sequence[Button]) -> Dict[str, int]:
    for name in buttons[0].entities if buttons else ():
        if name in _WORDS_BY_ENTITY:
            return _WORDS_BY_ENTITY[name]
    return _SCALE_WORDS


def _scale_value(tokens: List[str], low: int, high: int, words: Optional[Dict[str, int]] = None) -> Optional[int]:
    if not tokens:
        return None
    said = " ".join(tokens)
    words = _SCALE_WORDS if words is None else words
    if said in words and (low, high) == (1, 5):
        return words[said]
    # "5/5", "5 tren 5", "5 out of 5": the number before the top of the scale.
    if len(tokens) in (2, 3) and tokens[-1] == str(high) and tokens[0].isdigit() and (
            len(tokens) == 2 or tokens[1] in ("tren", "over", "of", "out")):
        tokens = tokens[:1]
    if len(tokens) == 1:
        token = tokens[0]
        if token.isdigit():
            return int(token)
        if token in _NUMBER_WORDS:
            return _NUMBER_WORDS[token]
        if high == 10 and token in _TENS:
            return _TENS[token]
    return None


def _polarity(button: Button) -> Optional[bool]:
    """True for a "yes" button, False for a "no" button, None for neither."""
    intent, entities = button.intent, button.entities
    if intent == "affirm" or "yes" in entities.values():
        return True
    if intent == "deny" or set(entities.values()) & {"no", "none"}:
        return False
    return None


def _by_polarity(tokens: List[str], buttons: Sequence[Button]) -> Optional[Button]:
    said = " ".join(tokens)
    if said in _YES or (tokens and all(t in _YES_WORDS for t in tokens)):
        wanted = True
    elif said in _NO or (tokens and all(t in _NO_WORDS for t in tokens)):
        wanted = False
    else:
        return None
    matching = [b for b in buttons if _polarity(b) is wanted]
    return matching[0] if len(matching) == 1 else None


def _by_position(tokens: List[str], buttons: Sequence[Button]) -> Optional[Button]:
    said = " ".join(tokens)
    if said in _LAST:
        return buttons[-1]
    position = None
    match = _VI_POSITION.match(said)
    if match:
        word = match.group("digits") or match.group("word")
        if match.group("first"):
            position = 1
        elif word and word.isdigit():
            position = int(word)
        else:
            position = _ORDINAL_WORDS.get(word or "")
    else:
        match = _EN_POSITION.match(said)
        if match:
            position = _ENGLISH_ORDINALS.get(match.group("word"))
    if position is None:
        return None
    return buttons[position - 1] if 1 <= position <= len(buttons) else None


def _only_a_comment(rest: str, scale: bool) -> bool:
    """Whether what follows an answer merely comments on it (and may be left out of the answer)."""
    if parse_order_number(rest).number or parse_ticket_code(rest) or parse_contact(rest):
        return False
    if scale:
        return True  # "2/5, took too long": a score with its reason, whatever the reason says
    tokens = _tokens(rest)
    return "?" not in rest and not (set(tokens) & _CONTRAST) and tokens[:1] != ["ma"]


def read_answer(text: Optional[str], buttons: Sequence[Button]) -> Optional[Button]:
    """The button a typed reply stands for, or None when the reply is not an answer to these buttons."""
    typed = nfc(text).strip()
    if not typed or typed.startswith("/") or not buttons:
        return None
    found = _read_whole(typed, buttons)
    if found:
        return found
    # An answer, then a comment on it.
    parts = _CLAUSE_BREAK.split(typed, maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        lead, rest = parts[0].strip(), parts[1].strip()
        found = _read_whole(lead, buttons)
        if found and _only_a_comment(rest, _scale(buttons) is not None):
            return found
    return None


def _read_whole(typed: str, buttons: Sequence[Button]) -> Optional[Button]:
    """The button the whole reply stands for, every word accounted for."""
    found = _by_title(typed, buttons)
    if found:
        return found
    tokens = _strip_fillers(_tokens(typed))
    if not tokens or len(tokens) > 6:
        return None
    scale = _scale(buttons)
    if scale:
        value = _scale_value([t for t in tokens if t not in _SCALE_FILLERS], min(scale), max(scale),
                             _scale_words(buttons))
        return scale.get(value) if value is not None else None
    return _by_polarity(tokens, buttons) or _by_position(tokens, buttons)
