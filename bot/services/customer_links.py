"""Linking a conversation to a customer record: a Telegram user on first sight, a known customer by phone or email.

Used by the ticket service (a contact given in a complaint) and the Telegram
channel; kept apart from the customer history so neither service imports the other.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.parsers import parse_contact
from bot.store.conversations import get_or_create_conversation
from bot.store.db import session_scope
from bot.store.models import Conversation, Customer, Order, Ticket


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
