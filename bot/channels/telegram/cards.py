"""Text of the cards posted in the Telegram staff group (pure, Vietnamese first like the staff)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from bot.categories import label
from bot.parsers import mask_contact, redact_contacts
from bot.timefmt import format_local

HEADINGS = {
    "queued": "🙋 Khách đang chờ nhân viên / Customer waiting for a person",
    "handoff": "📨 Khách cần nhân viên liên hệ / Customer asked for a person",
    "urgent": "🆘 Khiếu nại KHẨN CẤP / Urgent complaint",
    "ack_due": "⏰ Sắp quá hạn tiếp nhận / Acknowledgement due within the hour",
    "resolve_due": "⏳ Sắp quá hạn xử lý / Resolution due within the hour",
    "ack_missed": "🚨 QUÁ HẠN tiếp nhận / Acknowledgement deadline missed",
    "resolve_missed": "🚨 QUÁ HẠN xử lý / Resolution deadline missed",
}
AUTHOR_MARKS = {"customer": "👤", "bot": "🤖", "staff": "🧑‍💼", "system": "ℹ️"}
CLAIM, RETURN = "Nhận / Claim", "Trả cho bot / Return to bot"
TURN_CHARS = 200


@dataclass(frozen=True)
class CardFacts:
    """What a staff member needs to pick up a conversation without asking the customer again."""

    kind: str
    sender: str
    channel: str
    contact: Optional[str] = None
    ticket_code: Optional[str] = None
    priority: Optional[str] = None
    order_number: Optional[str] = None
    category: Optional[str] = None
    description: Optional[str] = None
    acknowledge_due_at: Optional[object] = None
    resolve_due_at: Optional[object] = None
    turns: Sequence[Tuple[str, str]] = ()  # (author type, text), oldest first


def card_text(facts: CardFacts) -> str:
    lines = [HEADINGS.get(facts.kind, HEADINGS["handoff"]), ""]
    # Contacts are masked: the group may hold people who are not staff, and the desk shows them in full.
    lines.append(f"Khách / Customer: {mask_contact(facts.contact) or '—'}   Kênh / Channel: {facts.channel}")
    lines.append(f"Hội thoại / Conversation: {facts.sender}")
    if facts.ticket_code:
        lines.append(f"Phiếu / Ticket: {facts.ticket_code} ({facts.priority or 'normal'})")
    if facts.order_number:
        lines.append(f"Đơn hàng / Order: {facts.order_number}")
    if facts.category:
        lines.append(f"Vấn đề / Category: {label(facts.category, 'vi')}")
    if facts.description:
        lines.append(f"Mô tả / Description: {_short(facts.description, 500)}")
    if facts.acknowledge_due_at:
        lines.append(f"Tiếp nhận trước / Acknowledge by: {format_local(facts.acknowledge_due_at)}")
    if facts.resolve_due_at:
        lines.append(f"Xử lý xong trước / Resolve by: {format_local(facts.resolve_due_at)}")
    if facts.turns:
        lines += ["", "Gần đây / Last turns:"]
        lines += [f"{AUTHOR_MARKS.get(author, '•')} {_short(text, TURN_CHARS)}" for author, text in facts.turns]
    lines += ["", "↩️ Trả lời (reply) tin này để nhắn cho khách / Reply to this message to answer the customer."]
    return "\n".join(lines)


def _short(text: str, limit: int) -> str:
    text = redact_contacts(" ".join((text or "").split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def claimed_note(display_name: str) -> str:
    return f"✅ {display_name} đã nhận / claimed"


def returned_note(display_name: str) -> str:
    return f"🤖 {display_name} đã trả cho bot / returned to the bot"


NOT_LINKED = ("Tài khoản Telegram của bạn chưa được liên kết với nhân viên nào "
              "(python -m bot staff link-telegram TÊN {user_id}). / Your Telegram account is not linked to a staff member.")
NOT_AN_AGENT = ("Tài khoản {name} không có vai trò agent nên không nhận hay trả lời hội thoại "
                "(python -m bot staff roles {name} agent,…). / {name} is not an agent: only agents take chats.")
TAKEN = "Hội thoại đang do {agent} phụ trách. / {agent} is handling this conversation."
UNKNOWN_CARD = "Không tìm thấy hội thoại của thẻ này. / No conversation for this card."
