"""Who the customer behind a conversation is, across channels, and everything they had with the shop.

A customer is recognised by the customer record a conversation or ticket is
linked to (an order verified in the complaint form, a Telegram user id), and
by the phone or email they gave on any ticket. Conversations and tickets that
share any of these belong to the same person, whatever the channel (the 360°
view staff see in the desk).

A Telegram user gets a customer record on their first message (keyed by their
Telegram user id). When they later give a phone or email that an existing
customer already has, the Telegram record is folded into that customer.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional, Set

from sqlalchemy import or_, select
from sqlalchemy.orm import sessionmaker

from bot.parsers import normalize_contact
from bot.services.tickets import TicketView, _view
from bot.store.db import session_scope
from bot.store.models import Conversation, Customer, Ticket


@dataclass(frozen=True)
class CustomerView:
    id: int
    name: str
    phone: Optional[str]
    email: Optional[str]
    telegram_user_id: Optional[str]


@dataclass(frozen=True)
class ConversationRef:
    id: str
    channel: str
    owner: str
    created_at: datetime


@dataclass(frozen=True)
class CustomerHistory:
    customers: List[CustomerView]
    contacts: List[str]
    conversations: List[ConversationRef]  # every conversation of this customer, this one included
    tickets: List[TicketView]  # newest first


class CustomerService:
    def __init__(self, factory: sessionmaker):
        self._factory = factory

    def history(self, sender_id: str) -> Optional[CustomerHistory]:
        """None when there is no such conversation."""
        with session_scope(self._factory) as session:
            conversation = session.execute(
                select(Conversation).where(Conversation.sender_id == sender_id)
            ).scalars().first()
            if conversation is None:
                return None
            customer_ids: Set[int] = {conversation.customer_id} if conversation.customer_id else set()
            contacts: Set[str] = set()
            conversation_ids: Set[int] = {conversation.id}
            # Widen until nothing new turns up: a ticket's phone can lead to a customer record,
            # whose email leads to a ticket from another channel, and so on.
            for _ in range(4):
                before = (len(customer_ids), len(contacts), len(conversation_ids))
                tickets = self._tickets(session, customer_ids, contacts, conversation_ids)
                for ticket in tickets:
                    conversation_ids.add(ticket.conversation_id)
                    if ticket.customer_id:
                        customer_ids.add(ticket.customer_id)
                    contact = normalize_contact(ticket.contact)
                    if contact:
                        contacts.add(contact)
                customers = self._customers(session, customer_ids, contacts)
                for customer in customers:
                    customer_ids.add(customer.id)
                    contacts.update(c for c in (normalize_contact(customer.phone), normalize_contact(customer.email)) if c)
                if customer_ids:
                    conversation_ids.update(session.execute(
                        select(Conversation.id).where(Conversation.customer_id.in_(customer_ids))
                    ).scalars())
                if (len(customer_ids), len(contacts), len(conversation_ids)) == before:
                    break
            tickets = self._tickets(session, customer_ids, contacts, conversation_ids)
            conversations = session.execute(
                select(Conversation).where(Conversation.id.in_(conversation_ids)).order_by(Conversation.created_at.desc())
            ).scalars()
            return CustomerHistory(
                customers=[
                    CustomerView(c.id, c.name, c.phone, c.email, c.telegram_user_id)
                    for c in self._customers(session, customer_ids, contacts)
                ],
                contacts=sorted(contacts),
                conversations=[ConversationRef(c.sender_id, c.channel, c.owner, c.created_at) for c in conversations],
                tickets=[_view(t) for t in sorted(tickets, key=lambda t: t.id, reverse=True)],
            )

    @staticmethod
    def _tickets(session, customer_ids: Set[int], contacts: Set[str], conversation_ids: Set[int]) -> List[Ticket]:
        conditions = [Ticket.conversation_id.in_(conversation_ids)]
        if customer_ids:
            conditions.append(Ticket.customer_id.in_(customer_ids))
        if contacts:
            conditions.append(Ticket.contact.in_(contacts))
        return list(session.execute(select(Ticket).where(or_(*conditions))).scalars())

    @staticmethod
    def _customers(session, customer_ids: Set[int], contacts: Set[str]) -> List[Customer]:
        conditions = []
        if customer_ids:
            conditions.append(Customer.id.in_(customer_ids))
        if contacts:
            conditions += [Customer.phone.in_(contacts), Customer.email.in_(contacts)]
        if not conditions:
            return []
        return list(session.execute(select(Customer).where(or_(*conditions)).order_by(Customer.id)).scalars())


def customer_for_telegram_user(factory: sessionmaker, telegram_user_id: int) -> Optional[Customer]:
    with session_scope(factory) as session:
        return session.execute(
            select(Customer).where(Customer.telegram_user_id == str(telegram_user_id)).limit(1)
        ).scalars().first()

