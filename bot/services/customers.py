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

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.parsers import normalize_contact, parse_contact
from bot.services.tickets import TicketView, _view, get_or_create_conversation
from bot.store.db import session_scope
from bot.store.models import Conversation, Customer, Order, Ticket


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


def link_telegram_user(factory: sessionmaker, sender_id: str, telegram_user_id: int, name: str,
                       channel: str = "telegram", language: str = "vi") -> int:
    """The customer id for this Telegram user (created if new), linked to the conversation."""
    with session_scope(factory) as session:
        conversation = get_or_create_conversation(session, sender_id, channel, language)
        customer = session.execute(
            select(Customer).where(Customer.telegram_user_id == str(telegram_user_id)).order_by(Customer.id).limit(1)
        ).scalars().first()
        if customer is None:
            customer = Customer(name=(name or "")[:200], telegram_user_id=str(telegram_user_id))
            session.add(customer)
            session.flush()
        if conversation.customer_id != customer.id:
            conversation.customer_id = customer.id
        return customer.id


def attach_contact(session: Session, conversation: Conversation, contact: Optional[str]) -> Optional[int]:
    """Fold the conversation's Telegram customer into the customer with the same phone/email.

    Returns the customer id the conversation now belongs to. Customers without a
    Telegram id are left alone: only the Telegram record, which knows nothing but
    the Telegram user, is merged away.
    """
    customer: Optional[Customer] = conversation.customer
    parsed = parse_contact(contact)
    if customer is None or parsed is None or not customer.telegram_user_id:
        return conversation.customer_id
    field = Customer.phone if parsed.kind == "phone" else Customer.email
    match = session.execute(
        select(Customer).where(field == parsed.value, Customer.id != customer.id).order_by(Customer.id).limit(1)
    ).scalars().first()
    if match is None:
        # Nobody has it yet: it becomes this customer's own.
        if parsed.kind == "phone" and not customer.phone:
            customer.phone = parsed.value
        elif parsed.kind == "email" and not customer.email:
            customer.email = parsed.value
        return customer.id
    if not match.telegram_user_id:
        match.telegram_user_id = customer.telegram_user_id
    session.execute(update(Conversation).where(Conversation.customer_id == customer.id).values(customer_id=match.id))
    session.execute(update(Ticket).where(Ticket.customer_id == customer.id).values(customer_id=match.id))
    conversation.customer_id = match.id
    session.flush()
    has_orders = session.execute(select(Order.id).where(Order.customer_id == customer.id).limit(1)).first()
    if not has_orders and not customer.phone and not customer.email:
        session.delete(customer)
    else:
        customer.telegram_user_id = None if match.telegram_user_id == customer.telegram_user_id else customer.telegram_user_id
    session.flush()
    return match.id


def customer_for_telegram_user(factory: sessionmaker, telegram_user_id: int) -> Optional[Customer]:
    with session_scope(factory) as session:
        return session.execute(
            select(Customer).where(Customer.telegram_user_id == str(telegram_user_id)).limit(1)
        ).scalars().first()

