"""Who owns each conversation, and its transcript.

The gateway asks `owner()` before every customer message: while the owner is
not the bot, the message goes to the transcript only and never reaches Rasa.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Tuple

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import sessionmaker

from bot.store.conversations import get_or_create_conversation
from bot.store.db import session_scope
from bot.store.models import Conversation, Message, OwnershipEvent, Rating, Staff, utcnow

OWNERS = ("bot", "queued", "agent")
AUTHORS = ("customer", "bot", "staff", "system", "note")
# Internal notes between staff: in the desk's transcript, never shown or sent to the customer.
STAFF_ONLY = ("note",)
# Built once: the transcript is written twice per customer message, and building a statement cost more than
# running it.
_IDS_AND_OWNERS = select(Conversation.sender_id, Conversation.id, Conversation.owner).where(
    Conversation.sender_id.in_(bindparam("sender_ids", expanding=True)))
_ADD_MESSAGES = insert(Message)
# The rating buttons' payloads ("/rate{\"rating\":\"5\"}"; NPS and CES are "/rate_nps", "/rate_ces").
RATING_PAYLOAD = "/rate{"


class ConversationError(Exception):
    pass


@dataclass(frozen=True)
class TranscriptLine:
    author_type: str
    author_name: Optional[str]
    text: str
    data: Optional[Dict[str, Any]]
    created_at: datetime


@dataclass(frozen=True)
class Ownership:
    """The outcome of an ownership change: who owns the conversation now, and whether this call changed it."""

    owner: str
    agent: Optional[str]
    changed: bool
    refused: bool = False  # the rule said no (e.g. another staff member holds it); owner/agent are theirs
    channel: str = "rest"


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    channel: str
    owner: str
    agent: Optional[str]
    owner_since: Optional[datetime]
    last_message: Optional[str]
    last_message_at: Optional[datetime]


class ConversationService:
    def __init__(self, factory: sessionmaker, clock: Callable[[], datetime] = utcnow):
        self._factory = factory
        self._clock = clock

    def owner(self, sender_id: str) -> str:
        with session_scope(self._factory) as session:
            row = session.execute(
                select(Conversation.owner).where(Conversation.sender_id == sender_id)
            ).scalar_one_or_none()
            return row or "bot"

    def set_owner(self, sender_id: str, owner: str, agent: Optional[str] = None, channel: str = "rest") -> None:
        """Set the owner whatever it was (tests and seeding); live code uses change_owner."""
        self.change_owner(sender_id, owner, agent, allowed=lambda *_: True, channel=channel)

    def change_owner(
        self,
        sender_id: str,
        owner: str,
        agent: Optional[str] = None,
        *,
        allowed: Callable[[str, Optional[str]], bool],
        note: Optional[str] = None,
        channel: str = "rest",
        create: bool = True,
        reason: Optional[str] = None,
        staff_note: Optional[str] = None,
        capacity: Optional[int] = None,
    ) -> Optional[Ownership]:
        """Make (owner, agent) the conversation's owner if `allowed(current_owner, current_agent)`.

        One transaction with a conditional update: of two changes at once, the
        second sees the first's result and is judged against it, so two staff
        members claiming one chat give one winner and one refusal. `note` is a
        system line written with the change (the customer sees it), `staff_note`
        an internal note; `reason` is kept with the change's event (routing's
        "skill damaged+vi, 1/3 chats", "claimed", "assigned by lan"). With `capacity`, giving
        the chat to an agent who already holds that many is refused: the
        agent's row is locked first, so two assignments at once cannot both
        take the last place. None when the conversation does not exist and
        `create` is false.
        """
        if owner not in OWNERS:
            raise ConversationError(f"owner must be one of {', '.join(OWNERS)}")
        if owner == "agent" and not agent:
            raise ConversationError("an agent owner needs the staff member's name")
        agent = agent if owner == "agent" else None
        with session_scope(self._factory) as session:
            if create:
                get_or_create_conversation(session, sender_id, channel, "vi")
            if capacity is not None:
                # A write that changes nothing, first: it takes the agent's row lock (PostgreSQL) or the
                # database's write lock (SQLite) before their chats are counted.
                session.execute(update(Staff).where(Staff.name == agent)
                                .values(last_assigned_at=Staff.last_assigned_at)
                                .execution_options(synchronize_session=False))
            for _ in range(10):
                row = session.execute(
                    select(Conversation.id, Conversation.owner, Conversation.agent, Conversation.channel)
                    .where(Conversation.sender_id == sender_id)
                ).first()
                if row is None:
                    return None
                current = (row.owner or "bot", row.agent)
                if current == (owner, agent):
                    return Ownership(owner, agent, changed=False, channel=row.channel)
                if not allowed(*current) or (capacity is not None and self._held(session, agent) >= capacity):
                    return Ownership(current[0], current[1], changed=False, refused=True, channel=row.channel)
                now = self._clock()
                won = session.execute(
                    update(Conversation)
                    .where(Conversation.id == row.id, Conversation.owner == row.owner,
                           Conversation.agent.is_(None) if row.agent is None else Conversation.agent == row.agent)
                    .values(owner=owner, agent=agent, owner_since=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if not won:
                    continue  # someone changed it between our read and our write: judge again against theirs
                # The history, not only the current owner: waiting and response times are measured from it.
                session.add(OwnershipEvent(conversation_id=row.id, owner_from=current[0], owner_to=owner,
                                           agent=agent, reason=reason, created_at=now))
                if agent is not None:  # when they last got a chat: routing's tie-break
                    session.execute(update(Staff).where(Staff.name == agent).values(last_assigned_at=now)
                                    .execution_options(synchronize_session=False))
                if note:
                    session.add(Message(conversation_id=row.id, author_type="system", text=note, created_at=now))
                if staff_note:
                    session.add(Message(conversation_id=row.id, author_type="note", author_name="routing",
                                        text=staff_note, created_at=now))
                return Ownership(owner, agent, changed=True, channel=row.channel)
            raise ConversationError(f"the owner of {sender_id[:8]} keeps changing; try again")

    def requeue_chats_of(self, agent: str, reason: str) -> int:
        """Put back in the queue every chat `agent` holds (they were disabled): routing or a colleague takes them."""
        held = select(Conversation.sender_id).where(Conversation.owner == "agent", Conversation.agent == agent)
        with session_scope(self._factory) as session:
            senders = list(session.execute(held).scalars())
        moved = [self.change_owner(sender, "queued", allowed=lambda owner, holder: (owner, holder) == ("agent", agent),
                                   note="Chờ nhân viên khác / Waiting for another staff member", create=False,
                                   reason=reason) for sender in senders]
        return sum(1 for outcome in moved if outcome is not None and outcome.changed)

    @staticmethod
    def _held(session, agent: Optional[str]) -> int:
        return session.execute(
            select(func.count(Conversation.id)).where(Conversation.owner == "agent", Conversation.agent == agent)
        ).scalar_one()

    def held(self, agent: str) -> int:
        """How many conversations `agent` holds now."""
        with session_scope(self._factory) as session:
            return self._held(session, agent)

    def record(
        self,
        sender_id: str,
        author_type: str,
        text: str,
        channel: str = "rest",
        author_name: Optional[str] = None,
        data: Optional[Dict[str, Any]] = None,
    ) -> str:
        """Add one message; returns who owns the conversation now (the gateway's next question, same transaction)."""
        return self.record_many(sender_id, [(author_type, text, author_name, data)], channel)

    @staticmethod
    def check_lines(lines: List[tuple]) -> None:
        """ConversationError unless every line's author is one of AUTHORS."""
        for author_type, *_ in lines:
            if author_type not in AUTHORS:
                raise ConversationError(f"author must be one of {', '.join(AUTHORS)}")

    def record_many(self, sender_id: str, lines: List[tuple], channel: str = "rest") -> str:
        """Add (author_type, text, author_name, data[, created_at]) lines in one transaction; returns the owner.

        `created_at` is for lines written late (the database was down when they were said).
        """
        return self.record_batch([(sender_id, lines, channel)])[0]

    def record_batch(self, items: List[Tuple[str, List[tuple], str]]) -> List[str]:
        """record_many for several (sender_id, lines, channel) at once, in one transaction: each one's owner.

        The gateway writes what many conversations said together (bot/conversation/transcript_writer.py).
        Lines keep their order, within a conversation and across the batch.
        """
        for _, lines, _ in items:
            self.check_lines(lines)
        senders = list(dict.fromkeys(sender for sender, _, _ in items))
        channels = {sender: channel for sender, _, channel in items}
        for attempt in range(2):
            with session_scope(self._factory) as session:
                # Every customer message and every bot reply passes here: plain statements, not ORM objects
                # (the ORM's loading and unit of work were most of the gateway's database time per message).
                found = {row.sender_id: (row.id, row.owner)
                         for row in session.execute(_IDS_AND_OWNERS, {"sender_ids": senders})}
                if len(found) == len(senders) or attempt:
                    for sender in senders:
                        if sender not in found:  # erased meanwhile (python -m bot privacy): a new one, as before
                            conversation = get_or_create_conversation(session, sender, channels[sender], "vi")
                            found[sender] = (conversation.id, conversation.owner)
                    now = self._clock()
                    rows = [{"conversation_id": found[sender][0], "author_type": author_type,
                             "author_name": author_name, "text": text or "",
                             "data": json.dumps(data, ensure_ascii=False) if data else None,
                             "created_at": when[0] if when else now}
                            for sender, lines, _ in items
                            for author_type, text, author_name, data, *when in lines]
                    if rows:
                        session.execute(_ADD_MESSAGES, rows)
                    return [found[sender][1] or "bot" for sender, _, _ in items]
            # The first message of a conversation (rare): created on its own, so that two gateways creating
            # the same one at once cost a retry of that creation, not the batch.
            for sender in senders:
                if sender not in found:
                    with session_scope(self._factory) as session:
                        get_or_create_conversation(session, sender, channels[sender], "vi")
        raise AssertionError("unreachable")  # pragma: no cover

    def record_if_agent(self, sender_id: str, agent: str, author_type: str, text: str,
                        author_name: Optional[str] = None) -> Optional[Ownership]:
        """Add a line only while `agent` holds the conversation (checked and written in one transaction).

        None when there is no such conversation; refused when someone else (or nobody) holds it.
        """
        with session_scope(self._factory) as session:
            conversation = session.execute(
                select(Conversation).where(Conversation.sender_id == sender_id).with_for_update()
            ).scalars().first()
            if conversation is None:
                return None
            if conversation.owner != "agent" or conversation.agent != agent:
                return Ownership(conversation.owner, conversation.agent, changed=False, refused=True,
                                 channel=conversation.channel)
            session.add(Message(conversation_id=conversation.id, author_type=author_type, author_name=author_name,
                                text=text, created_at=self._clock()))
            return Ownership(conversation.owner, conversation.agent, changed=False, channel=conversation.channel)

    def create_protected(self, sender_id: str, secret_hash: str, channel: str, language: str = "vi") -> None:
        """A new conversation that only the holder of the secret may open (the website widget's)."""
        with session_scope(self._factory) as session:
            session.add(Conversation(sender_id=sender_id, channel=channel, language=language, secret_hash=secret_hash,
                                     created_at=self._clock()))

    def exists(self, sender_id: str) -> bool:
        with session_scope(self._factory) as session:
            return session.execute(
                select(Conversation.id).where(Conversation.sender_id == sender_id)
            ).first() is not None

    def secret_hash(self, sender_id: str) -> Optional[str]:
        with session_scope(self._factory) as session:
            return session.execute(
                select(Conversation.secret_hash).where(Conversation.sender_id == sender_id)
            ).scalar_one_or_none()

    def offered_payloads(self, sender_id: str, recent: int = 20) -> set:
        """Payloads of the buttons among the bot's last `recent` messages: what the customer may press now."""
        with session_scope(self._factory) as session:
            rows = session.execute(
                select(Message.data)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .where(Conversation.sender_id == sender_id, Message.author_type == "bot", Message.data.is_not(None))
                .order_by(Message.id.desc())
                .limit(recent)
            ).scalars()
            payloads = set()
            for data in rows:
                for button in (json.loads(data) or {}).get("buttons") or []:
                    if isinstance(button, dict) and isinstance(button.get("payload"), str):
                        payloads.add(button["payload"])
            return payloads

    def transcript(self, sender_id: str, for_staff: bool = False) -> List[TranscriptLine]:
        """Every message in order; the customer's view (for_staff=False) leaves out internal notes."""
        with session_scope(self._factory) as session:
            query = (
                select(Message)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .where(Conversation.sender_id == sender_id)
                .order_by(Message.id)
            )
            if not for_staff:
                query = query.where(Message.author_type.not_in(STAFF_ONLY))
            rows = session.execute(query).scalars()
            return [
                TranscriptLine(m.author_type, m.author_name, m.text, json.loads(m.data) if m.data else None, m.created_at)
                for m in rows
            ]

    def uploads_since(self, sender_id: str, since: datetime) -> int:
        """How many files the customer uploaded from the website since `since` (the upload route's rate limit).

        Counted from the transcript, so the limit holds across restarts and gateway instances.
        """
        with session_scope(self._factory) as session:
            return session.execute(
                select(func.count(Message.id))
                .join(Conversation, Message.conversation_id == Conversation.id)
                .where(Conversation.sender_id == sender_id, Message.author_type == "customer",
                       Message.created_at >= since, Message.data.like('%"upload_id"%'))
            ).scalar_one()

    def list(self, owner: Optional[str] = None, limit: int = 200) -> List[ConversationSummary]:
        """Newest first; the queue (owner "queued") oldest first, as it is served. One query, however many rows."""
        last_id = (
            select(Message.conversation_id, func.max(Message.id).label("last_id"))
            .where(Message.author_type.not_in(STAFF_ONLY))
            .group_by(Message.conversation_id)
            .subquery()
        )
        query = (
            select(Conversation, Message)
            .outerjoin(last_id, last_id.c.conversation_id == Conversation.id)
            .outerjoin(Message, Message.id == last_id.c.last_id)
            .limit(limit)
        )
        if owner:
            query = query.where(Conversation.owner == owner)
        if owner == "queued":
            query = query.order_by(Conversation.owner_since, Conversation.id)
        else:
            query = query.order_by(Conversation.id.desc())
        with session_scope(self._factory) as session:
            return [_summary_of(conversation, last) for conversation, last in session.execute(query)]

    def summary(self, sender_id: str) -> Optional[ConversationSummary]:
        """The conversation's owner and last message, or None when there is no such conversation."""
        with session_scope(self._factory) as session:
            conversation = session.execute(
                select(Conversation).where(Conversation.sender_id == sender_id)
            ).scalars().first()
            return _summary(session, conversation) if conversation else None

    def rate(self, sender_id: str, score: int, agent: Optional[str] = None) -> None:
        if not 1 <= int(score) <= 5:
            raise ConversationError("a rating is 1 to 5")
        with session_scope(self._factory) as session:
            session.add(Rating(sender_id=sender_id, score=int(score), agent=agent, created_at=self._clock()))

    def rating_asked(self, sender_id: str) -> bool:
        """Whether this chat was already asked for a rating (or gave one): it is asked once per chat.

        The transcript says what the bot asked, whoever restarted since: a bot line offering the rating's buttons.
        """
        with session_scope(self._factory) as session:
            if session.execute(select(Rating.id).where(Rating.sender_id == sender_id).limit(1)).first():
                return True
            offered = session.execute(
                select(Message.data)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .where(Conversation.sender_id == sender_id, Message.author_type == "bot",
                       Message.data.like(f"%{RATING_PAYLOAD}%"))
            ).scalars()
            return any(_offers_rating(data) for data in offered)

    def last_agent(self, sender_id: str) -> Optional[str]:
        """The display name of the staff member who last held this conversation (for the rating).

        Who held it, not who last wrote in it: a staff member may phone the
        customer and hand the chat back without a word, and the rating is still
        theirs. The last staff line's author stands in when no hold was recorded.
        """
        with session_scope(self._factory) as session:
            holder = session.execute(
                select(func.coalesce(Staff.display_name, OwnershipEvent.agent))
                .select_from(OwnershipEvent)
                .join(Conversation, OwnershipEvent.conversation_id == Conversation.id)
                .outerjoin(Staff, Staff.name == OwnershipEvent.agent)
                .where(Conversation.sender_id == sender_id, OwnershipEvent.owner_to == "agent",
                       OwnershipEvent.agent.is_not(None))
                .order_by(OwnershipEvent.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            if holder:
                return holder
            return session.execute(
                select(Message.author_name)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .where(Conversation.sender_id == sender_id, Message.author_type == "staff")
                .order_by(Message.id.desc())
                .limit(1)
            ).scalar_one_or_none()


def _offers_rating(data: Optional[str]) -> bool:
    try:
        buttons = (json.loads(data) or {}).get("buttons") or []
    except (TypeError, ValueError, AttributeError):
        return False
    return any(str(b.get("payload") or "").startswith(RATING_PAYLOAD) for b in buttons if isinstance(b, dict))


def _summary(session, conversation: Conversation) -> ConversationSummary:
    last = session.execute(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.author_type.not_in(STAFF_ONLY))
        .order_by(Message.id.desc())
        .limit(1)
    ).scalars().first()
    return _summary_of(conversation, last)


def _summary_of(conversation: Conversation, last: Optional[Message]) -> ConversationSummary:
    return ConversationSummary(
        conversation.sender_id, conversation.channel, conversation.owner, conversation.agent,
        # A list needs the start of the message only: one 200,000-character message must not make it megabytes.
        conversation.owner_since, _preview(last.text) if last else None, last.created_at if last else None,
    )


def _preview(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
