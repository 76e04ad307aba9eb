"""Vietnamese-aware text normalisation and language detection.

Customers type with diacritics, without them ("toi muon khieu nai"), or in NFD
(a letter plus combining marks). Everything that compares text goes through
`fold`, so all three spellings meet.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Optional

_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
# Addresses are names, not words of a language: "bao.vo@example.com" or a link is no Vietnamese sentence.
_ADDRESS_RE = re.compile(r"\S+@\S+|(?:https?://|www\.)\S+", re.IGNORECASE)


def nfc(text: Optional[str]) -> str:
    return unicodedata.normalize("NFC", text or "")


def _fold_char(ch: str) -> str:
    if ch == "đ":
        return "d"
    return unicodedata.normalize("NFD", ch)[0]


class _FoldTable(dict):
    """`_fold_char` one character at a time, remembered: str.translate then folds a text at C speed
    (fold runs on every word the FAQ index and the NLU see)."""

    def __missing__(self, code: int) -> str:
        value = _fold_char(chr(code))
        self[code] = value
        return value


_FOLD_TABLE = _FoldTable()


def fold(text: Optional[str]) -> str:
    """Lower-case, strip Vietnamese diacritics, map đ to d.

    One output character per NFC input character, so offsets found in the
    folded text are valid in the NFC text.
    """
    return nfc(text).lower().translate(_FOLD_TABLE)


def words(text: Optional[str]) -> list[str]:
    return _WORD_RE.findall(fold(text))


def contains_phrase(folded_text: str, phrase: str) -> bool:
    """Whole-word phrase match on folded text ("bi vo" does not match "bi von")."""
    return _phrases_pattern((phrase,)).search(folded_text) is not None


def contains_any(folded_text: str, phrases: tuple) -> bool:
    """Whether any of the phrases occurs as whole words: one compiled search instead of one per phrase."""
    return _phrases_pattern(tuple(phrases)).search(folded_text) is not None


@lru_cache(maxsize=4096)
def _phrases_pattern(phrases: tuple) -> "re.Pattern":
    # Every message goes through these lists (triggers, priority, categories): compile each list once.
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in phrases) + r")(?!\w)")


# How a question is put, after folding: Vietnamese question words ("bao lâu", "ở đâu", "được không") and
# the particles that end one ("... ko shop", "... v"), English question openers. A question mark says it too.
_QUESTION_PHRASES = (
    "bao lau", "bao nhieu", "bao gio", "khi nao", "luc nao", "o dau", "cho nao", "dau roi", "toi dau", "den dau", "the nao", "ra sao",
    "tai sao", "vi sao", "sao lai", "lam sao", "la gi", "gi vay", "gi the", "may ngay", "mat may", "co the",
    "duoc khong", "duoc ko", "dc khong", "dc ko", "dc k", "co khong", "co ko", "hay khong", "hay ko",
    "how long", "how much", "how many", "how do", "how can", "do you", "can i", "is there", "are there",
)
_QUESTION_ENDINGS = frozenset("khong ko k kh hong hok chua v vay z zay nhi the a".split())
_QUESTION_OPENERS = frozenset(
    "how what when where why which who can could do does did is are will would should may".split())
_POLITE_TAIL = frozenset("shop ad ban bn em anh chi oi a ah ak nha nhe".split())


def looks_like_question(text: Optional[str]) -> bool:
    """Whether a message is put as a question ("sp bảo hành bao lâu v shop", "how long does a refund take?").

    How it is put, not what it asks: the callers decide with the intent and the
    conversation whether it is one to answer.
    """
    text = nfc(text)
    if "?" in text:
        return True
    folded = fold(text)
    tokens = _WORD_RE.findall(folded)
    if not tokens:
        return False
    if tokens[0] in _QUESTION_OPENERS and len(tokens) >= 3 and tokens[1] != "not":
        return True
    if contains_any(folded, _QUESTION_PHRASES):
        return True
    while len(tokens) > 1 and tokens[-1] in _POLITE_TAIL:
        tokens = tokens[:-1]
    return len(tokens) >= 3 and tokens[-1] in _QUESTION_ENDINGS and tokens[-1] != "a"


# Letters that only Vietnamese uses among the two languages we serve.
_VI_LETTERS = set("ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")

# Common Vietnamese syllables typed without diacritics. Chosen to be rare as
# English words.
_VI_WORDS = set(
    """toi minh ban em anh chi shop ad oi nhe nha ko k khong hok dc duoc
    muon can cua la co chua roi gi sao the nao bao nhieu giao nhan cho voi
    khieu nai phan anh don hang ma so dien thoai huy thoi cam on chao xin gap
    nhan vien nguoi that ve bi sai mau vo rach thieu tre hoan tien kiem tra
    phieu tinh trang xu ly den dau mot hai ba ngay gio luc nay vay day
    va nhung cac lam sp san pham dat mua tra doi lai giup hoi biet
    xong tam biet hen vang u uh dung roi""".split()
)

_EN_WORDS = set(
    """i my me you your we our the a an is are was were be been to of for with
    and or but not no yes yeah yep nope please thanks thank hello hey want
    would like can could what how when where why who which order orders item
    items complaint complain ticket status help human agent person someone
    cancel stop wrong broken damaged late refund arrived received delivery
    still never it this that there they have has had do does did get got
    about speak talk real bot robot good bye goodbye morning evening just
    sure correct right change phone number email address missing money
    charged rude staff file make report problem issue update""".split()
)


def detect_language(text: Optional[str]) -> Optional[str]:
    """Return "vi", "en", or None when the text gives no evidence.

    None keeps the conversation's current language: an order number or a
    phone number says nothing about the language.
    """
    text = nfc(text).strip()
    if not text or text.startswith("/"):
        return None
    lowered = _ADDRESS_RE.sub(" ", text.lower())
    if any(ch in _VI_LETTERS for ch in lowered):
        return "vi"
    tokens = [t for t in _WORD_RE.findall(lowered) if not t.isdigit()]
    if not tokens:
        return None
    vi_hits = sum(1 for t in tokens if t in _VI_WORDS)
    en_hits = sum(1 for t in tokens if t in _EN_WORDS)
    if en_hits > vi_hits and en_hits >= min(2, len(tokens)):
        return "en"
    if vi_hits > en_hits and vi_hits >= min(2, len(tokens)):
        return "vi"
    return None


# What a terminal would obey rather than show: C0 controls (ESC starts colour, cursor and title
# sequences; BEL, backspace and carriage return rewrite what is on screen), DEL, C1 controls (U+009B
# is a one-character CSI on some terminals) and the bidirectional overrides, isolates and marks that
# make text read differently from what it is ("Trojan Source").
_TERMINAL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _visible_escape(match: "re.Match") -> str:
    ch = match.group()
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    # \xNN for C0, \uNNNN for the rest: the latter is also a valid JSON escape, so JSON output stays JSON.
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x20 else f"\\u{ord(ch):04x}"


def terminal_safe(text: Optional[str], keep_newlines: bool = False) -> str:
    """Text someone else wrote, for a terminal: every control character shown as an escape (ESC as \\x1b).

    `keep_newlines` only for text whose line breaks the program itself made (indented JSON).
    """
    if not text:
        return ""
    if keep_newlines:
        return "\n".join(_TERMINAL_UNSAFE.sub(_visible_escape, line) for line in text.split("\n"))
    return _TERMINAL_UNSAFE.sub(_visible_escape, text)
