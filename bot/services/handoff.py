"""Handing a conversation to a person.

For now a person follows up through a ticket: link the customer's open ticket
or open one with what the bot learned. The live-handoff issue replaces the
inside of `request` (queue, agents online); callers keep the same result type.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from bot.services.tickets import ComplaintSubmission, TicketService, TicketView


@dataclass(frozen=True)
class HandoffRequest:
    request_key: str
    sender_id: str
    channel: str
    language: str
    reason: str  # "customer_asked", "misunderstood", ...
    order_number: Optional[str] = None
    order_verified: bool = False
    category: Optional[str] = None
    description: Optional[str] = None
    contact: Optional[str] = None
    customer_id: Optional[int] = None
    recent_customer_texts: tuple = ()


@dataclass(frozen=True)
class HandoffOutcome:
    mode: str  # "ticket": a person follows up on the ticket within its acknowledgement time
    ticket: TicketView
    ticket_created: bool


class HandoffService:
    def __init__(self, tickets: TicketService):
        self._tickets = tickets

    def request(self, req: HandoffRequest) -> HandoffOutcome:
        existing = self._tickets.open_for_sender(req.sender_id)
        if existing and not req.description:
            return HandoffOutcome("ticket", existing, False)
        description = req.description or _summarise(req.recent_customer_texts)
        ticket, created = self._tickets.open(
            ComplaintSubmission(
                submission_key=req.request_key,
                sender_id=req.sender_id,
                channel=req.channel,
                language=req.language,
                order_number=req.order_number,
                order_verified=req.order_verified,
                category=req.category or "other",
                description=description,
                contact=req.contact,
                customer_id=req.customer_id,
                source=f"handoff:{req.reason}",
                customer_texts=tuple(req.recent_customer_texts),
            )
        )
        return HandoffOutcome("ticket", ticket, created)


def _summarise(texts: Iterable[str], limit: int = 5) -> str:
    recent = [t.strip() for t in texts if t and t.strip() and not t.startswith("/")][-limit:]
    return "\n".join(recent)
