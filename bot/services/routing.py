"""Who gets a handed-off conversation or a new ticket: skills, capacity, availability, with a fallback.

The rules (`choose`, pure, unit-tested without a database):
- only people who are available (online and seen lately, bot/services/staff.py) and below their
  capacity (chats at once) are considered;
- of those, the ones with the right skills: a skill list that is empty means "any" (a person with
  no languages listed takes every language);
- the most free places wins; a tie goes to whoever has waited longest since their last assignment;
- nobody fitting is available: once the conversation has waited the fallback time
  (HOTRO_ROUTING_FALLBACK_SECONDS), anyone available takes it.

RoutingService applies them to the database: a conversation is assigned through
ConversationService.change_owner (one transaction, conditional update, capacity checked under the
agent's lock), with the reason kept on the ownership event and shown in the transcript. `sweep`
serves the queue oldest first: it runs when someone frees a place or comes online, and every few
seconds for the fallback. A new ticket nobody follows up live goes the same way to the fitting
available person with the fewest open tickets.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import sessionmaker

from bot.categories import CATEGORIES
from bot.services import roles
from bot.store.db import session_scope
from bot.parsers import format_ticket_code
from bot.store.models import Conversation, Message, Staff, Ticket, utcnow

logger = logging.getLogger(__name__)

LANGUAGES = ("vi", "en")
CHANNELS = ("web", "telegram", "rest")
AVAILABILITIES = ("online", "away", "offline")
LANGUAGE_LABELS = {"vi": "Tiếng Việt", "en": "English"}
CHANNEL_LABELS = {"web": "Website", "telegram": "Telegram", "rest": "API"}
DEFAULT_CAPACITY = 3
MAX_CAPACITY = 50
DEFAULT_FALLBACK_SECONDS = 120
OPEN_TICKET_STATUSES = ("new", "acknowledged", "in_progress", "waiting_customer")


class RoutingError(ValueError):
    pass


@dataclass(frozen=True)
class Skills:
    """What a person handles; an empty tuple means any."""

    categories: Tuple[str, ...] = ()
    languages: Tuple[str, ...] = ()
    channels: Tuple[str, ...] = ()

    def fits(self, need: "Need") -> bool:
        return all(not allowed or value in allowed for allowed, value in
                   ((self.categories, need.category), (self.languages, need.language), (self.channels, need.channel)))

    def as_dict(self) -> dict:
        return {"categories": list(self.categories), "languages": list(self.languages),
                "channels": list(self.channels)}


def _parse_list(value: object, known: Sequence[str], what: str) -> Tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items = [part.strip().lower() for part in value.split(",")]
    elif isinstance(value, (list, tuple)) and all(isinstance(part, str) for part in value):
        items = [part.strip().lower() for part in value]
    else:
        raise RoutingError(f"{what} are a list of: {', '.join(known)}")
    unknown = sorted({item for item in items if item} - set(known))
    if unknown:
        raise RoutingError(f"unknown {what} {', '.join(unknown)}: use {', '.join(known)}")
    return tuple(item for item in known if item in items)


def parse_skills(categories: object = None, languages: object = None, channels: object = None) -> Skills:
    """Skills from lists or comma-separated text, checked against the known values (RoutingError otherwise)."""
    return Skills(_parse_list(categories, CATEGORIES, "categories"), _parse_list(languages, LANGUAGES, "languages"),
                  _parse_list(channels, CHANNELS, "channels"))


def parse_capacity(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise RoutingError(f"capacity is a whole number of chats at once, 1 to {MAX_CAPACITY}")
    number = int(value)
    if not 1 <= number <= MAX_CAPACITY:
        raise RoutingError(f"capacity is a whole number of chats at once, 1 to {MAX_CAPACITY}")
    return number


def parse_availability(value: object) -> str:
    if value not in AVAILABILITIES:
        raise RoutingError(f"availability is one of {', '.join(AVAILABILITIES)}")
    return str(value)


def stored_list(values: Iterable[str]) -> str:
    return ",".join(values)


def skills_of(staff: Staff) -> Skills:
    # Read leniently: a hand-edited row with an unknown value keeps what is known rather than failing routing.
    def known(value: str, allowed: Sequence[str]) -> Tuple[str, ...]:
        items = (value or "").split(",")
        return tuple(item for item in allowed if item in items)

    return Skills(known(staff.skill_categories, CATEGORIES), known(staff.skill_languages, LANGUAGES),
                  known(staff.skill_channels, CHANNELS))


def effective_availability(chosen: str, seen_at: Optional[datetime], now: datetime, online_window: timedelta) -> str:
    """What routing believes: the person's choice, but nobody is online who has not been seen lately."""
    if chosen not in ("online", "away") or seen_at is None or now - seen_at > online_window:
        return "offline"
    return chosen


@dataclass(frozen=True)
class Need:
    """What a conversation or ticket asks of the person who takes it."""

    category: str
    language: str
    channel: str

    @property
    def label(self) -> str:
        return f"{self.category}+{self.language}"


@dataclass(frozen=True)
class Candidate:
    name: str
    skills: Skills
    capacity: int
    load: int  # chats held now (for tickets: open tickets assigned)
    available: bool
    last_assigned_at: Optional[datetime] = None

    @property
    def free(self) -> int:
        return self.capacity - self.load


@dataclass(frozen=True)
class Choice:
    name: str
    reason: str
    fallback: bool


def _best(candidates: List[Candidate], most_free: bool) -> Candidate:
    never = datetime.min
    if most_free:
        return min(candidates, key=lambda c: (-c.free, c.last_assigned_at or never, c.name))
    return min(candidates, key=lambda c: (c.load, c.last_assigned_at or never, c.name))


def choose(need: Need, candidates: Sequence[Candidate], waited: timedelta, fallback_after: timedelta) -> Optional[Choice]:
    """Who takes a chat with `need` that has waited `waited`; None: it waits on."""
    free = [c for c in candidates if c.available and c.free > 0]
    fitting = [c for c in free if c.skills.fits(need)]
    if fitting:
        best = _best(fitting, most_free=True)
        return Choice(best.name, f"skill {need.label}, {best.load + 1}/{best.capacity} chats", False)
    if free and waited >= fallback_after:
        best = _best(free, most_free=True)
        return Choice(best.name, f"nobody with skill {need.label} within {int(fallback_after.total_seconds())} s: "
                                 f"anyone available, {best.load + 1}/{best.capacity} chats", True)
    return None


def choose_for_ticket(need: Need, candidates: Sequence[Candidate], waited: timedelta,
                      fallback_after: timedelta) -> Optional[Choice]:
    """Who follows up a ticket: fitting and available, fewest open tickets (capacity counts chats, not tickets)."""
    available = [c for c in candidates if c.available]
    fitting = [c for c in available if c.skills.fits(need)]
    pool, fallback = (fitting, False) if fitting else (available if waited >= fallback_after else [], True)
    if not pool:
        return None
    best = _best(pool, most_free=False)
    prefix = (f"nobody with skill {need.label} within {int(fallback_after.total_seconds())} s: anyone available"
              if fallback else f"skill {need.label}")
    return Choice(best.name, f"{prefix}, {best.load + 1} open tickets", fallback)


@dataclass(frozen=True)
class Assignment:
    sender_id: str
    agent: str
    reason: str
    display_name: str = ""
    kind: str = "chat"  # "chat": the conversation itself was given; "ticket": only its ticket


class RoutingService:
    def __init__(self, factory: sessionmaker, conversations, online_minutes: int,
                 fallback_seconds: int = DEFAULT_FALLBACK_SECONDS, clock: Callable[[], datetime] = utcnow):
        """`conversations`: the ConversationService every ownership change goes through."""
        self._factory = factory
        self._conversations = conversations
        self._online = timedelta(minutes=online_minutes)
        self._fallback = timedelta(seconds=fallback_seconds)
        self._clock = clock

    @classmethod
    def from_settings(cls, factory: sessionmaker, conversations, settings) -> "RoutingService":
        return cls(factory, conversations, settings.staff_online_minutes, settings.routing_fallback_seconds)

    # -- reading ---------------------------------------------------------------------------

    def candidates(self, tickets: bool = False) -> List[Candidate]:
        """Every active agent, with their load now."""
        now = self._clock()
        with session_scope(self._factory) as session:
            if tickets:
                load = dict(session.execute(
                    select(Ticket.assignee, func.count(Ticket.id))
                    .where(Ticket.status.in_(OPEN_TICKET_STATUSES), Ticket.assignee.is_not(None))
                    .group_by(Ticket.assignee)).all())
            else:
                load = dict(session.execute(
                    select(Conversation.agent, func.count(Conversation.id))
                    .where(Conversation.owner == "agent").group_by(Conversation.agent)).all())
            found = []
            for staff in session.execute(select(Staff).where(Staff.disabled_at.is_(None)).order_by(Staff.id)).scalars():
                if roles.AGENT not in roles.from_stored(staff.roles):
                    continue  # an admin without the agent role may take chats by hand, routing gives them none
                available = effective_availability(staff.availability, staff.seen_at, now, self._online) == "online"
                found.append(Candidate(staff.name, skills_of(staff), staff.capacity or DEFAULT_CAPACITY,
                                       load.get(staff.name, 0), available, staff.last_assigned_at))
            return found

    def _conversation_need(self, sender_id: str) -> Optional[Tuple[Need, datetime, str]]:
        """(need, queued since, owner) of a conversation; None when there is none."""
        with session_scope(self._factory) as session:
            conversation = session.execute(
                select(Conversation).where(Conversation.sender_id == sender_id)).scalars().first()
            if conversation is None:
                return None
            ticket = session.execute(
                select(Ticket).where(Ticket.conversation_id == conversation.id)
                .order_by((Ticket.status.in_(OPEN_TICKET_STATUSES)).desc(), Ticket.id.desc()).limit(1)
            ).scalars().first()
            need = Need(ticket.category if ticket else "other", ticket.language if ticket else conversation.language,
                        conversation.channel)
            return need, conversation.owner_since or conversation.created_at, conversation.owner

    # -- assigning -------------------------------------------------------------------------

    def route(self, sender_id: str) -> Optional[Assignment]:
        """Give a waiting conversation to the right person now, if there is one; None: it waits on."""
        for _ in range(3):  # a refusal means the picture changed (a place taken, the chat claimed): look again
            found = self._conversation_need(sender_id)
            if found is None or found[2] != "queued":
                return None
            need, since, _owner = found
            candidates = self.candidates()
            choice = choose(need, candidates, self._clock() - since, self._fallback)
            if choice is None:
                return None
            chosen = next(c for c in candidates if c.name == choice.name)
            display_name = self._display_name(choice.name)
            outcome = self._conversations.change_owner(
                sender_id, "agent", choice.name, allowed=lambda owner, _agent: owner == "queued",
                note=f"{display_name} joined the conversation", create=False,
                reason=choice.reason, staff_note=f"Assigned to {display_name}: {choice.reason}",
                capacity=chosen.capacity,
            )
            if outcome is not None and outcome.changed:
                logger.info("conversation %s assigned to %s (%s)", sender_id[:8], choice.name, choice.reason)
                self._follow_ticket(sender_id, choice.name)
                return Assignment(sender_id, choice.name, choice.reason, display_name)
        return None

    def sweep(self) -> List[Assignment]:
        """Serve the queue oldest first, then the unassigned new tickets; what was assigned."""
        candidates = self.candidates()
        done = []
        if any(c.available and c.free > 0 for c in candidates):  # nobody can take a chat: no query per chat
            done = [a for a in (self.route(c.id) for c in self._conversations.list("queued")) if a is not None]
        return done + self.route_tickets()

    def route_tickets(self) -> List[Assignment]:
        """Open tickets nobody holds, oldest first, to the fitting available person with the fewest."""
        now = self._clock()
        candidates = self.candidates(tickets=True)
        if not any(c.available for c in candidates):
            return []
        with session_scope(self._factory) as session:
            waiting = session.execute(
                select(Ticket.id, Ticket.category, Ticket.language, Ticket.channel, Ticket.created_at,
                       Ticket.conversation_id, Conversation.sender_id, Conversation.owner)
                .join(Conversation, Ticket.conversation_id == Conversation.id)
                .where(Ticket.status == "new", Ticket.assignee.is_(None))
                .order_by(Ticket.id).limit(200)).all()
        done = []
        for row in waiting:
            if row.owner in ("queued", "agent"):
                continue  # a live chat: its ticket follows the chat's assignment
            choice = choose_for_ticket(Need(row.category, row.language, row.channel), candidates,
                                       now - row.created_at, self._fallback)
            if choice is None:
                continue
            with session_scope(self._factory) as session:
                won = session.execute(
                    update(Ticket).where(Ticket.id == row.id, Ticket.assignee.is_(None)).values(assignee=choice.name)
                    .execution_options(synchronize_session=False)).rowcount
                if won:  # the reason, where staff look: a note in the ticket's conversation
                    session.add(Message(conversation_id=row.conversation_id, author_type="note",
                                        author_name="routing", created_at=now,
                                        text=f"Ticket {format_ticket_code(row.id)} assigned to {choice.name}: "
                                             f"{choice.reason}"))
            if won:
                logger.info("ticket %s assigned to %s (%s)", row.id, choice.name, choice.reason)
                done.append(Assignment(row.sender_id, choice.name, choice.reason, choice.name, "ticket"))
                candidates = [replace(c, load=c.load + 1) if c.name == choice.name else c for c in candidates]
        return done

    def _follow_ticket(self, sender_id: str, agent: str) -> None:
        """The conversation's open ticket goes to whoever got the chat, unless someone already holds it."""
        with session_scope(self._factory) as session:
            conversation_id = select(Conversation.id).where(Conversation.sender_id == sender_id).scalar_subquery()
            session.execute(
                update(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.assignee.is_(None),
                                     Ticket.status.in_(OPEN_TICKET_STATUSES))
                .values(assignee=agent).execution_options(synchronize_session=False))

    def _display_name(self, name: str) -> str:
        with session_scope(self._factory) as session:
            return session.execute(select(Staff.display_name).where(Staff.name == name)).scalar_one_or_none() or name
