"""The support team's figures for a period: what the seeds ask a shop to measure.

Seed 004 sets the time standards (acknowledge a complaint within 24 hours,
resolve it within 48); seed 001 names the measures (ticket volume, first
response time, first contact resolution, average handling time, CSAT). Each
figure is computed from what the product already records: tickets with their
due times, the transcript, the ownership history (queued, claimed, handed back),
the customers' 1-5 ratings and the FAQ's 👍/👎.

Definitions, so that a manager can check them by hand:
- "on time": among the period's tickets whose deadline has passed or that met
  it, the share acknowledged (resolved) no later than the deadline. A ticket
  still inside its deadline counts for neither side yet. Time spent waiting
  for the customer (status waiting_customer) does not count against the
  resolution deadline.
- "resolved by the bot": conversations in which the customer wrote during the
  period and that were never handed to a person then (the chat equivalent of
  first contact resolution).
- "first response": from a conversation being handed to a person to the first
  message a staff member wrote in it.
- CSAT: the share of ratings that are 4 or 5.
- NPS and CES: bot/services/surveys.py (answers given in the period).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Dict, List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.services.sla import past_deadline, resolve_deadline, sla_clock
from bot.services.surveys import SurveyFigures, SurveyService
from bot.services.tickets import OPEN_STATUSES
from bot.store.db import session_scope
from bot.store.models import FaqEvent, Message, OwnershipEvent, Rating, Ticket, utcnow

HANDED_TO_PERSON = ("queued", "agent")
SATISFIED = 4  # a rating of 4 or 5 counts as satisfied


@dataclass(frozen=True)
class Durations:
    """How long something took, in minutes, over `count` cases."""

    count: int = 0
    median_minutes: Optional[float] = None
    p90_minutes: Optional[float] = None
    mean_minutes: Optional[float] = None

    @classmethod
    def of(cls, spans: Sequence[timedelta]) -> "Durations":
        if not spans:
            return cls()
        minutes = sorted(s.total_seconds() / 60 for s in spans)
        return cls(len(minutes), round(_percentile(minutes, 50), 1), round(_percentile(minutes, 90), 1),
                   round(sum(minutes) / len(minutes), 1))


@dataclass(frozen=True)
class OnTime:
    met: int = 0
    due: int = 0  # deadline passed, or met early

    @property
    def rate(self) -> Optional[float]:
        return round(self.met / self.due, 3) if self.due else None


@dataclass(frozen=True)
class TicketKpis:
    opened: int
    by_category: Dict[str, int]
    by_priority: Dict[str, int]
    by_channel: Dict[str, int]
    acknowledged_on_time: OnTime
    resolved_on_time: OnTime
    time_to_acknowledge: Durations
    time_to_resolve: Durations  # average handling time, over tickets resolved in the period
    open_overdue_now: int  # all open tickets past a deadline, whenever they were opened


@dataclass(frozen=True)
class ChatKpis:
    conversations: int  # the customer wrote during the period
    resolved_by_bot: int
    handed_to_person: int
    handoffs_unanswered: int  # handed over in the period, no staff message since
    waiting_for_person: Durations  # queued until a person claimed it
    first_response: Durations

    @property
    def resolved_by_bot_rate(self) -> Optional[float]:
        return round(self.resolved_by_bot / self.conversations, 3) if self.conversations else None


@dataclass(frozen=True)
class Satisfaction:
    ratings: int
    average: Optional[float]
    csat: Optional[float]  # share of ratings >= SATISFIED
    by_agent: Dict[str, Dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class FaqKpis:
    helpful: int
    not_helpful: int
    unanswered: int

    @property
    def helpful_rate(self) -> Optional[float]:
        votes = self.helpful + self.not_helpful
        return round(self.helpful / votes, 3) if votes else None


@dataclass(frozen=True)
class KpiReport:
    start: datetime
    end: datetime
    tickets: TicketKpis
    chats: ChatKpis
    satisfaction: Satisfaction
    faq: FaqKpis
    nps: SurveyFigures = SurveyFigures()
    ces: SurveyFigures = SurveyFigures()

    def as_dict(self) -> dict:
        data = asdict(self)
        data["start"], data["end"] = _iso(self.start), _iso(self.end)
        data["tickets"]["acknowledged_on_time"]["rate"] = self.tickets.acknowledged_on_time.rate
        data["tickets"]["resolved_on_time"]["rate"] = self.tickets.resolved_on_time.rate
        data["chats"]["resolved_by_bot_rate"] = self.chats.resolved_by_bot_rate
        data["faq"]["helpful_rate"] = self.faq.helpful_rate
        data["nps"]["response_rate"] = self.nps.response_rate
        data["ces"]["response_rate"] = self.ces.response_rate
        return data


class KpiService:
    def __init__(self, factory: sessionmaker, clock: Callable[[], datetime] = utcnow):
        self._factory = factory
        self._clock = clock
        self._surveys = SurveyService(factory, clock=clock)

    def report(self, start: datetime, end: Optional[datetime] = None) -> KpiReport:
        end = min(end or self._clock(), self._clock())
        if start >= end:
            raise ValueError("the period must start before it ends")
        surveys = self._surveys.report(start, end)
        with session_scope(self._factory) as session:
            return KpiReport(start, end, self._tickets(session, start, end), self._chats(session, start, end),
                             self._satisfaction(session, start, end), self._faq(session, start, end),
                             surveys["nps"], surveys["ces"])

    def last_days(self, days: int) -> KpiReport:
        if days < 1:
            raise ValueError("at least one day")
        now = self._clock()
        return self.report(now - timedelta(days=days), now)

    def _tickets(self, session, start: datetime, end: datetime) -> TicketKpis:
        now, clock = self._clock(), sla_clock()
        opened = session.execute(
            select(Ticket).where(Ticket.created_at >= start, Ticket.created_at < end)
        ).scalars().all()
        resolved = session.execute(
            select(Ticket.created_at, Ticket.resolved_at).where(Ticket.resolved_at >= start, Ticket.resolved_at < end)
        ).all()
        overdue = session.execute(
            select(Ticket.acknowledged_at, Ticket.acknowledge_due_at, Ticket.resolve_due_at, Ticket.sla_paused_at)
            .where(Ticket.status.in_(OPEN_STATUSES))
        ).all()
        return TicketKpis(
            opened=len(opened),
            by_category=dict(Counter(t.category for t in opened).most_common()),
            by_priority=dict(Counter(t.priority for t in opened).most_common()),
            by_channel=dict(Counter(t.channel for t in opened).most_common()),
            acknowledged_on_time=_on_time([(t.acknowledged_at, t.acknowledge_due_at) for t in opened], now),
            resolved_on_time=_on_time([(t.resolved_at, resolve_deadline(t.resolve_due_at, t.sla_paused_at, now, clock))
                                       for t in opened], now),
            time_to_acknowledge=Durations.of([t.acknowledged_at - t.created_at for t in opened if t.acknowledged_at]),
            time_to_resolve=Durations.of([r.resolved_at - r.created_at for r in resolved]),
            open_overdue_now=sum(1 for row in overdue if past_deadline(*row, now, clock)),
        )

    def _chats(self, session, start: datetime, end: datetime) -> ChatKpis:
        active = set(session.execute(
            select(Message.conversation_id).where(
                Message.author_type == "customer", Message.created_at >= start, Message.created_at < end)
            .distinct()
        ).scalars())
        events = session.execute(
            select(OwnershipEvent).where(OwnershipEvent.created_at >= start, OwnershipEvent.created_at < end)
            .order_by(OwnershipEvent.conversation_id, OwnershipEvent.created_at, OwnershipEvent.id)
        ).scalars().all()
        handoffs = [e for e in events if e.owner_from == "bot" and e.owner_to in HANDED_TO_PERSON]
        handed = {e.conversation_id for e in handoffs}
        staff_messages = _staff_messages(session, handed, start)
        waits, firsts, unanswered = [], [], 0
        claims = defaultdict(list)
        for e in events:
            if e.owner_to == "agent":
                claims[e.conversation_id].append(e.created_at)
        for h in handoffs:
            reply = next((t for t in staff_messages.get(h.conversation_id, ()) if t >= h.created_at), None)
            if reply is None:
                unanswered += 1
            else:
                firsts.append(reply - h.created_at)
            if h.owner_to == "queued":
                claim = next((t for t in claims.get(h.conversation_id, ()) if t >= h.created_at), None)
                if claim is not None:
                    waits.append(claim - h.created_at)
        return ChatKpis(
            conversations=len(active | handed),
            resolved_by_bot=len(active - handed),
            handed_to_person=len(handed),
            handoffs_unanswered=unanswered,
            waiting_for_person=Durations.of(waits),
            first_response=Durations.of(firsts),
        )

    def _satisfaction(self, session, start: datetime, end: datetime) -> Satisfaction:
        ratings = session.execute(
            select(Rating.score, Rating.agent).where(Rating.created_at >= start, Rating.created_at < end)
        ).all()
        if not ratings:
            return Satisfaction(0, None, None)
        per_agent: Dict[str, List[int]] = defaultdict(list)
        for score, agent in ratings:
            per_agent[agent or "-"].append(score)
        scores = [score for score, _ in ratings]
        return Satisfaction(
            ratings=len(scores),
            average=round(sum(scores) / len(scores), 2),
            csat=round(sum(1 for s in scores if s >= SATISFIED) / len(scores), 3),
            by_agent={
                agent: {"ratings": len(s), "average": round(sum(s) / len(s), 2),
                        "csat": round(sum(1 for x in s if x >= SATISFIED) / len(s), 3)}
                for agent, s in sorted(per_agent.items())
            },
        )

    def _faq(self, session, start: datetime, end: datetime) -> FaqKpis:
        kinds = Counter(session.execute(
            select(FaqEvent.kind).where(FaqEvent.created_at >= start, FaqEvent.created_at < end)
        ).scalars())
        return FaqKpis(helpful=kinds["helpful"], not_helpful=kinds["not_helpful"], unanswered=kinds["unanswered"])


def _staff_messages(session, conversation_ids, since: datetime) -> Dict[int, List[datetime]]:
    if not conversation_ids:
        return {}
    found: Dict[int, List[datetime]] = defaultdict(list)
    rows = session.execute(
        select(Message.conversation_id, Message.created_at)
        .where(Message.conversation_id.in_(conversation_ids), Message.author_type == "staff",
               Message.created_at >= since)
        .order_by(Message.created_at)
    ).all()
    for conversation_id, created_at in rows:
        found[conversation_id].append(created_at)
    return found


def _on_time(pairs, now: datetime) -> OnTime:
    met = due = 0
    for done_at, deadline in pairs:
        if done_at is not None and done_at <= deadline:
            met += 1
            due += 1
        elif deadline < now:  # missed: done late, or not done and past the deadline
            due += 1
    return OnTime(met, due)


def _percentile(ordered: Sequence[float], p: float) -> float:
    # Nearest rank: a value that really occurred, easy to check by hand.
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def _iso(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"
