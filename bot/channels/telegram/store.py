"""What the Telegram channel keeps in the database, so a restart loses and repeats nothing.

Synchronous (SQLAlchemy); the adapter calls it through asyncio.to_thread.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Dict, List, Optional, Tuple

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.channels.telegram.cards import CardFacts
from bot.parsers import format_ticket_code
from bot.services.tickets import OPEN_STATUSES
from bot.store.db import session_scope
from bot.store.models import (
    Conversation, Customer, Message, TelegramAnnouncement, TelegramCallback, TelegramCard, TelegramUpdate, Ticket, utcnow,
)

LAST_TURNS = 6


class TelegramStore:
    def __init__(self, factory: sessionmaker, clock: Callable[[], datetime] = utcnow):
        self._factory = factory
        self._clock = clock

    # -- updates: each one handled once ----------------------------------------

    def claim_update(self, update_id: int, take_over_after: Optional[timedelta] = None) -> bool:
        """True when the caller is to handle the update: the first time it is seen, or, with `take_over_after`,
        when whoever claimed it that long ago never finished (its gateway died: kill -9, out of memory).

        False when it was handled, or is being handled by someone who may still be alive.
        """
        now = self._clock()
        try:
            with session_scope(self._factory) as session:
                session.add(TelegramUpdate(update_id=update_id, created_at=now))
            return True
        except IntegrityError:
            if take_over_after is None:
                return False
        with session_scope(self._factory) as session:
            claim = session.get(TelegramUpdate, update_id)
            if claim is None or claim.done_at is not None or claim.created_at > now - take_over_after:
                return False
            # Compare and set on the claim's time: of two gateways taking over at once, one wins.
            taken = session.execute(
                update(TelegramUpdate)
                .where(TelegramUpdate.update_id == update_id, TelegramUpdate.done_at.is_(None),
                       TelegramUpdate.created_at == claim.created_at)
                .values(created_at=now)
            ).rowcount
        return taken == 1

    def finish_update(self, update_id: int) -> None:
        """Its reply is queued (or there was none to give): a later delivery of the update is a repeat."""
        with session_scope(self._factory) as session:
            session.execute(update(TelegramUpdate).where(TelegramUpdate.update_id == update_id)
                            .values(done_at=self._clock()))

    def release_update(self, update_id: int) -> None:
        """Handling failed: let the update be handled again when Telegram re-sends it."""
        with session_scope(self._factory) as session:
            session.execute(delete(TelegramUpdate).where(TelegramUpdate.update_id == update_id))

    def forget_old_updates(self, days: int = 7) -> None:
        # Telegram keeps unconfirmed updates for 24 hours; a week is plenty.
        with session_scope(self._factory) as session:
            session.execute(delete(TelegramUpdate).where(TelegramUpdate.created_at < self._clock() - timedelta(days=days)))

    # -- long button payloads ------------------------------------------------------

    def save_callbacks(self, payloads: Dict[str, str]) -> None:
        for key, payload in payloads.items():
            try:
                with session_scope(self._factory) as session:
                    if session.get(TelegramCallback, key) is None:
                        session.add(TelegramCallback(key=key, payload=payload, created_at=self._clock()))
            except IntegrityError:
                pass  # stored meanwhile by another send of the same button

    def callback_payload(self, key: str) -> Optional[str]:
        with session_scope(self._factory) as session:
            row = session.get(TelegramCallback, key)
            return row.payload if row else None

    # -- staff-group cards ----------------------------------------------------------

    def new_card(self, chat_id: int, sender: str, kind: str) -> int:
        with session_scope(self._factory) as session:
            card = TelegramCard(chat_id=str(chat_id), sender_id=sender, kind=kind, created_at=self._clock())
            session.add(card)
            session.flush()
            return card.id

    def card(self, card_id: int) -> Optional[Tuple[str, Optional[int]]]:
        """(conversation, card message id)."""
        with session_scope(self._factory) as session:
            card = session.get(TelegramCard, card_id)
            return (card.sender_id, card.message_id) if card else None

    def sender_for_card_message(self, chat_id: int, message_id: int) -> Optional[str]:
        with session_scope(self._factory) as session:
            return session.execute(
                select(TelegramCard.sender_id).where(
                    TelegramCard.chat_id == str(chat_id), TelegramCard.message_id == message_id
                ).limit(1)
            ).scalar_one_or_none()

    def announce_once(self, key: str) -> bool:
        """True the first time `key` is announced."""
        try:
            with session_scope(self._factory) as session:
                session.add(TelegramAnnouncement(key=key[:250], created_at=self._clock()))
            return True
        except IntegrityError:
            return False

    # -- what to announce -------------------------------------------------------------

    def due_announcements(self, recent: timedelta = timedelta(hours=1), warn: timedelta = timedelta(hours=1)
                          ) -> List[Tuple[str, str, Optional[int]]]:
        """(announcement key, card kind, ticket id) for everything the staff group should hear about now.

        Queued conversations first, so a handoff that queued the chat gives one card, not two.
        Only recent events count: the first start on an old database does not replay history.
        """
        now = self._clock()
        found: List[Tuple[str, str, Optional[int]]] = []
        with session_scope(self._factory) as session:
            for conversation in session.execute(select(Conversation).where(Conversation.owner == "queued")).scalars():
                since = (conversation.owner_since or conversation.created_at).isoformat()
                found.append((f"queued:{conversation.sender_id}:{since}", "queued", conversation.id))
            tickets = session.execute(
                select(Ticket).where(Ticket.status.in_(OPEN_STATUSES), Ticket.created_at >= now - timedelta(days=1))
            ).scalars().all()
            for ticket in tickets:
                if ticket.source.startswith("handoff") and ticket.created_at >= now - recent:
                    if ticket.conversation.owner != "queued":
                        found.append((f"ticket:{ticket.id}:handoff", "handoff", ticket.id))
                if ticket.priority == "urgent":
                    found.append((f"ticket:{ticket.id}:urgent", "urgent", ticket.id))
            for ticket in session.execute(
                select(Ticket).where(
                    Ticket.status == "new", Ticket.acknowledged_at.is_(None),
                    Ticket.acknowledge_due_at > now, Ticket.acknowledge_due_at <= now + warn,
                )
            ).scalars():
                # A ticket whose whole window is shorter than the warning (urgent: 1 h) was announced when opened.
                if ticket.acknowledge_due_at - ticket.created_at > warn:
                    found.append((f"ticket:{ticket.id}:ack_due", "ack_due", ticket.id))
            found += self._deadline_alerts(session, now, warn)
            if found:
                known = set(session.execute(
                    select(TelegramAnnouncement.key).where(TelegramAnnouncement.key.in_([key for key, _, _ in found]))
                ).scalars())
                found = [item for item in found if item[0] not in known]
        return found

    @staticmethod
    def _deadline_alerts(session, now: datetime, warn: timedelta) -> List[Tuple[str, str, Optional[int]]]:
        """Resolution due within `warn`, and deadlines missed (seed 004: escalate, never let one lapse quietly).

        Only deadlines that passed within the last day: a first start on an old database replays nothing.
        A ticket waiting for the customer has its resolution clock stopped (tickets.pause_resolution_clock).
        """
        found: List[Tuple[str, str, Optional[int]]] = []
        open_tickets = session.execute(
            select(Ticket).where(Ticket.status.in_(OPEN_STATUSES), Ticket.sla_paused_at.is_(None),
                                 Ticket.resolve_due_at > now - timedelta(days=1))
        ).scalars()
        for ticket in open_tickets:
            if now < ticket.resolve_due_at <= now + warn and ticket.resolve_due_at - ticket.created_at > warn:
                found.append((f"ticket:{ticket.id}:resolve_due", "resolve_due", ticket.id))
            if ticket.resolve_due_at <= now:
                found.append((f"ticket:{ticket.id}:resolve_missed", "resolve_missed", ticket.id))
        late = session.execute(
            select(Ticket).where(Ticket.status == "new", Ticket.acknowledged_at.is_(None),
                                 Ticket.acknowledge_due_at <= now, Ticket.acknowledge_due_at > now - timedelta(days=1))
        ).scalars()
        found += [(f"ticket:{t.id}:ack_missed", "ack_missed", t.id) for t in late]
        return found

    def card_facts(self, kind: str, ref: int) -> Optional[CardFacts]:
        """Facts for a card: `ref` is a conversation id for "queued", else a ticket id."""
        with session_scope(self._factory) as session:
            if kind == "queued":
                conversation = session.get(Conversation, ref)
                if conversation is None:
                    return None
                ticket = session.execute(
                    select(Ticket).where(Ticket.conversation_id == conversation.id, Ticket.status.in_(OPEN_STATUSES))
                    .order_by(Ticket.id.desc()).limit(1)
                ).scalars().first()
            else:
                ticket = session.get(Ticket, ref)
                if ticket is None:
                    return None
                conversation = ticket.conversation
            customer: Optional[Customer] = conversation.customer
            contact = (ticket.contact if ticket else None) or (customer.phone or customer.email if customer else None)
            turns = session.execute(
                select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id.desc()).limit(LAST_TURNS)
            ).scalars().all()
            return CardFacts(
                kind=kind, sender=conversation.sender_id, channel=conversation.channel, contact=contact,
                ticket_code=format_ticket_code(ticket.id) if ticket else None,
                priority=ticket.priority if ticket else None,
                order_number=ticket.order_number if ticket else None,
                category=ticket.category if ticket else None,
                description=ticket.description if ticket else None,
                acknowledge_due_at=ticket.acknowledge_due_at if ticket and kind in ("ack_due", "ack_missed", "urgent")
                else None,
                resolve_due_at=ticket.resolve_due_at if ticket and kind in ("resolve_due", "resolve_missed") else None,
                turns=tuple((m.author_type, m.text) for m in reversed(turns) if m.text),
            )
