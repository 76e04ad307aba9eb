"""The complaint form's judgement calls, in plain Python.

Which message answers the question the bot asked and which one interrupts it,
whether an opening message already describes the problem, and which field a
customer wants to change. The Rasa form validation action only wires these up.
"""
from __future__ import annotations

from typing import Optional

from bot.categories import classify_category
from bot.parsers import looks_like_contact_attempt, parse_contact, parse_order_number, parse_ticket_code
from bot.text import contains_any, fold, looks_like_question, words

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
    return carries_identifiers(text) or bool(classify_category(text))


def carries_identifiers(text: str) -> bool:
    """An order number, ticket code, phone or email: something the form takes whatever else is said."""
    return bool(parse_order_number(text).number or parse_ticket_code(text) or parse_contact(text))


def asks_a_question(intent: Optional[str], text: str) -> bool:
    """A question to answer (an FAQ, put as a question) rather than an answer to the form.

    "how long does a refund take?" names a category ("refund"), yet asks; the
    form's question comes back once it is answered.
    """
    return intent == "faq" and looks_like_question(text) and not carries_identifiers(text)


def is_digression(requested_slot: Optional[str], intent: Optional[str], confidence: float, text: str) -> bool:
    """True when the message should leave the form to the rules instead of filling a slot."""
    if text.startswith(("/", EXTERNAL_PREFIX)):
        # A button press, or an intent triggered by the gateway: its intent is exact.
        return intent in DIGRESSION_INTENTS
    if intent not in DIGRESSION_INTENTS or confidence < MIN_CONFIDENCE:
        return False
    if requested_slot in ("complaint_description",) and intent not in STOP_INTENTS:
        # Any words are a description, except a question that names no problem ("sp bảo hành bao lâu v shop").
        return asks_a_question(intent, text) and classify_category(text) is None
    if asks_a_question(intent, text):
        # ...unless it answers the question asked as well: "hàng bị vỡ thì đổi được không?" to "what went wrong?".
        return not (requested_slot == "complaint_category" and classify_category(text))
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


# Questions a detail may arrive at instead of their answer. At the description question it *is* the answer.
_DETAIL_STEPS = ("order_number", "complaint_category", "contact", "complaint_confirmed")
# Intents of a message that says more about the problem; any other needs a problem the categories know.
_DETAIL_INTENTS = frozenset({"inform", "file_complaint"})
# Once the order is known, words the classifier cannot place are more likely a detail than a broken phone.
_LATE_STEPS = ("contact", "complaint_confirmed")
_UNPLACED = "nlu_fallback"
# Words about the question being asked: "mình không nhớ mã đơn", "gọi số khác giúp mình" answer it, however badly.
_ABOUT_THE_QUESTION = {
    "order_number": ("ma don", "so don", "ma van don", "order number", "order no", "order id"),
    "contact": ("so dien thoai", "dien thoai", "sdt", "so dt", "so khac", "email", "mail", "zalo", "lien he",
                "lien lac", "goi lai", "goi cho", "goi so", "phone number", "my phone", "mobile", "call me", "contact",
                "number"),
    "complaint_confirmed": ("gui", "xac nhan", "sua", "doi", "submit", "confirm", "change", "edit"),
}
MIN_DETAIL_WORDS = 3


def adds_detail(requested_slot: Optional[str], text: str, intent: Optional[str]) -> bool:
    """Whether a message says more about the problem instead of answering the question asked.

    "thiếu cái ốp lưng trong hộp" at "can we call you on 0903***222?" is a detail
    to add to the description, not a badly typed phone number; "0912 345 678",
    "ok", "dùng số khác" and "không nhớ mã đơn" answer the question.
    """
    if requested_slot not in _DETAIL_STEPS or not text or text.startswith(("/", EXTERNAL_PREFIX)):
        return False
    category = classify_category(text)
    if requested_slot == "complaint_category" and category:
        return False  # "hàng bị vỡ" answers "what went wrong?"
    unplaced = intent == _UNPLACED and requested_slot in _LATE_STEPS
    if intent not in _DETAIL_INTENTS and not category and not unplaced:
        return False
    if intent == "faq" and looks_like_question(text):
        # Asked, not told ("how long does a refund take?" names a problem, yet asks). Words the classifier could
        # not place stay a detail even when put as a question: "đóng gói kiểu gì vậy???" is anger, not a query.
        return False
    if len(words(text)) < MIN_DETAIL_WORDS:
        return False
    if parse_order_number(text).number or parse_ticket_code(text) or parse_contact(text):
        return False
    if looks_like_contact_attempt(text):
        return False
    about = _ABOUT_THE_QUESTION.get(requested_slot)
    return not (about and contains_any(fold(text), about))


def append_detail(description: Optional[str], detail: str) -> str:
    """The description with one more detail, as the customer wrote it, within the size kept."""
    description = (description or "").strip()
    detail = detail.strip()
    if not description:
        return clip_description(detail)
    if detail in description:
        return description
    joiner = " " if description.endswith((".", "!", "?", "…", ";")) else ". "
    return clip_description(description + joiner + detail)


def new_order_number(text: str, current: Optional[str]) -> Optional[str]:
    """An order number typed while the complaint is about another one (offer to switch); None otherwise."""
    number = parse_order_number(text).number
    if number and current and number != current:
        return number
    return None


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
