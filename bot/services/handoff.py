"""Handing a conversation to a person.

Always: link the customer's open ticket or open one with what the bot learned,
so nothing is lost. Then, when staff are online and it is within opening
hours, the conversation joins the queue (owner "queued"): the gateway stops
sending the customer's messages to the bot and a staff member claims it.
Otherwise a person follows up on the ticket within its acknowledgement time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Callable, Iterable, Optional, Tuple

from bot.services.tickets import ComplaintSubmission, TicketService, TicketView


@dataclass(frozen=True)
class HandoffRequest:
    request_key: str
    sender_id: str
    channel: str
    language: str
    # Why: "customer_asked", "misunderstood" (two misses in a row), "threat",
    # "abuse", "high_priority" (a complaint just filed as high or urgent),
    # "escalation" (the customer chases a complaint). A new ticket's source is
    # "handoff:<reason>"; the desk shows it.
    reason: str
    order_number: Optional[str] = None
    order_verified: bool = False
    category: Optional[str] = None
    description: Optional[str] = None
    contact: Optional[str] = None
    customer_id: Optional[int] = None
    recent_customer_texts: tuple = ()
    # The ticket this handoff is about, when the caller knows it (a complaint
    # just filed, a ticket the customer escalated; ownership checked by the
    # caller). Otherwise the conversation's open ticket, or a new one.
    ticket_code: Optional[str] = None

    def __post_init__(self):
        if self.reason not in REASONS:
            raise ValueError(f"unknown handoff reason {self.reason!r}; use one of: {', '.join(REASONS)}")


REASONS = ("customer_asked", "misunderstood", "threat", "abuse", "high_priority", "escalation")


@dataclass(frozen=True)
class HandoffOutcome:
    mode: str  # "queued": a person joins this chat; "ticket": a person follows up on the ticket
    ticket: TicketView
    ticket_created: bool
    queue_position: int = 0
    agent_name: Optional[str] = None  # routing gave the chat to this person at once (their display name)


def parse_opening_hours(value: str) -> tuple[time, time]:
    start, _, end = value.partition("-")
    to_time = lambda text: time(23, 59, 59) if text.strip() == "24:00" else time.fromisoformat(text.strip())  # noqa: E731
    return to_time(start), to_time(end)


def within_hours(now_local: datetime, opening_hours: str) -> bool:
    start, end = parse_opening_hours(opening_hours)
    return start <= now_local.time() <= end


class HandoffService:
    def __init__(self, tickets: TicketService, live=None):
        """`live`: a LiveHandoff (conversations, staff online, opening hours), or None for tickets only."""
        self._tickets = tickets
        self._live = live

    def request(self, req: HandoffRequest) -> HandoffOutcome:
        outcome = self._ticket_for(req)
        if self._live is not None and self._live.available():
            position, agent_name = self._live.enqueue(req.sender_id, req.channel)
            return HandoffOutcome("queued", outcome.ticket, outcome.ticket_created, position, agent_name)
        return outcome

    def _ticket_for(self, req: HandoffRequest) -> HandoffOutcome:
        if req.ticket_code:
            named = self._tickets.get(req.ticket_code)
            if named is not None:
                return HandoffOutcome("ticket", named, False)
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


class LiveHandoff:
    """Is a person available right now, and putting a conversation in their queue."""

    def __init__(self, conversations, staff_last_seen: Callable[[], Optional[datetime]], opening_hours: str,
                 online_minutes: int, clock: Callable[[], datetime] = datetime.utcnow, utc_offset_hours: int = 7,
                 routing=None):
        """`routing`: a RoutingService that gives the chat to the right person at once (None: it waits to be claimed)."""
        self._conversations = conversations
        self._routing = routing
        self._staff_last_seen = staff_last_seen
        self._opening_hours = opening_hours
        self._online = timedelta(minutes=online_minutes)
        self._clock = clock
        self._offset = timedelta(hours=utc_offset_hours)

    def available(self) -> bool:
        now = self._clock()
        if not within_hours(now + self._offset, self._opening_hours):
            return False
        seen = self._staff_last_seen()
        return seen is not None and now - seen <= self._online

    def enqueue(self, sender_id: str, channel: str) -> Tuple[int, Optional[str]]:
        """Queue the chat: (its place in the queue, the display name of whoever routing gave it to at once)."""
        # Only from the bot: a person who already took the chat keeps it.
        self._conversations.change_owner(sender_id, "queued", allowed=lambda owner, _agent: owner == "bot",
                                         channel=channel)
        assigned = self._routing.route(sender_id) if self._routing is not None else None
        if assigned is not None:
            return 0, assigned.display_name
        return len(self._conversations.list("queued")), None
