"""What a customer's input may be, before anything acts on it: plain rules, no I/O.

Everything that reaches the gateway from outside is hostile until checked:
- a conversation id may try to pass for another channel's ("TG-1", "\u200btg-1");
- typed text may look like one of Rasa's intent payloads ("/rate{"rating":1}");
- a message may be long enough to hold Rasa for seconds.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Iterable, Optional

TELEGRAM_SENDER_PREFIX = "tg-"
RESERVED_SENDER_PREFIXES = (TELEGRAM_SENDER_PREFIX,)
# Ids the gateway gives website chats, each with a secret: a client that only knows such an id (it shows in a
# browser's storage, a screenshot, a log) can neither read nor write the chat.
WEB_SENDER_PREFIX = "web-"
MAX_SENDER_LENGTH = 128
# Letters, digits and the punctuation REST clients put in ids (emails, phone numbers, uuids). Anything
# else (spaces, invisible or look-alike characters, surrogates) is refused rather than cleaned, so one id
# never stands for two conversations.
SENDER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=-]*")
# Commands any client may send as typed text: they start over, and answer nothing.
ALLOWED_COMMANDS = frozenset({"/restart"})
SILENT_COMMANDS = ("/restart", "/session_start")
INTENT_PREFIX = "/"  # Rasa reads a message starting with it (after stripping) as an intent with entities


def sender_problem(sender: object) -> Optional[str]:
    """Why `sender` cannot name a customer's conversation on a public entry point; None when it can."""
    if not isinstance(sender, str) or not sender:
        return "'sender' must be a non-empty string"
    if len(sender) > MAX_SENDER_LENGTH or not SENDER_PATTERN.fullmatch(sender):
        return (f"'sender' must be at most {MAX_SENDER_LENGTH} characters: letters, digits and . _ : @ + = - "
                "(starting with a letter or digit)")
    if sender.lower().startswith(RESERVED_SENDER_PREFIXES):
        return f"'sender' must not start with {' or '.join(RESERVED_SENDER_PREFIXES)} (another channel's ids)"
    return None


def text_problem(value: object, field: str) -> Optional[str]:
    """Why `value` cannot be stored as the text of `field`; None when it can.

    JSON's "\\ud800" and header bytes aiohttp decodes with surrogateescape give Python strings that no
    database takes (the write fails with a 500); PostgreSQL also refuses NUL, which SQLite keeps.
    """
    if not isinstance(value, str):
        return f"'{field}' must be a string"
    if "\x00" in value:
        return f"'{field}' must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"'{field}' must be valid Unicode text (no lone surrogates)"
    return None


def is_token(value: object) -> bool:
    """Whether `value` could be a secret or token the gateway issued (URL-safe ASCII).

    Anything else can never match, and must not reach hashing or hmac.compare_digest: both raise on
    non-ASCII or surrogates.
    """
    return isinstance(value, str) and 0 < len(value) <= 512 and value.isascii() and value.isprintable()


def needs_secret(sender: str) -> bool:
    return sender.lower().startswith(WEB_SENDER_PREFIX)


def new_conversation_id(prefix: str = WEB_SENDER_PREFIX) -> str:
    """An id nobody can guess (the widget's ids used to come from Math.random and the clock)."""
    return prefix + secrets.token_urlsafe(18)


def new_conversation_secret() -> str:
    return secrets.token_urlsafe(32)


def as_rasa_text(text: str, offered: Iterable[str]) -> str:
    """The text to give Rasa for what the customer typed.

    Only a payload the bot offered in this conversation (a button) or an
    allowed command goes through as a payload. Anything else that would parse
    as an intent is the customer's words: the leading slashes go, so NLU reads
    "/rate{...}" as the text it is and no rating or hand-back can be typed in.
    """
    stripped = text.strip()
    if not stripped.startswith(INTENT_PREFIX):
        return text
    if stripped in ALLOWED_COMMANDS or stripped in set(offered):
        return stripped
    return stripped.lstrip(INTENT_PREFIX).strip() or "?"


@dataclass(frozen=True)
class Limits:
    """Sizes a customer's input may have; every one is a setting (README, "Security")."""

    max_message_chars: int = 2000

    def too_long(self, text: str) -> bool:
        return len(text) > self.max_message_chars


TOO_LONG = {
    "vi": "Tin nhắn của bạn dài quá {limit} ký tự nên mình chưa đọc được. Bạn vui lòng tóm tắt ngắn gọn "
          "hoặc chia thành vài tin nhắn nhé. Nội dung đầy đủ đã được lưu để nhân viên xem khi cần.",
    "en": "Your message is longer than {limit} characters, so I could not read it. Please send a shorter "
          "summary, or split it into a few messages. The full text is kept for our staff.",
}
VIETNAMESE_LETTERS = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]")


def too_long_answer(text: str, language: Optional[str], limit: int) -> str:
    """The polite refusal, in the customer's language (both when it cannot be told)."""
    if language not in TOO_LONG:
        language = "vi" if VIETNAMESE_LETTERS.search(text[:2000]) else None
    if language is None:
        return f"{TOO_LONG['vi'].format(limit=limit)} / {TOO_LONG['en'].format(limit=limit)}"
    return TOO_LONG[language].format(limit=limit)
