"""Tickets: opening one per confirmed complaint, status changes, and who may see one."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, List, Optional

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.categories import CATEGORIES
from bot.parsers import format_ticket_code, normalize_contact, ticket_id_from_code
from bot.services.priority import at_least, derive_priority, raised
from bot.services.sla import SERVICE_LEVELS, deadline, due_times, past_deadline, resolve_deadline, resume_deadline, sla_clock
from bot.services.customer_links import attach_contact
from bot.store.conversations import get_or_create_conversation
from bot.store.db import session_scope
from bot.store.models import Conversation, Customer, Ticket, TicketEvent, utcnow

logger = logging.getLogger(__name__)

ESCALATED_NOTE = "escalated by customer"
# Two angry messages in a row are one outburst, not two escalations; it also
# makes a retried action harmless.
ESCALATION_COOLDOWN = timedelta(minutes=2)

STATUSES = ("new", "acknowledged", "in_progress", "waiting_customer", "resolved", "closed")
OPEN_STATUSES = ("new", "acknowledged", "in_progress", "waiting_customer")

STATUS_LABELS = {
    "vi": {
        "new": "Mới tiếp nhận",
        "acknowledged": "Đã tiếp nhận, đang chờ xử lý",
        "in_progress": "Đang xử lý",
        "waiting_customer": "Đang chờ thông tin từ bạn",
        "resolved": "Đã giải quyết",
        "closed": "Đã đóng",
    },
    "en": {
        "new": "Received",
        "acknowledged": "Acknowledged, waiting to be handled",
        "in_progress": "In progress",
        "waiting_customer": "Waiting for your reply",
        "resolved": "Resolved",
        "closed": "Closed",
    },
}


class TicketError(Exception):
    pass


@dataclass(frozen=True)
class ComplaintSubmission:
    submission_key: str
    sender_id: str
    channel: str
    language: str
    order_number: Optional[str]
    order_verified: bool
    category: str
    description: str
    contact: Optional[str]
    customer_id: Optional[int] = None
    source: str = "complaint_form"
    # Everything the customer wrote during the complaint: urgency words may
    # be in any of it, not only in the description.
    customer_texts: tuple = ()


@dataclass(frozen=True)
class TicketEventView:
    status_from: Optional[str]
    status_to: str
    author: str
    note: str
    created_at: datetime


@dataclass(frozen=True)
class TicketView:
    id: int
    code: str
    sender_id: str
    order_number: Optional[str]
    order_verified: bool
    category: str
    description: str
    contact: Optional[str]
    priority: str
    status: str
    language: str
    channel: str
    source: str
    assignee: Optional[str]
    created_at: datetime
    updated_at: datetime
    acknowledge_due_at: datetime
    resolve_due_at: datetime
    acknowledged_at: Optional[datetime]
    resolved_at: Optional[datetime]
    events: List[TicketEventView] = field(default_factory=list)
    sla_paused_at: Optional[datetime] = None

    @property
    def last_event(self) -> Optional[TicketEventView]:
        return self.events[-1] if self.events else None

    def is_overdue(self, now: datetime) -> bool:
        """Still open and past its acknowledgement time (unacknowledged) or its resolution time."""
        if self.status not in OPEN_STATUSES:
            return False
        return past_deadline(self.acknowledged_at, self.acknowledge_due_at, self.resolve_due_at, self.sla_paused_at, now)

    def resolve_due(self, now: datetime) -> datetime:
        return resolve_deadline(self.resolve_due_at, self.sla_paused_at, now)

    def as_dict(self) -> dict:
        def iso(value: Optional[datetime]) -> Optional[str]:
            return value.isoformat() + "Z" if value else None

        return {
            "code": self.code,
            "order_number": self.order_number,
            "order_verified": self.order_verified,
            "category": self.category,
            "description": self.description,
            "contact": self.contact,
            "priority": self.priority,
            "status": self.status,
            "language": self.language,
            "channel": self.channel,
            "source": self.source,
            "assignee": self.assignee,
            "conversation": self.sender_id,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "acknowledge_due_at": iso(self.acknowledge_due_at),
            "resolve_due_at": iso(self.resolve_due_at),
            "acknowledged_at": iso(self.acknowledged_at),
            "resolved_at": iso(self.resolved_at),
            "sla_paused_since": iso(self.sla_paused_at),
            "history": [
                {
                    "from": e.status_from,
                    "to": e.status_to,
                    "author": e.author,
                    "note": e.note,
                    "at": iso(e.created_at),
                }
                for e in self.events
            ],
        }


def pause_resolution_clock(ticket: Ticket, now: datetime) -> None:
    """Seed 004's 48 hours are the shop's time: waiting for the customer's answer does not count."""
    if ticket.status == "waiting_customer":
        if ticket.sla_paused_at is None:
            ticket.sla_paused_at = now
    elif ticket.sla_paused_at is not None:
        ticket.resolve_due_at = resume_deadline(ticket.resolve_due_at, ticket.sla_paused_at, now)
        ticket.sla_paused_at = None


def _view(ticket: Ticket) -> TicketView:
    return TicketView(
        id=ticket.id,
        code=format_ticket_code(ticket.id),
        sender_id=ticket.conversation.sender_id,
        order_number=ticket.order_number,
        order_verified=ticket.order_verified,
        category=ticket.category,
        description=ticket.description,
        contact=ticket.contact,
        priority=ticket.priority,
        status=ticket.status,
        language=ticket.language,
        channel=ticket.channel,
        source=ticket.source,
        assignee=ticket.assignee,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        acknowledge_due_at=ticket.acknowledge_due_at,
        resolve_due_at=ticket.resolve_due_at,
        acknowledged_at=ticket.acknowledged_at,
        resolved_at=ticket.resolved_at,
        sla_paused_at=ticket.sla_paused_at,
        events=[
            TicketEventView(e.status_from, e.status_to, e.author, e.note, e.created_at) for e in ticket.events
        ],
    )


class TicketService:
    def __init__(self, factory: sessionmaker, clock: Callable[[], datetime] = utcnow):
        self._factory = factory
        self._clock = clock

    # -- opening -------------------------------------------------------------

    def open(self, submission: ComplaintSubmission) -> tuple[TicketView, bool]:
        """Open the ticket for a submission; (ticket, created). The same key gives the same ticket."""
        existing = self._by_submission_key(submission.submission_key)
        if existing:
            return existing, False
        category = submission.category if submission.category in CATEGORIES else "other"
        try:
            with session_scope(self._factory) as session:
                conversation = get_or_create_conversation(
                    session, submission.sender_id, submission.channel, submission.language
                )
                earlier = 0
                if submission.order_number:
                    earlier = session.execute(
                        select(func.count(Ticket.id)).where(Ticket.order_number == submission.order_number)
                    ).scalar_one()
                priority = derive_priority(
                    category, (submission.description, *submission.customer_texts), earlier
                )
                now = self._clock()
                ack_due, resolve_due = due_times(priority, now)
                if submission.contact and conversation.customer_id:
                    # A Telegram customer who gives a known phone/email joins that customer's history.
                    attach_contact(session, conversation, submission.contact)
                customer_id = submission.customer_id or conversation.customer_id
                if customer_id and not conversation.customer_id:
                    conversation.customer_id = customer_id
                ticket = Ticket(
                    submission_key=submission.submission_key,
                    conversation=conversation,
                    customer_id=customer_id,
                    order_number=submission.order_number,
                    order_verified=submission.order_verified,
                    category=category,
                    description=submission.description or "",
                    contact=submission.contact,
                    priority=priority,
                    status="new",
                    language=submission.language,
                    channel=submission.channel,
                    source=submission.source,
                    created_at=now,
                    updated_at=now,
                    acknowledge_due_at=ack_due,
                    resolve_due_at=resolve_due,
                )
                ticket.events.append(
                    TicketEvent(status_from=None, status_to="new", author="bot", note=submission.source, created_at=now)
                )
                session.add(ticket)
                session.flush()
                view = _view(ticket)
        except IntegrityError:
            # Two deliveries of the same confirmation raced; the first one won.
            existing = self._by_submission_key(submission.submission_key)
            if existing:
                return existing, False
            raise
        logger.info("ticket %s opened (priority %s, category %s)", view.code, view.priority, view.category)
        return view, True

    def _by_submission_key(self, key: str) -> Optional[TicketView]:
        with session_scope(self._factory) as session:
            ticket = session.execute(select(Ticket).where(Ticket.submission_key == key)).scalars().first()
            return _view(ticket) if ticket else None

    # -- reading -------------------------------------------------------------

    def get(self, code: str) -> Optional[TicketView]:
        ticket_id = ticket_id_from_code(code)
        if ticket_id is None:
            return None
        with session_scope(self._factory) as session:
            ticket = session.get(Ticket, ticket_id)
            return _view(ticket) if ticket else None

    def list(self, status: Optional[str] = None) -> List[TicketView]:
        with session_scope(self._factory) as session:
            query = select(Ticket).order_by(Ticket.id)
            if status:
                query = query.where(Ticket.status == status)
            return [_view(t) for t in session.execute(query).scalars()]

    def for_sender(self, sender_id: str) -> List[TicketView]:
        with session_scope(self._factory) as session:
            query = (
                select(Ticket)
                .join(Conversation, Ticket.conversation_id == Conversation.id)
                .where(Conversation.sender_id == sender_id)
                .order_by(Ticket.id.desc())
            )
            return [_view(t) for t in session.execute(query).scalars()]

    def open_for_sender(self, sender_id: str) -> Optional[TicketView]:
        for ticket in self.for_sender(sender_id):
            if ticket.status in OPEN_STATUSES:
                return ticket
        return None

    def find_for_requester(
        self, code: str, sender_id: Optional[str] = None, contact: Optional[str] = None
    ) -> Optional[TicketView]:
        """The ticket, only if the asker owns it; None otherwise, whether or not it exists.

        Ownership: the same conversation opened it, or the asker gives the phone
        or email on the ticket (or on the customer record behind it).
        """
        ticket = self.get(code)
        if ticket is None:
            return None
        if sender_id and ticket.sender_id == sender_id:
            return ticket
        given = normalize_contact(contact)
        if given and given in self._known_contacts(ticket):
            return ticket
        return None

    def _known_contacts(self, ticket: TicketView) -> set:
        known = {normalize_contact(ticket.contact)} if ticket.contact else set()
        with session_scope(self._factory) as session:
            row = session.get(Ticket, ticket.id)
            customer: Optional[Customer] = row.customer if row else None
            if customer:
                known |= {normalize_contact(customer.phone), normalize_contact(customer.email)}
        known.discard(None)
        return known

    # -- changing ------------------------------------------------------------

    def assign(self, code: str, assignee: Optional[str]) -> TicketView:
        """Give the ticket to a staff member (None: to nobody).

        Not a ticket event: events are the status history the customer's "check my ticket" reads.
        """
        ticket_id = ticket_id_from_code(code)
        with session_scope(self._factory) as session:
            ticket = session.get(Ticket, ticket_id) if ticket_id else None
            if ticket is None:
                raise TicketError(f"no ticket {code}")
            ticket.assignee = assignee
            session.flush()
            return _view(ticket)

    def set_status(self, code: str, status: str, author: str = "staff", note: str = "") -> TicketView:
        if status not in STATUSES:
            raise TicketError(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
        ticket_id = ticket_id_from_code(code)
        with session_scope(self._factory) as session:
            ticket = session.get(Ticket, ticket_id) if ticket_id else None
            if ticket is None:
                raise TicketError(f"no ticket {code}")
            now = self._clock()
            if ticket.status != status:
                ticket.events.append(
                    TicketEvent(status_from=ticket.status, status_to=status, author=author, note=note, created_at=now)
                )
                ticket.status = status
                ticket.updated_at = now
                if status != "new" and ticket.acknowledged_at is None:
                    ticket.acknowledged_at = now
                if status in ("resolved", "closed") and ticket.resolved_at is None:
                    ticket.resolved_at = now
                pause_resolution_clock(ticket, now)
            session.flush()
            return _view(ticket)

    def escalate(
        self, code: str, sender_id: Optional[str] = None, contact: Optional[str] = None,
        minimum: Optional[str] = None, note: str = ESCALATED_NOTE,
    ) -> Optional[TicketView]:
        """The customer pushes their ticket up; None when the asker does not own it.

        Ownership as for a status check (find_for_requester): the conversation
        that opened it, or the phone/email on it. The priority goes one step up
        (normal → high → urgent), at least to `minimum`; the shorter promises of
        the new priority count from now, never later than the ones already
        made. A resolved or closed ticket is reopened: the customer says it is
        not solved. The status history records who did it and why (`note`).
        """
        owned = self.find_for_requester(code, sender_id=sender_id, contact=contact)
        if owned is None:
            return None
        with session_scope(self._factory) as session:
            ticket = session.get(Ticket, owned.id)
            now = self._clock()
            recent = [
                e for e in ticket.events
                if e.author == "customer" and e.note.startswith(ESCALATED_NOTE)
                and now - e.created_at < ESCALATION_COOLDOWN
            ]
            if recent:
                # Within the cooldown only `minimum` can still raise it (a threat after a chaser).
                priority = at_least(ticket.priority, minimum)
                if priority == ticket.priority:
                    return _view(ticket)
            else:
                priority = raised(ticket.priority, minimum)
            status_from = ticket.status
            reopened = ticket.status not in OPEN_STATUSES
            if reopened:
                ticket.status = "in_progress"
                ticket.resolved_at = None
            elif ticket.status == "waiting_customer":  # the customer has answered: the shop's turn again
                ticket.status = "in_progress"
                pause_resolution_clock(ticket, now)
            level, clock = SERVICE_LEVELS[priority], sla_clock()
            if ticket.acknowledged_at is None:
                ticket.acknowledge_due_at = min(ticket.acknowledge_due_at, deadline(now, level.acknowledge, clock))
            resolve_by = deadline(now, level.resolve, clock)
            ticket.resolve_due_at = resolve_by if reopened else min(ticket.resolve_due_at, resolve_by)
            old_priority = ticket.priority
            ticket.priority = priority
            ticket.updated_at = now
            ticket.events.append(
                TicketEvent(status_from=status_from, status_to=ticket.status, author="customer", note=note, created_at=now)
            )
            session.flush()
            view = _view(ticket)
        logger.info("ticket %s escalated by its customer: %s -> %s", view.code, old_priority, view.priority)
        return view
