"""What the desk's queue shows of each conversation so that it reads like people, not ids.

Per conversation: who the customer is (their name, else their phone masked),
and its newest open ticket: category, priority and the next service-level
deadline (acknowledgement until acknowledged, then resolution). A few queries
whatever the number of conversations.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Dict, Iterable, Optional

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.categories import LABELS
from bot.parsers import format_ticket_code, mask_phone, parse_contact
from bot.services.sla import resolve_deadline
from bot.services.tickets import OPEN_STATUSES
from bot.store.db import session_scope
from bot.store.models import Conversation, Customer, Ticket, utcnow


@dataclass(frozen=True)
class QueueCard:
    name: Optional[str]
    masked_phone: Optional[str]
    language: str
    ticket: Optional[str]
    category: Optional[str]
    priority: Optional[str]
    sla_kind: Optional[str]  # "acknowledge" or "resolve": which promise the deadline is
    sla_due_at: Optional[datetime]

    def as_dict(self, now: datetime) -> dict:
        return {
            "customer_name": self.name,
            "customer_phone": self.masked_phone,
            "language": self.language,
            "ticket": self.ticket,
            "category": self.category,
            "category_label": {lang: LABELS[lang][self.category] for lang in LABELS} if self.category else None,
            "priority": self.priority,
            "sla": None if self.sla_due_at is None else {
                "kind": self.sla_kind, "due_at": self.sla_due_at.isoformat() + "Z",
                "seconds_left": int((self.sla_due_at - now).total_seconds()),
            },
        }


def _phone(*values: Optional[str]) -> Optional[str]:
    for value in values:
        contact = parse_contact(value)
        if contact and contact.kind == "phone":
            return mask_phone(contact.value)
    return None


class QueueViewService:
    def __init__(self, factory: sessionmaker, clock: Callable[[], datetime] = utcnow):
        self._factory = factory
        self._clock = clock

    def cards(self, sender_ids: Iterable[str]) -> Dict[str, QueueCard]:
        senders = list(dict.fromkeys(sender_ids))
        if not senders:
            return {}
        now = self._clock()
        with session_scope(self._factory) as session:
            conversations = list(session.execute(
                select(Conversation).where(Conversation.sender_id.in_(senders))).scalars())
            by_id = {c.id: c for c in conversations}
            tickets: Dict[int, Ticket] = {}  # the newest open ticket of each conversation
            for ticket in session.execute(
                    select(Ticket).where(Ticket.conversation_id.in_(by_id), Ticket.status.in_(OPEN_STATUSES))
                    .order_by(Ticket.id)).scalars():
                tickets[ticket.conversation_id] = ticket
            customer_ids = {c.customer_id for c in conversations if c.customer_id}
            customer_ids |= {t.customer_id for t in tickets.values() if t.customer_id}
            customers = {c.id: c for c in session.execute(
                select(Customer).where(Customer.id.in_(customer_ids))).scalars()} if customer_ids else {}
            cards = {}
            for conversation in conversations:
                ticket = tickets.get(conversation.id)
                customer = customers.get(conversation.customer_id) or (
                    customers.get(ticket.customer_id) if ticket and ticket.customer_id else None)
                name = (customer.name or "").strip() if customer else ""
                phone = _phone(customer.phone if customer else None, ticket.contact if ticket else None)
                kind = due = None
                if ticket is not None:
                    if ticket.acknowledged_at is None:
                        kind, due = "acknowledge", ticket.acknowledge_due_at
                    else:
                        kind, due = "resolve", resolve_deadline(ticket.resolve_due_at, ticket.sla_paused_at, now)
                cards[conversation.sender_id] = QueueCard(
                    name=name or None, masked_phone=phone,
                    language=(ticket.language if ticket else conversation.language) or "vi",
                    ticket=format_ticket_code(ticket.id) if ticket else None,
                    category=ticket.category if ticket else None, priority=ticket.priority if ticket else None,
                    sla_kind=kind, sla_due_at=due)
            return cards
