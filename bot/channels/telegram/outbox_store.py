"""The durable outbox's table: pending sends to Telegram, claimed one at a time under a lease.

Synchronous (SQLAlchemy); the outbox calls it through asyncio.to_thread.

Several gateways may share the database. A row is sent only by the gateway whose
conditional UPDATE claimed it (the database serialises the UPDATEs, the row count
says who won), and only while it is its chat's oldest pending row, so a chat's
later message waits for its earlier one whichever gateway sends them. Times come
from the callers' clock; the lease is long enough to absorb a little clock skew
between hosts.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import sessionmaker

from bot.store.db import session_scope
from bot.store.models import TelegramCard, TelegramOutgoing

PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True)
class Job:
    """A claimed row: what to call, and what to do after."""

    id: int
    chat_id: int
    method: str
    params: Dict[str, Any]
    what: str
    attempts: int  # including the one about to be made
    created_at: datetime


class OutboxStore:
    def __init__(self, factory: sessionmaker):
        self._factory = factory

    def add(self, chat_id: int, method: str, params: Dict[str, Any], what: str, card_id: Optional[int],
            now: datetime) -> int:
        with session_scope(self._factory) as session:
            row = TelegramOutgoing(chat_id=chat_id, method=method, params=json.dumps(params, ensure_ascii=False),
                                   what=what[:40], card_id=card_id, status=PENDING, attempts=0,
                                   next_attempt_at=now, created_at=now)
            session.add(row)
            session.flush()
            return row.id

    def claim_next(self, chat_id: int, owner: str, now: datetime, lease: timedelta) -> Optional[Job]:
        """The chat's oldest pending row, claimed by `owner`; None when it is not due or someone else holds it."""
        with session_scope(self._factory) as session:
            head = session.execute(
                select(TelegramOutgoing).where(TelegramOutgoing.chat_id == chat_id, TelegramOutgoing.status == PENDING)
                .order_by(TelegramOutgoing.id).limit(1)
            ).scalars().first()
            if head is None or head.next_attempt_at > now:
                return None
            claimed = session.execute(
                update(TelegramOutgoing)
                .where(TelegramOutgoing.id == head.id, TelegramOutgoing.status == PENDING, _free(now))
                .values(claimed_by=owner, claimed_until=now + lease, attempts=TelegramOutgoing.attempts + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                return None
            return Job(head.id, head.chat_id, head.method, json.loads(head.params), head.what, head.attempts + 1,
                       head.created_at)

    def mark_sent(self, job_id: int, owner: str, now: datetime, message_id: Optional[int]) -> bool:
        """Done; a card gets its message id in the same transaction, so a reply to the card finds its customer."""
        with session_scope(self._factory) as session:
            row = session.get(TelegramOutgoing, job_id)
            if row is None or row.claimed_by != owner:
                return False
            row.status, row.sent_at, row.message_id = SENT, now, message_id
            row.claimed_by = row.claimed_until = None
            if row.card_id is not None and message_id is not None:
                card = session.get(TelegramCard, row.card_id)
                if card is not None:
                    card.message_id = message_id
            return True

    def retry_later(self, job_id: int, owner: str, when: datetime, error: str) -> None:
        # The lease is given up: whichever gateway is free when the row is due may take it.
        self._finish(job_id, owner, status=PENDING, next_attempt_at=when, last_error=error[:200])

    def mark_failed(self, job_id: int, owner: str, error: str) -> None:
        self._finish(job_id, owner, status=FAILED, last_error=error[:200])

    def _finish(self, job_id: int, owner: str, **values) -> None:
        with session_scope(self._factory) as session:
            session.execute(
                update(TelegramOutgoing)
                .where(TelegramOutgoing.id == job_id, TelegramOutgoing.claimed_by == owner)
                .values(claimed_by=None, claimed_until=None, **values)
                .execution_options(synchronize_session=False)
            )

    def release(self, owner: str) -> None:
        """A gateway stopping hands its claimed rows back, so another one (or its restart) needs no lease expiry."""
        with session_scope(self._factory) as session:
            session.execute(
                update(TelegramOutgoing).where(TelegramOutgoing.claimed_by == owner, TelegramOutgoing.status == PENDING)
                .values(claimed_by=None, claimed_until=None).execution_options(synchronize_session=False)
            )

    def lease_holders(self, now: datetime) -> List[str]:
        """Who holds a lease on a pending row right now."""
        with session_scope(self._factory) as session:
            return list(session.execute(
                select(TelegramOutgoing.claimed_by).distinct()
                .where(TelegramOutgoing.status == PENDING, TelegramOutgoing.claimed_until >= now)
            ).scalars())

    def due_chats(self, now: datetime, limit: int = 1000) -> List[int]:
        """Chats whose oldest pending row is due and not claimed (after a restart, or left by another gateway)."""
        heads = (select(TelegramOutgoing.chat_id, func.min(TelegramOutgoing.id).label("head_id"))
                 .where(TelegramOutgoing.status == PENDING).group_by(TelegramOutgoing.chat_id).subquery())
        with session_scope(self._factory) as session:
            return list(session.execute(
                select(TelegramOutgoing.chat_id)
                .join(heads, TelegramOutgoing.id == heads.c.head_id)
                .where(TelegramOutgoing.next_attempt_at <= now, _free(now))
                .order_by(TelegramOutgoing.id).limit(limit)
            ).scalars())

    def forget_sent(self, now: datetime, days: int = 7) -> None:
        # Failed rows stay: they are what someone looks at after an incident.
        with session_scope(self._factory) as session:
            session.execute(delete(TelegramOutgoing).where(
                TelegramOutgoing.status == SENT, TelegramOutgoing.sent_at < now - timedelta(days=days)))


def _free(now: datetime):
    return or_(TelegramOutgoing.claimed_until.is_(None), TelegramOutgoing.claimed_until < now)

