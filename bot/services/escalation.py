"""When a conversation must go to a person at once, whatever the bot was doing.

Three triggers besides "the customer asked" and "the bot misunderstood twice":

* a **threat** — police, courts, lawyers, "fraud"/"scam" (seed 004: escalate
  to a manager immediately, never settle it alone);
* **abuse** — profanity and insults aimed at the shop: a calm person helps more
  than a bot that keeps asking for an order number;
* a customer **chasing an existing complaint** ("KN-000123 mấy ngày rồi chưa ai
  xử lý", "escalate my ticket").

Plus one after a complaint: a ticket of high or urgent priority also goes to
a person (`complaint_needs_person`).

Everything here is plain Python on text, so it is unit-tested without Rasa
and gives the same answer in the NLU component (bot/nlu/escalation.py), the
actions and the priority rules (bot/services/priority.py uses `is_threat`).

Matching words without diacritics is where the traps are: "kiện" (to sue)
folds to "kien" like "kiện hàng" (parcel), "phụ kiện" (accessory), "điều
kiện" (condition), "kiên nhẫn" (patience) and "ý kiến" (opinion); "công an"
(police) folds like "cộng ăn". So each phrase is matched on folded text and
then checked against what the customer really typed: a word typed *with*
diacritics must carry the phrase's diacritics ("kiên" is not "kiện"), a word
typed without any counts only when the phrase allows it (`bare_ok`), and
neighbouring words can rule a match out ("kiện hàng", "2 kiện", "đẹp vl").
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional

from bot.parsers import parse_ticket_code
from bot.text import contains_any, fold, nfc

THREAT = "threat"
ABUSE = "abuse"

# Priorities that put a fresh complaint in front of a person straight away.
HANDOFF_PRIORITIES = ("high", "urgent")


@dataclass(frozen=True)
class Phrase:
    text: str  # lower case, with its diacritics, as a careful typist writes it
    # Typed without any diacritics, the phrase still counts. False where the
    # bare spelling is also an everyday word ("cac" = các, "lon" = a can).
    bare_ok: bool = True
    # Folded words that, right before / right after the phrase, give it another
    # meaning ("bưu kiện", "kiện hàng"). A digit before counts when "#" is listed.
    not_after: frozenset = frozenset()
    not_before: frozenset = frozenset()


def _words(text: str) -> frozenset:
    return frozenset(text.split())


# "kiện" is a parcel, an accessory, a condition, an event... unless it is suing.
_KIEN_NOT_AFTER = _words("# buu dieu su phu linh van cac nhung moi tung mot hai ba bon nam sau bay tam chin muoi vai")
_KIEN_NOT_BEFORE = _words("hang toan tuong nao nhan tri dinh quyet co nghi thuc truc")

_THREATS = (
    # fraud
    Phrase("lừa đảo"), Phrase("lừa tiền"), Phrase("lùa gà", bare_ok=False),
    # police
    Phrase("công an"), Phrase("cảnh sát"),
    # courts and lawyers
    Phrase("kiện", bare_ok=False, not_after=_KIEN_NOT_AFTER, not_before=_KIEN_NOT_BEFORE),
    Phrase("khởi kiện"), Phrase("kiện tụng"),
    *(Phrase(p, not_before=_KIEN_NOT_BEFORE) for p in (
        "sẽ kiện", "đi kiện", "kiện shop", "kiện ra tòa", "kiện ra toà", "kiện các bạn", "kiện các người",
        "kiện bên", "kiện luôn", "kiện cho", "tôi kiện",
    )),
    Phrase("tòa án"), Phrase("toà án"), Phrase("ra tòa", bare_ok=False), Phrase("ra toà", bare_ok=False),
    Phrase("luật sư"),
    # regulators and public shaming ("tố cáo nhân viên" is a complaint about staff, not a threat)
    Phrase("bóc phốt"), Phrase("quản lý thị trường"),
    Phrase("bảo vệ người tiêu dùng"),
    # English
    *(Phrase(p) for p in (
        "scam", "scams", "scammer", "scammers", "scammed", "scamming", "fraud", "frauds", "fraudulent", "fraudster",
        "fraudsters",
        "police", "cops", "sue", "suing", "lawsuit", "lawyer", "lawyers", "attorney", "court", "legal action",
        "consumer protection",
    )),
)

# Slang intensifiers are also praise: "đẹp vl" (gorgeous), "giao nhanh vl".
_PRAISE = _words("dep xin ngon nhanh re tot hay chat dinh good great xinh yeu thich cute")

_ABUSE = (
    # Vietnamese profanity, with and without diacritics, and its chat abbreviations
    # "DM me" is English for a private message.
    Phrase("đm", not_after=_words("a the send via by in my your"), not_before=_words("me us")),
    *(Phrase(p) for p in ("đmm", "đcm", "đcmm", "đkm", "cmm", "clgt", "địt mẹ", "địt con mẹ")),
    *(Phrase(p, not_after=_PRAISE) for p in ("vl", "vcl", "vkl", "vcc")),
    *(Phrase(p, bare_ok=False) for p in (
        "vãi lồn", "lồn", "cặc", "địt", "đụ", "đụ má", "đéo", "đếch", "đĩ", "mẹ mày", "mày ngu", "đồ ngu",
        "chó má", "đồ chó", "thằng chó",
    )),
    # insults
    *(Phrase(p) for p in (
        "óc chó", "khốn nạn", "mất dạy", "súc vật", "súc sinh", "ngu như bò", "ngu như chó", "ngu như lợn",
    )),
    # English
    *(Phrase(p) for p in (
        "fuck", "fucking", "fucked", "fck", "f*ck", "fuk", "wtf", "stfu", "shit", "bullshit", "shitty",
        "idiot", "idiots", "moron", "morons", "asshole", "assholes", "bitch", "bastard", "bastards",
        "dumbass", "screw you", "go to hell", "stupid bot", "you stupid",
    )),
)

# -- matching ---------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\S+")


def _signature(word: str) -> tuple:
    """A word's letters and its diacritics, independent of where the tone mark was put ("tòa" = "toà")."""
    decomposed = unicodedata.normalize("NFD", word)
    marks = tuple(sorted(ch for ch in decomposed if unicodedata.combining(ch)))
    return fold(word), marks, word.count("đ")


def _is_bare(word: str) -> bool:
    return "đ" not in word and not any(unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", word))


def _word_before(folded: str, start: int) -> Optional[str]:
    match = re.search(r"([^\W_]+)\W*$", folded[:start])
    return match.group(1) if match else None


def _word_after(folded: str, end: int) -> Optional[str]:
    match = re.match(r"\W*([^\W_]+)", folded[end:])
    return match.group(1) if match else None


def _excluded(word: Optional[str], words: frozenset) -> bool:
    if not word:
        return False
    return word in words or ("#" in words and word.isdigit())


def _folded_pattern(phrase: Phrase) -> str:
    return r"(?<![^\W_])" + r"\s+".join(re.escape(fold(w)) for w in phrase.text.split()) + r"(?![^\W_])"


@lru_cache(maxsize=None)
def _compiled(phrase: Phrase) -> "re.Pattern":
    return re.compile(_folded_pattern(phrase))


@lru_cache(maxsize=None)
def _any_folded(phrases: tuple) -> "re.Pattern":
    """One search that finds every message in which some phrase *might* match, so most messages stop there."""
    return re.compile("|".join(_folded_pattern(p) for p in phrases))


def _matches(phrase: Phrase, typed: str, folded: str) -> bool:
    wanted = phrase.text.split()
    for match in _compiled(phrase).finditer(folded):
        if _excluded(_word_before(folded, match.start()), phrase.not_after):
            continue
        if _excluded(_word_after(folded, match.end()), phrase.not_before):
            continue
        # fold() keeps one character per NFC character, so the span is valid in the typed text.
        got = _TOKEN_RE.findall(typed[match.start():match.end()])
        if all(
            _signature(g) == _signature(w) or (phrase.bare_ok and _is_bare(g))
            for g, w in zip(got, wanted)
        ):
            return True
    return False


def _any(phrases: Iterable[Phrase], text: Optional[str]) -> bool:
    typed = nfc(text).lower()
    if not typed.strip() or typed.startswith("/"):
        return False
    folded = fold(typed)
    phrases = tuple(phrases)
    if not _any_folded(phrases).search(folded):
        return False
    return any(_matches(p, typed, folded) for p in phrases)


def is_threat(text: Optional[str]) -> bool:
    return _any(_THREATS, text)


def is_abuse(text: Optional[str]) -> bool:
    return _any(_ABUSE, text)


def classify(text: Optional[str]) -> Optional[str]:
    """"threat", "abuse" or None. A threat wins: it is the one a manager must see."""
    if is_threat(text):
        return THREAT
    if is_abuse(text):
        return ABUSE
    return None


# -- a customer chasing a complaint ----------------------------------------------

# Not "case": a phone case is a product here.
_TICKET_WORDS = ("khieu nai", "phieu", "phan anh", "complaint", "ticket")
_CHASING = (
    "chua ai xu ly", "chua duoc xu ly", "chua xu ly", "chua duoc giai quyet", "chua giai quyet",
    "chua ai giai quyet", "chua ai lien he", "chua ai goi", "chua ai tra loi", "khong ai xu ly",
    "khong ai lien he", "khong ai tra loi", "khong ai giai quyet", "cap tren", "quan ly",
    "not been resolved", "hasn't been resolved", "not resolved", "still not resolved", "not been handled",
    "nobody has", "no one has", "nobody handled", "no one handled", "nobody replied", "no one replied",
    "nobody contacted", "no one contacted", "manager", "supervisor",
)


def asks_to_escalate(text: Optional[str]) -> bool:
    """Whether the customer is chasing a complaint they already made.

    Needs both a complaint ("khiếu nại", "ticket", a KN code) and a sign it is
    stuck or must go higher: "đơn hàng chưa được xử lý" is about an order and
    "tôi muốn gặp quản lý" is a plain request for a person. "escalate" says it alone.
    """
    typed = nfc(text)
    if not typed.strip() or typed.startswith("/"):
        return False
    folded = fold(typed)
    if contains_any(folded, ("escalate", "escalation")):
        return True
    about_ticket = parse_ticket_code(typed) is not None or contains_any(folded, _TICKET_WORDS)
    return about_ticket and contains_any(folded, _CHASING)


# Signs that a complaint was already made: "đã khiếu nại", "mấy ngày rồi chưa ai trả lời". Not "giao chậm cả
# tuần": a late parcel is a first report (a late_delivery complaint) until the customer says they reported it.
_ALREADY_REPORTED = (
    "da khieu nai", "da gui khieu nai", "da phan anh", "da gui phan anh", "da bao shop", "da bao roi",
    "khieu nai cua toi", "khieu nai cua minh", "khieu nai cua em", "phieu cua toi", "phieu cua minh", "phieu khieu nai",
    "khieu nai truoc", "khieu nai lan truoc", "khieu nai hom", "phan anh hom", "phan anh truoc",
    "chua ai tra loi", "chua ai lien he", "chua ai goi", "chua ai xu ly", "chua ai giai quyet", "chua ai phan hoi",
    "khong ai tra loi", "khong ai lien he", "khong ai xu ly", "khong ai giai quyet", "khong ai phan hoi",
    "already complained", "already reported", "already filed", "my complaint", "my ticket", "the ticket",
    "i complained", "i reported", "i filed", "complained before", "reported it", "filed a complaint",
    "nobody replied", "no one replied", "nobody contacted", "no one contacted", "nobody has", "no one has",
    "nobody handled", "no one handled", "no reply", "no response", "haven't heard back", "never heard back",
    "nobody got back", "no one got back", "nobody called", "no one called",
)


def refers_to_complaint(text: Optional[str]) -> bool:
    """Whether the customer speaks of a complaint already made (a KN code, "đã khiếu nại", "nobody replied")."""
    typed = nfc(text)
    if not typed.strip() or typed.startswith("/"):
        return False
    return parse_ticket_code(typed) is not None or contains_any(fold(typed), _ALREADY_REPORTED)


def may_chase(text: Optional[str], has_ticket: bool) -> bool:
    """Whether `escalate` may stand for this message: a threat or abuse always; chasing a complaint only
    when there is one to chase (the conversation has a ticket) or the customer refers to one.

    Without this the classifier, which learnt "escalate" from angry chasing messages, took the first
    report of a late parcel ("đơn của mình giao chậm cả tuần nay rồi") for chasing a complaint never made.
    """
    return trigger(text) is not None or has_ticket or refers_to_complaint(text)


def trigger(text: Optional[str]) -> Optional[str]:
    """Why this message must go to a person: "threat", "abuse", "escalation" or None."""
    return classify(text) or ("escalation" if asks_to_escalate(text) else None)


def complaint_needs_person(priority: Optional[str]) -> bool:
    return priority in HANDOFF_PRIORITIES
