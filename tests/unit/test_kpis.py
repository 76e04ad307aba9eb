"""The team's figures, computed from a small history whose answers are worked out by hand."""
from datetime import datetime, timedelta

import pytest

from bot import cli
from bot.gateway.kpi_api import period_from
from bot.services.conversations import ConversationService
from bot.services.faq import FaqService
from bot.services.kpis import Durations, KpiService
from bot.services.tickets import ComplaintSubmission, TicketService
from tests.serving import Clock

T0 = datetime(2026, 11, 2, 1, 0)


def submission(key, order=None):
    return ComplaintSubmission(
        submission_key=key, sender_id=f"s-{key}", channel="rest", language="vi", order_number=order,
        order_verified=False, category="late_delivery", description="hàng giao chậm", contact=None,
    )


@pytest.fixture
def history(any_db_factory):
    clock = Clock(T0)
    tickets = TicketService(any_db_factory, clock=clock)
    chats = ConversationService(any_db_factory, clock=clock)
    faq = FaqService(None, any_db_factory, clock=clock)

    clock.at(days=-3)  # before the period: counted nowhere
    tickets.open(submission("old"))
    chats.rate("s-old", 1, agent="lan")

    # A: acknowledged after 2 h and resolved after 30 h, both within 24 h / 48 h.
    clock.at(hours=0)
    a, _ = tickets.open(submission("a"))
    clock.at(hours=2)
    tickets.set_status(a.code, "acknowledged", "lan")
    clock.at(hours=30)
    tickets.set_status(a.code, "resolved", "lan")
    # B: acknowledged 30 h after it was opened (late) and still open after 48 h.
    clock.at(hours=1)
    b, _ = tickets.open(submission("b"))
    clock.at(hours=31)
    tickets.set_status(b.code, "in_progress", "minh")
    # C: opened an hour before "now", inside both deadlines.
    clock.at(hours=59)
    tickets.open(submission("c"))

    # Chats: one the bot handled alone, one a person answered, one still waiting for a reply.
    clock.at(hours=3)
    chats.record("bot-only", "customer", "phí ship bao nhiêu?")
    chats.record("live", "customer", "cho tôi gặp nhân viên")
    clock.at(hours=3, minutes=1)
    chats.set_owner("live", "queued")
    clock.at(hours=3, minutes=5)
    chats.set_owner("live", "agent", agent="lan")
    clock.at(hours=3, minutes=7)
    chats.record("live", "staff", "Chào chị, em là Lan", author_name="lan")
    chats.set_owner("live", "agent", agent="lan")  # no change: no event
    clock.at(hours=4)
    chats.record("waiting", "customer", "gặp người thật")
    chats.set_owner("waiting", "queued")

    clock.at(hours=5)
    chats.rate("live", 5, agent="lan")
    chats.rate("x", 3, agent="lan")
    chats.rate("y", 4, agent="minh")
    for kind in ("helpful", "helpful", "not_helpful", "unanswered"):
        faq.record(kind, "phí ship", "vi", "bot-only", faq_id="delivery-fee" if kind != "unanswered" else None)

    clock.at(hours=60)
    return KpiService(any_db_factory, clock=clock)


def test_ticket_figures(history):
    report = history.report(T0 - timedelta(hours=1))
    t = report.tickets
    assert t.opened == 3 and t.by_category == {"late_delivery": 3}
    # A met both deadlines; B missed both; C is inside its deadlines and counts for neither side.
    assert (t.acknowledged_on_time.met, t.acknowledged_on_time.due) == (1, 2)
    assert (t.resolved_on_time.met, t.resolved_on_time.due) == (1, 2)
    assert t.time_to_acknowledge == Durations(2, 120.0, 1800.0, 960.0)  # A 2 h, B 30 h
    assert t.time_to_resolve.count == 1 and t.time_to_resolve.median_minutes == 1800.0
    assert t.open_overdue_now == 2  # B, and the ticket from before the period


def test_chat_figures(history):
    c = history.report(T0 - timedelta(hours=1)).chats
    assert (c.conversations, c.resolved_by_bot, c.handed_to_person, c.handoffs_unanswered) == (3, 1, 2, 1)
    assert c.resolved_by_bot_rate == pytest.approx(0.333)
    assert c.waiting_for_person == Durations(1, 4.0, 4.0, 4.0)
    assert c.first_response == Durations(1, 6.0, 6.0, 6.0)


def test_satisfaction_and_faq(history):
    report = history.report(T0 - timedelta(hours=1))
    s = report.satisfaction
    assert (s.ratings, s.average, s.csat) == (3, 4.0, pytest.approx(0.667))
    assert s.by_agent["lan"] == {"ratings": 2, "average": 4.0, "csat": 0.5}
    assert (report.faq.helpful, report.faq.not_helpful, report.faq.unanswered) == (2, 1, 1)
    assert report.faq.helpful_rate == pytest.approx(0.667)


def test_a_period_only_counts_what_happened_in_it(history):
    later = history.report(T0 + timedelta(hours=50))
    assert later.tickets.opened == 1  # only C
    assert later.chats.conversations == 0 and later.satisfaction.ratings == 0
    with pytest.raises(ValueError):
        history.report(T0 + timedelta(days=30))  # starts after now


def test_periods_are_vietnam_days():
    now = datetime(2026, 11, 20, 12, 0)
    start, end = period_from({"from": "2026-11-01", "to": "2026-11-01"}, now)
    assert (start, end) == (datetime(2026, 10, 31, 17, 0), datetime(2026, 11, 1, 17, 0))
    assert period_from({"days": "7"}, now) == (now - timedelta(days=7), now)
    for bad in ({"days": "x"}, {"days": "0"}, {"from": "2026-11-01"}, {"from": "01/11/2026", "to": "2026-11-02"},
                {"days": "999"}):
        with pytest.raises(ValueError):
            period_from(bad, now)
    # A huge number is a period too long, not "not a number"; non-ASCII digits are not a number.
    for huge in ("999999999999", "+1" + "0" * 40):
        with pytest.raises(ValueError, match="a period is 1 to 366 days"):
            period_from({"days": huge}, now)
    with pytest.raises(ValueError, match="days is a whole number of 1 to 366"):
        period_from({"days": "٣"}, now)


def test_cli_prints_the_report(db_factory, sqlite_url, monkeypatch, capsys):
    import json

    from bot.services import registry

    monkeypatch.setenv("HOTRO_DATABASE_URL", sqlite_url)
    registry.settings.cache_clear()
    try:
        TicketService(db_factory).open(submission("cli"))
        assert cli.main(["kpi", "--days", "1"]) == 0
        assert "opened                 1" in capsys.readouterr().out
        assert cli.main(["kpi", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["tickets"]["opened"] == 1
        assert cli.main(["kpi", "--from", "2026-13-01", "--to", "2026-11-02"]) == 2
    finally:
        registry.settings.cache_clear()


def test_staff_api_serves_the_figures_from_what_the_desk_did(db_factory):
    from bot.services.staff import StaffService
    from tests.unit.test_staff_api import run_api

    StaffService(db_factory).add("lan", "correct horse battery", "Lan")
    ConversationService(db_factory).record("web-9", "customer", "cho tôi gặp nhân viên")

    async def scenario(api):
        await api.call("POST", "/api/conversations/web-9/claim")
        await api.call("POST", "/api/conversations/web-9/messages", {"text": "Em là Lan đây ạ"})
        return (await api.call("GET", "/api/kpis?days=1"), (await api.call("GET", "/api/kpis", token=None))[0],
                (await api.call("GET", "/api/kpis?days=abc"))[0], (await api.call("GET", "/api/kpis?from=2026-11-01"))[0])

    (status, body), anonymous, bad_days, half_period = run_api(db_factory, scenario)
    assert status == 200
    assert body["chats"]["handed_to_person"] == 1 and body["chats"]["first_response"]["count"] == 1
    assert body["chats"]["handoffs_unanswered"] == 0 and body["chats"]["resolved_by_bot_rate"] == 0.0
    assert body["start"].endswith("Z") and "acknowledged_on_time" in body["tickets"]
    assert (anonymous, bad_days, half_period) == (401, 400, 400)


def test_time_waiting_for_the_customer_is_not_a_missed_deadline(db_factory):
    clock = Clock(T0)
    tickets = TicketService(db_factory, clock=clock)
    ticket, _ = tickets.open(submission("waiting"))
    clock.at(hours=10)
    tickets.set_status(ticket.code, "waiting_customer", "lan")
    clock.at(hours=60)  # past the 48 hours, but the shop has been waiting for the customer since hour 10
    t = KpiService(db_factory, clock=clock).report(T0 - timedelta(hours=1)).tickets
    assert (t.resolved_on_time.met, t.resolved_on_time.due) == (0, 0)
    assert t.open_overdue_now == 0


def test_a_ticket_late_before_it_waited_for_the_customer_stays_overdue_as_in_the_desk(db_factory):
    clock = Clock(T0)
    tickets = TicketService(db_factory, clock=clock)
    ticket, _ = tickets.open(submission("late-then-waiting"))
    clock.at(hours=50)  # the 48 hours have passed before the shop asked the customer anything
    waiting = tickets.set_status(ticket.code, "waiting_customer", "lan")
    clock.at(hours=55)
    assert waiting.is_overdue(clock())
    assert KpiService(db_factory, clock=clock).report(T0 - timedelta(hours=1)).tickets.open_overdue_now == 1
