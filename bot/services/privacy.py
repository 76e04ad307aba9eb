"""Erasing a customer's personal data on request (Decree 13/2023/NĐ-CP gives them that right).

The customer is found by a phone number, an email, a ticket code or a
conversation id, and widened like the desk's 360° view (bot/services/customers.py):
every conversation and ticket of the same person on every channel. What they
wrote and what was written to them becomes ERASED; contacts, names and Telegram
ids are removed. The tickets themselves stay, with their category, priority and
times, so the shop's figures (KPIs, ticket volume) do not change; orders stay
too, since the shop must keep them for its accounts, but no longer lead to a
phone or an email.

Files the customer uploaded from the website are deleted from the upload folder.

Rasa keeps its own copy of each conversation (the tracker, slots included):
`erase_rasa_history` deletes it from the PostgreSQL tracker store in production,
or replaces it with an empty history in a running Rasa's memory.
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Mapping, Optional, Sequence, Union
from urllib.parse import quote

from sqlalchemy import bindparam, create_engine, delete, select, text, update
from sqlalchemy.orm import sessionmaker

from bot.parsers import normalize_contact, parse_ticket_code, ticket_id_from_code
from bot.services.customers import CustomerService
from bot.services.uploads import UploadStore, is_upload_id
from bot.store.db import session_scope
from bot.store.models import (
    Conversation, Customer, FaqEvent, Message, TelegramCard, TelegramOutgoing, Ticket, TicketEvent,
)

logger = logging.getLogger(__name__)

ERASED = "[đã xoá theo yêu cầu của khách / erased at the customer's request]"


@dataclass(frozen=True)
class Erasure:
    """What belongs to the person, and so what `erase` changes."""

    sender_ids: List[str]
    ticket_codes: List[str]
    customer_ids: List[int]
    messages: int
    uploads: List[str] = field(default_factory=list)  # ids of the files they uploaded (bot/services/uploads.py)


class PrivacyService:
    def __init__(self, factory: sessionmaker, upload_dir: Optional[Path] = None):
        from bot.config import Settings

        self._factory = factory
        self._uploads = UploadStore(upload_dir or Settings.from_env().upload_dir)

    def find(self, who: str) -> Optional[Erasure]:
        """Everything of the person `who` points to; None when nothing matches."""
        sender = self._a_conversation_of(who.strip())
        if sender is None:
            return None
        history = CustomerService(self._factory).history(sender)
        senders = [c.id for c in history.conversations]
        with session_scope(self._factory) as session:
            messages = session.execute(
                select(Message.data).join(Conversation).where(Conversation.sender_id.in_(senders))
            ).scalars().all()
        return Erasure(senders, [t.code for t in history.tickets], [c.id for c in history.customers], len(messages),
                       [upload for upload in map(_upload_id, messages) if upload])

    def erase(self, erasure: Erasure) -> None:
        ticket_ids = [i for i in (ticket_id_from_code(code) for code in erasure.ticket_codes) if i]
        with session_scope(self._factory) as session:
            conversation_ids = session.execute(
                select(Conversation.id).where(Conversation.sender_id.in_(erasure.sender_ids))
            ).scalars().all()
            session.execute(update(Message).where(Message.conversation_id.in_(conversation_ids))
                            .values(text=ERASED, data=None).execution_options(synchronize_session=False))
            session.execute(update(Ticket).where(Ticket.id.in_(ticket_ids))
                            .values(description=ERASED, contact=None).execution_options(synchronize_session=False))
            # Staff notes on a ticket are shown to the customer as updates and may repeat their details.
            session.execute(update(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.note != "")
                            .values(note=ERASED).execution_options(synchronize_session=False))
            session.execute(update(Customer).where(Customer.id.in_(erasure.customer_ids))
                            .values(name="", phone=None, email=None, telegram_user_id=None)
                            .execution_options(synchronize_session=False))
            session.execute(update(FaqEvent).where(FaqEvent.sender_id.in_(erasure.sender_ids))
                            .values(question=ERASED, sender_id=None).execution_options(synchronize_session=False))
            chats = [int(s[3:]) for s in erasure.sender_ids if s.startswith("tg-") and s[3:].lstrip("-").isdigit()]
            if chats:  # messages waiting for Telegram hold their text
                session.execute(delete(TelegramOutgoing).where(TelegramOutgoing.chat_id.in_(chats)))
            session.execute(delete(TelegramCard).where(TelegramCard.sender_id.in_(erasure.sender_ids)))
        # After the commit: were it to fail, the transcript would still point at files that are gone.
        removed = self._uploads.delete(erasure.uploads)
        logger.info("erased the personal data of %d conversation(s), %d ticket(s) and %d uploaded file(s) on request",
                    len(erasure.sender_ids), len(ticket_ids), removed)

    def _a_conversation_of(self, who: str) -> Optional[str]:
        with session_scope(self._factory) as session:
            if session.execute(select(Conversation.id).where(Conversation.sender_id == who)).first():
                return who
            code = parse_ticket_code(who) if "@" not in who else None
            ticket_id = ticket_id_from_code(code) if code else None
            contact = normalize_contact(who)
            query = None
            if ticket_id:
                query = select(Conversation.sender_id).join(Ticket).where(Ticket.id == ticket_id)
            elif contact:
                query = select(Conversation.sender_id).join(Ticket).where(Ticket.contact == contact)
                found = session.execute(query.limit(1)).scalar_one_or_none()
                if found:
                    return found
                query = (select(Conversation.sender_id).join(Customer, Conversation.customer_id == Customer.id)
                         .where((Customer.phone == contact) | (Customer.email == contact)))
            if query is None:
                return None
            return session.execute(query.limit(1)).scalar_one_or_none()


def _upload_id(data: Optional[str]) -> Optional[str]:
    """The uploaded file a transcript line's data points to, if any."""
    try:
        attachment = (json.loads(data) if data else {}).get("attachment")
    except (ValueError, AttributeError):
        return None
    upload = attachment.get("upload_id") if isinstance(attachment, dict) else None
    return upload if is_upload_id(upload) else None


def erase_rasa_history(sender_ids: Sequence[str], tracker_store_url: Optional[str], rasa_url: Union[str, Sequence[str]],
                       rasa_token: str = "") -> str:
    """Remove Rasa's copy of the conversations; a sentence saying what happened, for the operator.

    `rasa_url`: one Rasa or the instances; each conversation is erased where the gateway sends it."""
    from bot.rasa_instances import instance_for, url_list

    urls = url_list(rasa_url)
    if not sender_ids:
        return "Rasa: nothing to erase"
    if tracker_store_url:
        engine = create_engine(tracker_store_url, future=True)
        try:
            with engine.begin() as connection:
                # Rasa's SQLTrackerStore keeps one row per event in `events`, keyed by sender_id.
                statement = text("DELETE FROM events WHERE sender_id IN :ids").bindparams(
                    bindparam("ids", expanding=True))
                deleted = connection.execute(statement, {"ids": list(sender_ids)}).rowcount
        finally:
            engine.dispose()
        return f"Rasa: deleted {deleted} tracker events from the tracker store"
    erased = 0
    for sender in sender_ids:
        url = f"{instance_for(urls, sender).rstrip('/')}/conversations/{quote(sender, safe='')}/tracker/events"
        if rasa_token:
            url += "?token=" + quote(rasa_token)
        request = urllib.request.Request(url, data=json.dumps([]).encode(), method="PUT",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10):
                erased += 1
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                return "Rasa refused the request: set RASA_TOKEN (it is in .env) and run the command again"
            return f"Rasa answered {exc.code}: its copy of the conversations was not erased"
        except OSError:
            return ("Rasa is not running: it keeps conversations in memory only, so its copy is gone "
                    "when it starts again")
    return f"Rasa: emptied the history of {erased} conversation(s) in the running server"


def rasa_settings(env: Mapping[str, str]) -> tuple:
    """(tracker store URL or None, Rasa URLs, token), from the settings (`python -m bot` has loaded .env)."""
    from bot.rasa_endpoints import tracker_store_url
    from bot.rasa_instances import rasa_urls

    return tracker_store_url(env), rasa_urls(env, local_processes=True), env.get("RASA_TOKEN", "")
