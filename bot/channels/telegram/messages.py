"""Pure mapping between Telegram and the gateway (no I/O): tested without a network."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.conversation.guard import TELEGRAM_SENDER_PREFIX as SENDER_PREFIX
from bot.text import nfc

CHANNEL = "telegram"
MAX_TEXT = 4096  # Telegram's limit, counted in UTF-16 code units
MAX_CALLBACK_DATA = 64  # bytes

# Callback data: "p" + the payload itself when it fits, else "h" + a hash whose payload is stored.
_INLINE, _HASHED = "p", "h"


def sender_for_chat(chat_id: int) -> str:
    return f"{SENDER_PREFIX}{chat_id}"


def chat_for_sender(sender: str) -> Optional[int]:
    if not sender.startswith(SENDER_PREFIX):
        return None
    try:
        return int(sender[len(SENDER_PREFIX):])
    except ValueError:
        return None


def language_from_code(language_code: Optional[str]) -> str:
    """Telegram's IETF tag of the user's app: English when it says so, else Vietnamese (the shop's default)."""
    return "en" if (language_code or "").lower().startswith("en") else "vi"


@dataclass(frozen=True)
class Attachment:
    kind: str  # "photo" | "document"
    file_id: str
    file_name: Optional[str] = None

    def as_data(self) -> Dict[str, Any]:
        return {"attachment": {"kind": self.kind, "file_id": self.file_id, "file_name": self.file_name}}


@dataclass(frozen=True)
class Incoming:
    """A customer's message, as the gateway wants it."""

    sender: str
    chat_id: int
    user_id: Optional[int]
    user_name: str
    language: str
    kind: str  # text | start | restart | attachment | unsupported
    text: str = ""
    attachment: Optional[Attachment] = None
    edited: bool = False

    @property
    def metadata(self) -> Dict[str, Any]:
        # The same key the widget uses; action_detect_language reads it for the first turns.
        return {"language": self.language, "channel": CHANNEL}


def incoming_from_update(update: Update) -> Optional[Incoming]:
    """A private chat's message or edited message; None for anything else (groups, channels, polls…)."""
    message = update.message or update.edited_message
    if message is None or message.chat.type != "private":
        return None
    user = message.from_user
    base = dict(
        sender=sender_for_chat(message.chat.id),
        chat_id=message.chat.id,
        user_id=user.id if user else None,
        user_name=(user.full_name if user else "") or "",
        language=language_from_code(user.language_code if user else None),
        edited=update.edited_message is not None,
    )
    caption = nfc(message.caption or "").strip()
    if message.photo:
        # Telegram sends several sizes; the last is the largest.
        return Incoming(**base, kind="attachment", text=caption,
                        attachment=Attachment("photo", message.photo[-1].file_id))
    if message.document:
        return Incoming(**base, kind="attachment", text=caption,
                        attachment=Attachment("document", message.document.file_id, message.document.file_name))
    if message.text is None:
        return Incoming(**base, kind="unsupported")
    text = nfc(message.text).strip()
    command = text.split(maxsplit=1)[0].split("@", 1)[0].lower() if text.startswith("/") else ""
    if command == "/start":
        return Incoming(**base, kind="start", text=text)
    if command == "/restart":
        return Incoming(**base, kind="restart", text=text)
    return Incoming(**base, kind="text", text=text)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _prefix_fitting(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 code units."""
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT) -> List[str]:
    """Pieces of at most `limit` (UTF-16 units), cut at a line break, else a space, else anywhere."""
    pieces: List[str] = []
    rest = text.strip()
    while _utf16_len(rest) > limit:
        fit = _prefix_fitting(rest, limit)
        window = rest[: fit + 1]  # a boundary right after the fitting part is fine too
        cut = window.rfind("\n")
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = fit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def callback_data_for(payload: str) -> Tuple[str, bool]:
    """(callback data of at most 64 bytes, whether the payload must be stored under it)."""
    inline = _INLINE + payload
    if len(inline.encode()) <= MAX_CALLBACK_DATA:
        return inline, False
    digest = hashlib.sha256(payload.encode()).digest()
    return _HASHED + base64.urlsafe_b64encode(digest[:18]).decode(), True


def payload_from_callback_data(data: str, stored: Dict[str, str]) -> Optional[str]:
    """The payload behind callback data; `stored` maps hashed keys to payloads (None when unknown)."""
    if data.startswith(_INLINE):
        return data[len(_INLINE):]
    if data.startswith(_HASHED):
        return stored.get(data)
    return None


SCALE_ROW = 6


@dataclass
class Outgoing:
    """One Telegram message to send: text and, on the last piece of a reply, its buttons."""

    text: str
    buttons: List[Tuple[str, str]] = field(default_factory=list)  # (title, callback data)

    def markup(self) -> Optional[InlineKeyboardMarkup]:
        if not self.buttons:
            return None
        keys = [InlineKeyboardButton(title, callback_data=data) for title, data in self.buttons]
        if all(len(title) <= 3 for title, _ in self.buttons):  # a scale (1-5, 0-10): rows of six, not a tall column
            return InlineKeyboardMarkup([keys[i:i + SCALE_ROW] for i in range(0, len(keys), SCALE_ROW)])
        return InlineKeyboardMarkup([[key] for key in keys])


def render(message: Dict[str, Any]) -> Tuple[List[Outgoing], Dict[str, str]]:
    """A hub message ({"author", "name", "text", "buttons"}) as Telegram messages, plus hashed payloads to store."""
    text = message.get("text") or ""
    if message.get("author") == "staff" and message.get("name"):
        text = f"{message['name']}: {text}"
    to_store: Dict[str, str] = {}
    buttons: List[Tuple[str, str]] = []
    for button in message.get("buttons") or []:
        payload = str(button.get("payload") or "")
        title = str(button.get("title") or payload)[:64]
        if not payload:
            continue
        data, must_store = callback_data_for(payload)
        if must_store:
            to_store[data] = payload
        buttons.append((title, data))
    if not text.strip() and not buttons:
        return [], {}
    pieces = [Outgoing(piece) for piece in split_text(text or "…")]
    pieces[-1].buttons = buttons
    return pieces, to_store


UNSUPPORTED = {
    "vi": "Xin lỗi, mình chỉ đọc được tin nhắn chữ, ảnh và tệp.",
    "en": "Sorry, I can only read text messages, photos and files.",
}
BUTTON_EXPIRED = {"vi": "Nút này đã hết hạn, bạn vui lòng nhắn lại nhé.", "en": "This button has expired, please type your message."}


def incoming_from_button(update: Update, payload: str) -> Optional[Incoming]:
    """A customer's button press, as if they had typed the button's payload."""
    query = update.callback_query
    if query is None or query.message is None or query.message.chat.type != "private":
        return None
    user = query.from_user
    return Incoming(
        sender=sender_for_chat(query.message.chat.id), chat_id=query.message.chat.id, user_id=user.id,
        user_name=user.full_name or "", language=language_from_code(user.language_code), kind="text", text=payload,
    )
