"""NPS and CES: when to ask them, storing the answers, and their figures.

- NPS (Net Promoter Score): "how likely are you to recommend the shop to a
  friend, 0-10", asked after a complaint was resolved, at most once per
  customer per HOTRO_NPS_PERIOD_DAYS. NPS = % promoters (9-10) - % detractors
  (0-6), from -100 to +100; 7-8 are passives and count only in the total.
- CES (Customer Effort Score): "how easy was it to get your issue handled,
  1-5" (5 = very easy), asked when the bot alone solved something (an FAQ
  answer the customer marked helpful, in a chat no person had to join), at
  most once per customer per HOTRO_CES_PERIOD_DAYS. Shown as the average and
  the share of easy answers (4-5).

"Customer" is the shop's customer record when the chat is linked to one (the
same person on the website and Telegram), else the chat. A question asked and
not answered still counts for the period: the customer chose not to answer,
and asking again tomorrow would be pestering. A period of 0 turns a survey off.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import or_, select
from sqlalchemy.orm import sessionmaker

from bot.parsers import format_ticket_code
from bot.store.db import session_scope
from bot.store.models import Conversation, OwnershipEvent, SurveyAnswer, Ticket, utcnow

SCALES = {"nps": (0, 10), "ces": (1, 5)}
PROMOTER, DETRACTOR_MAX = 9, 6  # NPS: 9-10 promote, 0-6 detract
EASY = 4  # CES: 4-5 is easy
ANSWER_WINDOW = timedelta(days=1)  # an answer belongs to a question asked this recently
RESOLVED = ("resolved", "closed")


class SurveyError(ValueError):
    pass


@dataclass(frozen=True)
class SurveyFigures:
    """Answers in a period: NPS or CES, with the counts a manager can check by hand."""

    answers: int = 0
    asked: int = 0
    score: Optional[float] = None  # NPS -100..100, CES average 1..5
    high: int = 0  # promoters / easy (4-5)
    low: int = 0  # detractors / hard (1-2)

    @property
    def response_rate(self) -> Optional[float]:
        return round(self.answers / self.asked, 3) if self.asked else None


def nps(scores: Sequence[int]) -> Optional[float]:
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= PROMOTER)
    detractors = sum(1 for s in scores if s <= DETRACTOR_MAX)
    return round(100 * (promoters - detractors) / len(scores), 1)


def ces(scores: Sequence[int]) -> Optional[float]:
    return round(sum(scores) / len(scores), 2) if scores else None


def figures(kind: str, scores: Sequence[int], asked: int) -> SurveyFigures:
    if kind == "nps":
        return SurveyFigures(len(scores), asked, nps(scores), sum(1 for s in scores if s >= PROMOTER),
                             sum(1 for s in scores if s <= DETRACTOR_MAX))
    return SurveyFigures(len(scores), asked, ces(scores), sum(1 for s in scores if s >= EASY),
                         sum(1 for s in scores if s <= 2))


class SurveyService:
    def __init__(self, factory: sessionmaker, nps_period_days: int = 90, ces_period_days: int = 30,
                 clock: Callable[[], datetime] = utcnow):
        self._factory = factory
        self._periods = {"nps": nps_period_days, "ces": ces_period_days}
        self._clock = clock

    # -- when to ask -------------------------------------------------------------------------

    def nps_due(self, sender_id: str) -> Optional[str]:
        """The code of the complaint resolved lately to ask NPS after; None: nothing resolved lately, or asked lately."""
        with session_scope(self._factory) as session:
            who = _who(session, sender_id)
            if not self._may_ask(session, "nps", sender_id, who):
                return None
            # A complaint resolved within the period: one settled a year ago is no longer what they would judge.
            tickets = select(Ticket.id).where(
                Ticket.status.in_(RESOLVED),
                Ticket.resolved_at >= self._clock() - timedelta(days=self._periods["nps"]))
            if who is not None:
                tickets = tickets.where(Ticket.customer_id == who)
            else:
                tickets = tickets.join(Conversation, Ticket.conversation_id == Conversation.id).where(
                    Conversation.sender_id == sender_id)
            ticket_id = session.execute(tickets.order_by(Ticket.resolved_at.desc()).limit(1)).scalar()
            return format_ticket_code(ticket_id) if ticket_id else None

    def ces_due(self, sender_id: str) -> bool:
        """The bot alone handled this chat today (no person was asked to join) and CES was not asked recently."""
        with session_scope(self._factory) as session:
            if not self._may_ask(session, "ces", sender_id, _who(session, sender_id)):
                return False
            handed = session.execute(
                select(OwnershipEvent.id).join(Conversation, OwnershipEvent.conversation_id == Conversation.id)
                .where(Conversation.sender_id == sender_id, OwnershipEvent.owner_to.in_(("queued", "agent")),
                       OwnershipEvent.created_at >= self._clock() - ANSWER_WINDOW).limit(1)
            ).first()
            return handed is None

    def _may_ask(self, session, kind: str, sender_id: str, who: Optional[int]) -> bool:
        days = self._periods[kind]
        if days <= 0:
            return False
        asked = select(SurveyAnswer.id).where(SurveyAnswer.kind == kind,
                                              SurveyAnswer.asked_at >= self._clock() - timedelta(days=days))
        mine = SurveyAnswer.sender_id == sender_id
        asked = asked.where(or_(mine, SurveyAnswer.customer_id == who) if who is not None else mine)
        return session.execute(asked.limit(1)).first() is None

    # -- asking and answering ----------------------------------------------------------------

    def asked(self, kind: str, sender_id: str, ticket_code: Optional[str] = None) -> None:
        _scale(kind)
        with session_scope(self._factory) as session:
            session.add(SurveyAnswer(kind=kind, sender_id=sender_id, customer_id=_who(session, sender_id),
                                     ticket_code=ticket_code, asked_at=self._clock()))

    def answer(self, kind: str, sender_id: str, score: int) -> None:
        """Store the answer on the question asked in this chat (a second answer corrects the first)."""
        low, high = _scale(kind)
        if not low <= int(score) <= high:
            raise SurveyError(f"{kind.upper()} is {low} to {high}")
        now = self._clock()
        with session_scope(self._factory) as session:
            row = session.execute(
                select(SurveyAnswer).where(SurveyAnswer.kind == kind, SurveyAnswer.sender_id == sender_id,
                                           SurveyAnswer.asked_at >= now - ANSWER_WINDOW)
                .order_by(SurveyAnswer.asked_at.desc(), SurveyAnswer.id.desc()).limit(1)
            ).scalar()
            if row is None:  # pressed a button from an old message: still the customer's word
                row = SurveyAnswer(kind=kind, sender_id=sender_id, customer_id=_who(session, sender_id), asked_at=now)
                session.add(row)
            row.score, row.answered_at = int(score), now

    # -- figures -----------------------------------------------------------------------------

    def answers(self, kind: str, start: datetime, end: datetime) -> List[Tuple[datetime, int]]:
        with session_scope(self._factory) as session:
            return [tuple(r) for r in session.execute(
                select(SurveyAnswer.answered_at, SurveyAnswer.score).where(
                    SurveyAnswer.kind == kind, SurveyAnswer.answered_at >= start, SurveyAnswer.answered_at < end)
                .order_by(SurveyAnswer.answered_at)
            )]

    def report(self, start: datetime, end: datetime) -> Dict[str, SurveyFigures]:
        result = {}
        with session_scope(self._factory) as session:
            for kind in SCALES:
                asked = session.execute(select(SurveyAnswer.id).where(
                    SurveyAnswer.kind == kind, SurveyAnswer.asked_at >= start, SurveyAnswer.asked_at < end)).all()
                scores = [s for _, s in self.answers(kind, start, end)]
                result[kind] = figures(kind, scores, len(asked))
        return result


def _scale(kind: str) -> Tuple[int, int]:
    try:
        return SCALES[kind]
    except KeyError:
        raise SurveyError(f"no survey {kind!r} (nps or ces)") from None


def _who(session, sender_id: str) -> Optional[int]:
    return session.execute(select(Conversation.customer_id).where(Conversation.sender_id == sender_id)).scalar()
