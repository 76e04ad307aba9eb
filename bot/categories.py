"""Complaint categories: the fixed values, their labels, and a keyword reader.

The keyword reader works on folded text (no diacritics), so "hàng bị vỡ" and
"hang bi vo" are read alike. Phrases are chosen to be unambiguous once the
diacritics are gone ("bi vo", not "vo", which is also "vợ" and "vô").
"""
from __future__ import annotations

import re
from typing import Optional

from bot.text import contains_any, contains_phrase, fold

CATEGORIES = (
    "wrong_item",
    "damaged",
    "late_delivery",
    "missing_item",
    "refund_payment",
    "service_attitude",
    "other",
)

LABELS = {
    "vi": {
        "wrong_item": "Giao sai hàng (màu, size, mẫu)",
        "damaged": "Hàng bị hư hỏng, vỡ, lỗi",
        "late_delivery": "Giao chậm / chưa nhận được hàng",
        "missing_item": "Thiếu hàng",
        "refund_payment": "Hoàn tiền / thanh toán",
        "service_attitude": "Thái độ phục vụ",
        "other": "Vấn đề khác",
    },
    "en": {
        "wrong_item": "Wrong item (colour, size, model)",
        "damaged": "Damaged, broken or faulty",
        "late_delivery": "Late / not delivered",
        "missing_item": "Missing item",
        "refund_payment": "Refund / payment",
        "service_attitude": "Staff attitude",
        "other": "Something else",
    },
}

_KEYWORDS = {
    "wrong_item": (
        "sai mau", "sai size", "sai co", "sai kich thuoc", "sai san pham", "sai hang",
        "sai mau ma", "sai mau sac", "giao sai", "gui sai", "giao nham", "gui nham", "nham hang",
        "nham mau", "nham size", "khong dung mau", "khong dung size", "khong giong hinh",
        "khac hinh", "khac mau", "khong giong mo ta", "khong dung mo ta", "khac mo ta", "khong nhu mo ta",
        "khong giong quang cao", "not as described", "doesn't match the description", "wrong item", "wrong size", "wrong colour", "wrong color",
        "wrong product", "wrong model", "not what i ordered", "different from", "sent me the wrong",
        "wrong one",
    ),
    "damaged": (
        "bi vo", "vo roi", "vo het", "vo nat", "bi be", "be roi", "bi rach", "rach", "bi hong",
        "hu hong", "hong roi", "bi hu", "hu roi", "bi mop", "mop meo", "bi bep", "bi nut", "nut vo",
        "tray xuoc", "bi tray", "tray", "tray het", "bi loi", "hang loi", "san pham loi", "loi ky thuat",
        "khong hoat dong", "khong chay", "khong len nguon", "chay nuoc", "bi moc", "het han",
        "damaged", "broken", "torn", "cracked", "defective", "faulty", "crushed", "dented",
        "scratched", "does not work", "doesn't work", "not working", "stopped working", "expired",
        "shattered", "smashed", "ripped", "leaking",
    ),
    "late_delivery": (
        "chua nhan", "chua nhan duoc", "chua giao", "chua toi", "chua den", "chua thay hang",
        "giao cham", "giao tre", "giao lau", "tre hen", "cham tre", "lau qua", "van chua",
        "mai chua", "khong nhan duoc hang", "chua ship", "cham qua", "doi mai", "qua han giao",
        "late", "delay", "delayed", "not arrived", "hasn't arrived", "has not arrived",
        "never arrived", "not received", "haven't received", "have not received", "still waiting",
        "where is my order", "not delivered", "never delivered", "overdue", "still not here",
    ),
    "missing_item": (
        "giao thieu", "gui thieu", "bi thieu", "con thieu", "thieu mon", "thieu hang",
        "thieu 1", "thieu mot", "thieu san pham", "thieu cai", "thieu mat", "khong co trong hop",
        "ko co trong hop", "khong du", "khong du hang", "mat hang", "bi mat", "missing", "only got", "only received", "incomplete", "not included",
        "was not in the box", "wasn't in the box", "one item short",
    ),
    "refund_payment": (
        "hoan tien", "tra tien", "tra lai tien", "hoan lai tien", "tru tien", "tru tien 2 lan",
        "thanh toan", "chuyen khoan", "mat tien", "tien chua ve", "bi tru", "tien thua",
        "refund", "money back", "charged", "payment", "paid twice", "double charge",
        "charged twice", "reimburse", "my money",
    ),
    "service_attitude": (
        "thai do", "hon lao", "thieu ton trong", "khong lich su", "bat lich su", "to tieng",
        "chui", "xuc pham", "cau gat", "kho chiu", "thieu chuyen nghiep", "rude", "attitude",
        "impolite", "unprofessional", "disrespectful", "shouted", "yelled", "insulted",
    ),
}

# What a fixed phrase cannot list: the same complaint with words in between or a teen-code "no"
# ("giao hàng chậm", "ship gì mà chậm", "bật ko lên"). On folded text.
_NOT = r"(?:khong|ko|k|kg|kh|khg|hong|hok|chang|cha)"
_PATTERNS = {
    "late_delivery": (
        re.compile(r"(?<!\w)(?:giao|ship|van chuyen|gui)(?: \w+){0,3} (?:cham|tre)(?!\w)"),
    ),
    "damaged": (
        re.compile(rf"(?<!\w)(?:bat|mo|khoi dong|sac|bam) {_NOT} (?:len|duoc|dc|vao)(?!\w)"),
        re.compile(rf"(?<!\w)(?:den|man hinh|loa|nut|pin) {_NOT} (?:sang|len|keu|an|chay|vao dien)(?!\w)"),
        re.compile(rf"(?<!\w){_NOT} (?:hoat dong|chay|len nguon|xai duoc|xai dc|dung duoc|dung dc)(?!\w)"),
    ),
}


def classify_category(text: Optional[str]) -> Optional[str]:
    """The category a free-text problem description points to, or None."""
    folded = fold(text)
    if not folded.strip():
        return None
    if folded.strip() in CATEGORIES:
        return folded.strip()
    scores = {}
    for category, phrases in _KEYWORDS.items():
        hits = sum(1 for p in _PATTERNS.get(category, ()) if p.search(folded))
        if contains_any(folded, phrases):
            hits += sum(1 for p in phrases if contains_phrase(folded, p))
        if hits:
            scores[category] = hits
    if not scores:
        return None
    # Ties go to the earlier category in CATEGORIES: the more concrete problem.
    return max(scores, key=lambda c: (scores[c], -CATEGORIES.index(c)))


def label(category: Optional[str], language: str) -> str:
    labels = LABELS.get(language, LABELS["vi"])
    return labels.get(category or "other", labels["other"])
