"""The complaint form's judgement calls, in plain Python.

Which message answers the question the bot asked and which one interrupts it,
whether an opening message already describes the problem, and which field a
customer wants to change. The Rasa form validation action only wires these up.
"""
from __future__ import annotations

from typing import Optional

from bot.categories import classify_category
from bot.parsers import parse_contact, parse_order_number, parse_ticket_code
from bot.text import contains_any, fold, words

MAX_FAILED_ATTEMPTS = 2

# Intents that may interrupt a form: answered by a rule, then the form resumes
# at the same question (or stops, for cancel / request_human / goodbye).
DIGRESSION_INTENTS = frozenset(
    {
        "faq", "bot_challenge", "ask_capabilities", "greet", "thank", "out_of_scope",
        "request_human", "cancel", "goodbye", "faq_feedback", "faq_select", "handback",
        # A threat, abuse or a customer chasing a complaint (bot/nlu/escalation.py).
        # Not a STOP intent: in the complaint description it *is* the description
        # (the form goes on; the urgent ticket then goes to a person).
        "escalate",
    }
)
ESCALATE_INTENT = "escalate"
_TICKET_CHECK_SLOTS = ("ticket_code", "ticket_contact")
# Interrupt even free-text questions such as the description.
STOP_INTENTS = frozenset({"cancel", "request_human", "handback"})
MIN_CONFIDENCE = 0.6
EXTERNAL_PREFIX = "EXTERNAL: "  # Rasa's text for intents triggered through its HTTP API (no confidence)
CONFIRM_CONFIDENCE = 0.7

# Longest description kept. A 10,000-character message is stored whole up to
# this size; anything beyond is cut (and the cut is said in the summary).
MAX_DESCRIPTION_CHARS = 5000


def carries_data(text: str) -> bool:
    """An order number, ticket code, phone, email or a problem keyword: an answer, not small talk."""
    return bool(
        parse_order_number(text).number
        or parse_ticket_code(text)
        or parse_contact(text)
        or classify_category(text)
    )


def is_digression(requested_slot: Optional[str], intent: Optional[str], confidence: float, text: str) -> bool:
    """True when the message should leave the form to the rules instead of filling a slot."""
    if text.startswith(("/", EXTERNAL_PREFIX)):
        # A button press, or an intent triggered by the gateway: its intent is exact.
        return intent in DIGRESSION_INTENTS
    if intent not in DIGRESSION_INTENTS or confidence < MIN_CONFIDENCE:
        return False
    if requested_slot in ("complaint_description",) and intent not in STOP_INTENTS:
        return False
    if intent == ESCALATE_INTENT and requested_slot in _TICKET_CHECK_SLOTS:
        # "KN-000123 chưa ai xử lý" while checking a ticket: the customer wants
        # more than its status, even though the message carries the code.
        return True
    if intent in STOP_INTENTS and len(words(text)) <= 12:
        return True
    return not carries_data(text)


def describes_problem(text: str, min_words: int = 3) -> bool:
    """Whether a message says what went wrong, so the description need not be asked for.

    "đơn DH100003 bị giao sai màu" does; "tôi muốn khiếu nại" does not.
    """
    if text.startswith("/"):
        return False
    return classify_category(text) is not None and len(words(text)) >= min_words


def clip_description(text: str) -> str:
    text = text.strip()
    return text[:MAX_DESCRIPTION_CHARS]


_FIELD_PHRASES = {
    "order_number": ("ma don", "don hang", "so don", "order number", "order", "dh"),
    "complaint_category": ("loai", "van de", "phan loai", "category", "problem type", "type"),
    "complaint_description": ("mo ta", "noi dung", "chi tiet", "description", "details", "describe"),
    "contact": ("so dien thoai", "dien thoai", "sdt", "email", "lien he", "contact", "phone"),
}
FIELDS = tuple(_FIELD_PHRASES)


def field_to_change(text: str, entity_value: Optional[str] = None) -> Optional[str]:
    if entity_value in FIELDS:
        return entity_value
    folded = fold(text)
    for field in ("order_number", "contact", "complaint_description", "complaint_category"):
        if contains_any(folded, _FIELD_PHRASES[field]):
            return field
    return None


def summary_description(description: Optional[str], limit: int = 300) -> str:
    description = (description or "").strip()
    if len(description) <= limit:
        return description
    return description[:limit].rstrip() + "…"
