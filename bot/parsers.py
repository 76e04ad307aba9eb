"""Parsers for what customers type: order numbers, ticket codes, phones, emails.

All of them accept the messy forms people use in chat ("dh 100 001",
"+84 912.345.678") and return one canonical form, or None.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from bot.text import fold, nfc

ORDER_PREFIX = "DH"
TICKET_PREFIX = "KN"

# A run of digits that may be split by spaces, dots or dashes ("100 001", "0912.345.678").
_DIGIT_RUN = re.compile(r"(?<![\w+])(\+?\d(?:[ .\-]?\d)*)(?!\w)")
_ORDER_WITH_PREFIX = re.compile(r"(?<![a-z])d\s*h[\s\-_.#:]*((?:\d[ .\-]?)*\d)(?!\w)")
_TICKET_WITH_PREFIX = re.compile(r"(?<![a-z])k\s*n[\s\-_.#:]*((?:\d[ .\-]?)*\d)(?!\w)")
_EMAIL = re.compile(
    r"(?<![\w.+-])([a-z0-9](?:[a-z0-9._%+-]{0,62}[a-z0-9])?@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,24})(?![\w-])",
    re.IGNORECASE,
)
_ORDER_CONTEXT_WORDS = ("don", "ma", "order", "so")


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


@dataclass(frozen=True)
class OrderNumberParse:
    """What a message says about an order number.

    `number` is the canonical "DH123456" when one was found; `attempted` is
    True when the customer clearly tried to give one (a DH prefix or a
    5-9 digit run) even if it is malformed, so the bot can say what is wrong.
    """

    number: Optional[str]
    attempted: bool


def parse_order_number(text: Optional[str], expecting: bool = False) -> OrderNumberParse:
    """Find an order number.

    With `expecting=True` (the bot just asked for it) a bare 6-digit number
    counts ("100001"); otherwise a bare number needs a word such as "đơn" or
    "order" next to it, so phone numbers and prices are not mistaken for orders.
    """
    folded = fold(text)
    attempted = False
    for match in _ORDER_WITH_PREFIX.finditer(folded):
        digits = _digits(match.group(1))
        if len(digits) == 6:
            return OrderNumberParse(ORDER_PREFIX + digits, True)
        attempted = True
    has_context = any(re.search(rf"(?<!\w){w}(?!\w)", folded) for w in _ORDER_CONTEXT_WORDS)
    for match in _DIGIT_RUN.finditer(folded):
        raw = match.group(1)
        if raw.startswith("+"):
            continue
        digits = _digits(raw)
        if len(digits) == 6 and (expecting or has_context):
            return OrderNumberParse(ORDER_PREFIX + digits, True)
        if 4 <= len(digits) <= 9 and expecting:
            attempted = True
    return OrderNumberParse(None, attempted)


def parse_ticket_code(text: Optional[str]) -> Optional[str]:
    """"kn 12", "KN-000012", "kn000012" -> "KN-000012"."""
    match = _TICKET_WITH_PREFIX.search(fold(text))
    if not match:
        return None
    digits = _digits(match.group(1))
    if not 1 <= len(digits) <= 6:
        return None
    return format_ticket_code(int(digits))


def format_ticket_code(ticket_id: int) -> str:
    return f"{TICKET_PREFIX}-{ticket_id:06d}"


def ticket_id_from_code(code: str) -> Optional[int]:
    canonical = parse_ticket_code(code)
    return int(canonical.split("-")[1]) if canonical else None


# Vietnamese numbers: mobiles 0[35789]x xxx xxxx (10 digits) and landlines
# 02x xxxx xxxx (11 digits); +84 or 84 replaces the leading 0.
_VN_PHONE = re.compile(r"^0(?:[35789]\d{8}|2\d{9})$")


def normalize_phone(raw: str) -> Optional[str]:
    digits = _digits(raw)
    if raw.strip().startswith("+") or (digits.startswith("84") and len(digits) in (11, 12)):
        if not digits.startswith("84"):
            return None
        digits = "0" + digits[2:]
    return digits if _VN_PHONE.match(digits) else None


def parse_phone(text: Optional[str]) -> Optional[str]:
    """First Vietnamese phone number in the text, as 10 or 11 plain digits."""
    for match in _DIGIT_RUN.finditer(nfc(text)):
        phone = normalize_phone(match.group(1))
        if phone:
            return phone
    return None


def parse_email(text: Optional[str]) -> Optional[str]:
    match = _EMAIL.search(nfc(text))
    return match.group(1).lower() if match else None


@dataclass(frozen=True)
class Contact:
    kind: str  # "phone" or "email"
    value: str


def parse_contact(text: Optional[str]) -> Optional[Contact]:
    email = parse_email(text)
    if email:
        return Contact("email", email)
    phone = parse_phone(text)
    if phone:
        return Contact("phone", phone)
    return None


def looks_like_contact_attempt(text: Optional[str]) -> bool:
    """True when the text has an '@' or 7+ digits: a contact typed wrongly."""
    folded = nfc(text)
    return "@" in folded or len(_digits(folded)) >= 7


def normalize_contact(value: Optional[str]) -> Optional[str]:
    """Canonical form used to compare contacts ("0912 345 678" == "+84912345678")."""
    contact = parse_contact(value)
    return contact.value if contact else None


def mask_phone(phone: str) -> str:
    """0912345678 -> 0912***678: enough for the customer to recognise, not to copy."""
    digits = _digits(phone)
    if len(digits) < 7:
        return "***"
    return f"{digits[:4]}***{digits[-3:]}"


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_contact(value: Optional[str]) -> str:
    if not value:
        return ""
    return mask_email(value) if "@" in value else mask_phone(value)


def format_phone(phone: str) -> str:
    """0912345678 -> "0912 345 678" for display."""
    digits = _digits(phone)
    if len(digits) == 10:
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    return digits


def redact_contacts(text: Optional[str]) -> str:
    """The text with every phone number and email masked (for what editors and logs see)."""
    text = nfc(text)
    text = _EMAIL.sub(lambda m: mask_email(m.group(1)), text)

    def _phone(match: "re.Match") -> str:
        return mask_phone(match.group(1)) if normalize_phone(match.group(1)) else match.group(0)

    return _DIGIT_RUN.sub(_phone, text)
