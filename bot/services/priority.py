"""How urgent a complaint is: from its category, its words and the order's history."""
from __future__ import annotations

from typing import Iterable, Optional

from bot.text import contains_phrase, fold, nfc

# Threats of police, courts or fraud go straight to a manager (seed 004:
# escalate immediately, never settle it alone).
_URGENT_PHRASES = (
    "lua dao", "bao cong an", "cong an", "khoi kien", "kien ra toa", "se kien", "di kien",
    "toa an", "luat su", "ba0 cong an", "scam", "scammer", "fraud", "police", "lawyer",
    "sue you", "lawsuit", "court",
)
_HIGH_PHRASES = (
    "khan cap", "can gap", "rat gap", "gap lam", "gap gap", "ngay lap tuc", "urgent",
    "asap", "immediately", "emergency", "right now",
)
# Money problems hurt the customer until fixed.
_HIGH_CATEGORIES = {"refund_payment"}


def has_urgent_words(text: Optional[str]) -> bool:
    folded = fold(text)
    return any(contains_phrase(folded, p) for p in _URGENT_PHRASES)


def has_high_words(text: Optional[str]) -> bool:
    # "gấp" (urgent) and "gặp" (meet) fold to the same "gap": look at the
    # accented form first, then only at unambiguous folded phrases.
    if "gấp" in nfc(text).lower():
        return True
    folded = fold(text)
    return any(contains_phrase(folded, p) for p in _HIGH_PHRASES)


def derive_priority(
    category: Optional[str],
    texts: Iterable[Optional[str]],
    earlier_tickets_for_order: int = 0,
) -> str:
    """"urgent", "high" or "normal"."""
    texts = list(texts)
    if any(has_urgent_words(t) for t in texts):
        return "urgent"
    if (
        any(has_high_words(t) for t in texts)
        or category in _HIGH_CATEGORIES
        or earlier_tickets_for_order > 0
    ):
        return "high"
    return "normal"
