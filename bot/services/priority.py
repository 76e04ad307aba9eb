"""How urgent a complaint is: from its category, its words and the order's history."""
from __future__ import annotations

from typing import Iterable, Optional

from bot.services.escalation import is_threat
from bot.text import contains_any, fold, nfc

_HIGH_PHRASES = (
    "khan cap", "can gap", "rat gap", "gap lam", "gap gap", "ngay lap tuc", "urgent",
    "asap", "immediately", "emergency", "right now",
)
# Money problems hurt the customer until fixed.
_HIGH_CATEGORIES = {"refund_payment"}


def has_urgent_words(text: Optional[str]) -> bool:
    # Threats of police, courts or fraud go straight to a manager (seed 004:
    # escalate immediately, never settle it alone). One list, in
    # bot/services/escalation.py, for the priority and for the live handoff.
    return is_threat(text)


def has_high_words(text: Optional[str]) -> bool:
    # "gấp" (urgent) and "gặp" (meet) fold to the same "gap": look at the
    # accented form first, then only at unambiguous folded phrases.
    if "gấp" in nfc(text).lower():
        return True
    folded = fold(text)
    return contains_any(folded, _HIGH_PHRASES)


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


PRIORITY_STEPS = ("normal", "high", "urgent")

PRIORITY_LABELS = {
    "vi": {"normal": "bình thường", "high": "cao", "urgent": "khẩn cấp"},
    "en": {"normal": "normal", "high": "high", "urgent": "urgent"},
}


def _rank(priority: Optional[str]) -> int:
    return PRIORITY_STEPS.index(priority) if priority in PRIORITY_STEPS else 0


def at_least(priority: str, minimum: Optional[str]) -> str:
    return PRIORITY_STEPS[max(_rank(priority), _rank(minimum))]


def raised(priority: str, minimum: Optional[str] = None) -> str:
    """One step up (normal → high → urgent, urgent stays), and at least `minimum`."""
    return at_least(PRIORITY_STEPS[min(_rank(priority) + 1, len(PRIORITY_STEPS) - 1)], minimum)
