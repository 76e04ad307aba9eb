"""NPS and CES: when they are asked, how answers are kept, and their figures worked out by hand."""
from datetime import datetime, timedelta

import pytest

from bot.services.conversations import ConversationService
from bot.services.surveys import SurveyError, SurveyService, ces, figures, nps
from bot.services.tickets import ComplaintSubmission, TicketService
from tests.serving import Clock

T0 = datetime(2026, 11, 2, 3, 0)


def complaint(tickets, sender, key=None):
    ticket, _ = tickets.open(ComplaintSubmission(
        submission_key=key or f"k-{sender}", sender_id=sender, channel="rest", language="vi", order_number=None,
        order_verified=False, category="damaged", description="hàng vỡ", contact=None))
    return ticket


@pytest.fixture
def world(any_db_factory):
    clock = Clock(T0)
    return (SurveyService(any_db_factory, nps_period_days=90, ces_period_days=30, clock=clock),
            TicketService(any_db_factory, clock=clock), ConversationService(any_db_factory, clock=clock), clock)


def test_nps_only_after_a_resolved_complaint_and_once_per_period(world):
    surveys, tickets, _, clock = world
    ticket = complaint(tickets, "s-1")
    assert surveys.nps_due("s-1") is None  # still open
    tickets.set_status(ticket.code, "resolved", "lan")
    assert surveys.nps_due("s-1") == ticket.code
    assert surveys.nps_due("s-other") is None  # someone else's complaint
    surveys.asked("nps", "s-1", ticket.code)
    assert surveys.nps_due("s-1") is None  # asked, even unanswered: not again this period
    clock.advance(days=89)
    assert surveys.nps_due("s-1") is None
    clock.advance(days=2)
    assert surveys.nps_due("s-1") is None  # the period is over, but so long after the complaint it is not asked
    later = complaint(tickets, "s-1", key="k-s-1-later")
    tickets.set_status(later.code, "resolved", "lan")
    assert surveys.nps_due("s-1") == later.code


def test_a_period_of_zero_turns_a_survey_off(db_factory):
    clock = Clock(T0)
    tickets = TicketService(db_factory, clock=clock)
    ticket = complaint(tickets, "s-off")
    tickets.set_status(ticket.code, "resolved", "lan")
    off = SurveyService(db_factory, nps_period_days=0, ces_period_days=0, clock=clock)
    assert off.nps_due("s-off") is None and not off.ces_due("s-off")


def test_ces_only_when_the_bot_handled_it_alone(world):
    surveys, _, chats, clock = world
    chats.record("s-bot", "customer", "phí ship bao nhiêu?")
    assert surveys.ces_due("s-bot")
    chats.record("s-person", "customer", "cho gặp nhân viên")
    chats.set_owner("s-person", "queued")
    assert not surveys.ces_due("s-person")
    surveys.asked("ces", "s-bot")
    assert not surveys.ces_due("s-bot")
    clock.advance(days=31)
    assert surveys.ces_due("s-bot")


def test_an_answer_goes_on_the_question_and_is_checked(world):
    surveys, _, _, clock = world
    surveys.asked("nps", "s-a", "KN-000001")
    clock.advance(minutes=1)
    surveys.answer("nps", "s-a", 10)
    clock.advance(minutes=1)
    surveys.answer("nps", "s-a", 9)  # changed their mind: one answer, the last
    assert surveys.answers("nps", T0, clock() + timedelta(seconds=1)) == [(clock(), 9)]
    assert surveys.report(T0, clock() + timedelta(seconds=1))["nps"].asked == 1
    with pytest.raises(SurveyError):
        surveys.answer("nps", "s-a", 11)
    with pytest.raises(SurveyError):
        surveys.answer("ces", "s-a", 0)
    with pytest.raises(SurveyError):
        surveys.answer("csat", "s-a", 3)


def test_nps_and_ces_figures():
    # 2 promoters (9, 10), 1 passive (8), 2 detractors (0, 6): (2 - 2) / 5 = 0; then 3 of 4 promoters: +50.
    assert nps([9, 10, 8, 0, 6]) == 0.0
    assert nps([10, 9, 9, 3]) == 50.0
    assert nps([]) is None
    assert ces([5, 4, 2]) == 3.67
    f = figures("ces", [5, 4, 2, 1], asked=8)
    assert (f.answers, f.high, f.low, f.response_rate) == (4, 2, 2, 0.5)
