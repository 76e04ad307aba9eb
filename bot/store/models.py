"""SQLAlchemy models shared by the action server, the CLI and (later) the gateway."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.utcnow()


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False, default="")
    phone = Column(String(20), index=True)
    email = Column(String(254), index=True)
    telegram_user_id = Column(String(40), index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    orders = relationship("Order", back_populates="customer")


class Order(Base):
    __tablename__ = "orders"

    id = Column(Integer, primary_key=True)
    number = Column(String(16), nullable=False, unique=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
    status = Column(String(30), nullable=False, default="delivered")
    items = Column(Text, nullable=False, default="")
    total_vnd = Column(Integer, nullable=False, default=0)
    placed_at = Column(DateTime, nullable=False, default=utcnow)

    customer = relationship("Customer", back_populates="orders")


class Conversation(Base):
    """One chat: a REST `sender`, a widget session or a Telegram chat."""

    __tablename__ = "conversations"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(200), nullable=False, unique=True)
    channel = Column(String(30), nullable=False, default="rest")
    customer_id = Column(Integer, ForeignKey("customers.id"))
    language = Column(String(5), nullable=False, default="vi")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    # Who answers the customer: the bot, nobody yet (waiting for a person), or a staff member.
    owner = Column(String(20), nullable=False, default="bot", server_default="bot")
    agent = Column(String(100))
    owner_since = Column(DateTime)
    # SHA-256 of the secret the gateway gave the browser that opened this conversation (website widget):
    # the id alone does not let anyone read or write it. None for REST and Telegram conversations.
    secret_hash = Column(String(64))

    customer = relationship("Customer")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("submission_key", name="uq_tickets_submission_key"),)

    id = Column(Integer, primary_key=True)
    # Identifies one confirmed form submission, so a retried action or a
    # second "yes" finds the ticket it already created.
    submission_key = Column(String(300), nullable=False)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False)
    customer_id = Column(Integer, ForeignKey("customers.id"))
    order_number = Column(String(64), index=True)
    order_verified = Column(Boolean, nullable=False, default=False)
    category = Column(String(30), nullable=False, default="other")
    description = Column(Text, nullable=False, default="")
    contact = Column(String(254))
    priority = Column(String(10), nullable=False, default="normal")
    status = Column(String(20), nullable=False, default="new")
    language = Column(String(5), nullable=False, default="vi")
    channel = Column(String(30), nullable=False, default="rest")
    source = Column(String(30), nullable=False, default="complaint_form")
    assignee = Column(String(100))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
    acknowledge_due_at = Column(DateTime, nullable=False)
    resolve_due_at = Column(DateTime, nullable=False)
    acknowledged_at = Column(DateTime)
    resolved_at = Column(DateTime)
    # Set while the status is waiting_customer: the resolution deadline moves on by the time spent waiting.
    sla_paused_at = Column(DateTime)

    conversation = relationship("Conversation")
    customer = relationship("Customer")
    events = relationship(
        "TicketEvent", back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )


class TicketEvent(Base):
    """The status history: every change, who made it and why."""

    __tablename__ = "ticket_events"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id"), nullable=False, index=True)
    status_from = Column(String(20))
    status_to = Column(String(20), nullable=False)
    author = Column(String(100), nullable=False, default="bot")
    note = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False, default=utcnow)

    ticket = relationship("Ticket", back_populates="events")


class TicketStepMark(Base):
    """A step of the category's action script (scripts/<category>.yml) ticked, or unticked, on a ticket."""

    __tablename__ = "ticket_step_marks"
    __table_args__ = (UniqueConstraint("ticket_id", "step", name="uq_ticket_step_marks_step"),)

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id"), nullable=False, index=True)
    step = Column(String(60), nullable=False)  # the step's id in the script file
    done = Column(Boolean, nullable=False)
    author = Column(String(100), nullable=False)  # the staff member who last ticked or unticked it
    updated_at = Column(DateTime, nullable=False, default=utcnow)


class FaqEvent(Base):
    """What editors learn from: questions with no answer, and answers rated 👍 or 👎."""

    __tablename__ = "faq_events"

    id = Column(Integer, primary_key=True)
    kind = Column(String(20), nullable=False, index=True)  # unanswered | helpful | not_helpful
    faq_id = Column(String(100), index=True)
    question = Column(Text, nullable=False, default="")
    language = Column(String(5), nullable=False, default="vi")
    sender_id = Column(String(200))
    created_at = Column(DateTime, nullable=False, default=utcnow)


class FaqRevision(Base):
    """One save of an FAQ entry from the desk or the staff API: who, when, and the entry before and after.

    The YAML files in faq/ stay the source of truth; this is their edit log, from which an
    earlier version can be restored. `before` is empty for a new entry, `after` for a retired one.
    """

    __tablename__ = "faq_revisions"

    id = Column(Integer, primary_key=True)
    faq_id = Column(String(100), nullable=False, index=True)
    action = Column(String(20), nullable=False)  # create | update | retire | restore
    author = Column(String(100), nullable=False)
    before = Column(Text)  # JSON: {"topic": file stem, "entry": {...}}
    after = Column(Text)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class Message(Base):
    """The transcript: every message of a conversation, both directions, with its author."""

    __tablename__ = "messages"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False, index=True)
    author_type = Column(String(20), nullable=False)  # customer | bot | staff | system
    author_name = Column(String(100))
    text = Column(Text, nullable=False, default="")
    data = Column(Text)  # JSON: buttons and other parts of a bot message
    created_at = Column(DateTime, nullable=False, default=utcnow)


class Staff(Base):
    __tablename__ = "staff"

    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False, unique=True)
    display_name = Column(String(200), nullable=False)
    password_hash = Column(String(300), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    # Set with `python -m bot staff link-telegram`: who may answer customers from the staff group.
    telegram_user_id = Column(String(40), unique=True, index=True)
    # Set by `python -m bot staff disable`: the account stays (names in tickets and ratings still resolve)
    # but cannot log in, use a token or act from the Telegram staff group.
    disabled_at = Column(DateTime)
    # What the person may do, comma-separated: agent (chats, tickets), editor (the FAQ), admin (everything,
    # staff accounts too). bot/services/roles.py holds the rules; 0013 made every earlier account an agent.
    roles = Column(String(100), nullable=False, default="agent", server_default="agent")
    # Routing (bot/services/routing.py). Skills are comma-separated; empty means any: categories
    # (bot/categories.py), languages (vi, en), channels (web, telegram, rest).
    skill_categories = Column(String(300), nullable=False, default="", server_default="")
    skill_languages = Column(String(100), nullable=False, default="", server_default="")
    skill_channels = Column(String(100), nullable=False, default="", server_default="")
    capacity = Column(Integer, nullable=False, default=3, server_default="3")  # chats at once
    # What the person chose: online | away | offline. Online counts only while they were seen lately.
    availability = Column(String(10), nullable=False, default="online", server_default="online")
    seen_at = Column(DateTime)  # last use of the desk, the API or the Telegram staff group
    last_assigned_at = Column(DateTime)  # ties in routing go to whoever waited longest since


class StaffToken(Base):
    """API tokens; only a hash is stored, the token itself is shown once."""

    __tablename__ = "staff_tokens"

    id = Column(Integer, primary_key=True)
    staff_id = Column(Integer, ForeignKey("staff.id"), nullable=False)
    token_hash = Column(String(64), nullable=False, unique=True)
    # "api": a bearer token from `python -m bot staff token`; "session": a desk login.
    kind = Column(String(10), nullable=False, default="api", server_default="api")
    # A session's moves on with each use (idle expiry); an API token's is fixed when issued (None: never).
    expires_at = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_used_at = Column(DateTime)

    staff = relationship("Staff")


class LoginFailure(Base):
    """A wrong name or password at the desk login, kept for the throttle's window.

    In the database rather than in memory so that several gateway instances, and restarts,
    share one count per account and per address.
    """

    __tablename__ = "login_failures"

    id = Column(Integer, primary_key=True)
    account = Column(String(100), nullable=False, index=True)  # the name typed, whether or not it exists
    address = Column(String(64), nullable=False, index=True)
    # Set when the account's owner then logs in: no longer counts against the account, still against the address.
    forgiven = Column(Boolean, nullable=False, default=False, server_default=false())
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class Rating(Base):
    """Customer satisfaction (CSAT, 1-5) asked when a person hands the chat back to the bot."""

    __tablename__ = "ratings"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(200), nullable=False, index=True)
    score = Column(Integer, nullable=False)
    agent = Column(String(100))
    created_at = Column(DateTime, nullable=False, default=utcnow)


class SurveyAnswer(Base):
    """NPS or CES: one row per time it was asked; `score` and `answered_at` once the customer answered."""

    __tablename__ = "survey_answers"

    id = Column(Integer, primary_key=True)
    kind = Column(String(10), nullable=False)  # "nps" (0-10) or "ces" (1-5)
    sender_id = Column(String(200), nullable=False, index=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), index=True)  # "once per customer" when known
    ticket_code = Column(String(30))  # NPS: the resolved complaint it followed
    score = Column(Integer)
    asked_at = Column(DateTime, nullable=False, default=utcnow)
    answered_at = Column(DateTime, index=True)


class OwnershipEvent(Base):
    """A change of who owns a conversation: when it was queued, claimed and handed back (for the KPIs)."""

    __tablename__ = "ownership_events"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False, index=True)
    owner_from = Column(String(20), nullable=False)
    owner_to = Column(String(20), nullable=False)
    agent = Column(String(100))
    # Why: "skill damaged+vi, 1/3 chats", "claimed", "assigned by lan"... (shown in the desk's transcript too).
    reason = Column(String(300))
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class TelegramCard(Base):
    """A handoff card posted in the Telegram staff group: a reply to it goes to this conversation."""

    __tablename__ = "telegram_cards"

    id = Column(Integer, primary_key=True)
    chat_id = Column(String(40), nullable=False)
    message_id = Column(Integer)  # known once Telegram accepted the card
    sender_id = Column(String(200), nullable=False)
    kind = Column(String(20), nullable=False)  # queued | handoff | urgent | ack_due
    created_at = Column(DateTime, nullable=False, default=utcnow)


class TelegramAnnouncement(Base):
    """What the staff group was already told about (each handoff, urgent ticket, deadline once)."""

    __tablename__ = "telegram_announcements"

    key = Column(String(250), primary_key=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class TelegramUpdate(Base):
    """Updates claimed for handling: Telegram re-sends an update when its offset was not confirmed.

    done_at stays empty until the reply is queued: a claim without it belongs to a gateway that died
    while handling the update, and the next gateway to receive the update takes it over.
    """

    __tablename__ = "telegram_updates"

    update_id = Column(BigInteger, primary_key=True, autoincrement=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)  # claimed at (taken over at)
    done_at = Column(DateTime)


class TelegramCallback(Base):
    """Button payloads too long for Telegram's 64-byte callback data, by their short key."""

    __tablename__ = "telegram_callbacks"

    key = Column(String(40), primary_key=True)
    payload = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class TelegramOutgoing(Base):
    """A send to Telegram that must survive an outage and a restart (the durable outbox).

    Rows of one chat go out in id order; a lease (claimed_by/claimed_until) lets several
    gateways share the table without sending a row twice.
    """

    __tablename__ = "telegram_outbox"

    id = Column(Integer, primary_key=True)
    chat_id = Column(BigInteger, nullable=False)
    method = Column(String(40), nullable=False)  # a python-telegram-bot Bot method, e.g. send_message
    params = Column(Text, nullable=False)  # its keyword arguments (but chat_id) as Bot API JSON
    what = Column(String(40), nullable=False, default="message")  # for logs: never the text itself
    card_id = Column(Integer, ForeignKey("telegram_cards.id"))  # once sent: the card's message id is recorded
    status = Column(String(10), nullable=False, default="pending")  # pending | sent | failed
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
    claimed_by = Column(String(80))
    claimed_until = Column(DateTime)
    last_error = Column(String(200))
    message_id = Column(BigInteger)  # what Telegram returned
    created_at = Column(DateTime, nullable=False, default=utcnow)
    sent_at = Column(DateTime)
