"""The conversation row every other record hangs off, created on first use by whichever process sees it first."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import Conversation


def get_or_create_conversation(session: Session, sender_id: str, channel: str, language: str) -> Conversation:
    conversation = session.execute(
        select(Conversation).where(Conversation.sender_id == sender_id)
    ).scalars().first()
    if conversation is None:
        conversation = Conversation(sender_id=sender_id, channel=channel, language=language)
        session.add(conversation)
        try:
            session.flush()
        except IntegrityError:  # created concurrently by another worker
            session.rollback()
            conversation = session.execute(
                select(Conversation).where(Conversation.sender_id == sender_id)
            ).scalars().one()
    return conversation
