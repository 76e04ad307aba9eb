"""Service-level deadlines counted in wall-clock hours or in the shop's working hours (business_hours.yml)."""
from datetime import datetime, timedelta

import pytest

from bot import cli
from bot.config import ROOT, Settings
from bot.services.business_hours import CalendarError, load_calendar, parse_calendar
from bot.services.sla import (
    WALL, BusinessClock, deadline, due_times, follow_up_due, promised_span, resolve_deadline, sla_clock,
)
from bot.services.tickets import ComplaintSubmission, TicketService
from tests.serving import Clock

# Vietnam is UTC+7: 01:00 UTC is 08:00 there.
WEEKDAYS = {"week": {d: "08:00-12:00, 13:30-17:30" for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": "08:00-12:00", "sun": "closed"}}


def calendar(holidays=()):
    return parse_calendar({**WEEKDAYS, "holidays": list(holidays)})


def utc(local: str) -> datetime:
    """A Vietnam local time as the naive UTC the database stores."""
    return datetime.strptime(local, "%Y-%m-%d %H:%M") - timedelta(hours=7)


def test_working_time_skips_nights_lunch_and_sunday():
    clock = BusinessClock(calendar())
    # Friday 4 Dec 2026, 19:00: Saturday morning 4 h, Monday 8 h, Tuesday 8 h, Wednesday 4 h.
    assert deadline(utc("2026-12-04 19:00"), timedelta(hours=24), clock) == utc("2026-12-09 12:00")
    # Monday 11:00 + 2 h: one hour before lunch, one after it.
    assert deadline(utc("2026-12-07 11:00"), timedelta(hours=2), clock) == utc("2026-12-07 14:30")
    assert clock.between(utc("2026-12-07 11:00"), utc("2026-12-07 14:30")) == timedelta(hours=2)
    assert clock.between(utc("2026-12-05 12:00"), utc("2026-12-07 08:00")) == timedelta(0)  # Sat afternoon, Sunday


def test_holidays_are_not_working_time():
    clock = BusinessClock(calendar([{"from": "2026-04-30", "to": "2026-05-01", "name": "30/4 - 1/5"}]))
    # Wednesday 29 April 17:00 + 1 h: Thursday and Friday are holidays, Saturday 08:00 opens.
    assert deadline(utc("2026-04-29 17:00"), timedelta(hours=1), clock) == utc("2026-05-02 08:30")


def test_the_shipped_calendar_is_valid_and_knows_the_public_holidays():
    shipped = load_calendar(ROOT / "business_hours.yml")
    names = " ".join(shipped.holidays.values())
    for holiday in ("Tết Nguyên đán", "Giỗ Tổ Hùng Vương", "30/4", "1/5", "Quốc khánh 2/9"):
        assert holiday in names
    assert not shipped.is_open(utc("2026-09-02 10:00"))
    assert shipped.is_open(utc("2026-09-03 10:00"))


@pytest.mark.parametrize("data, problem", [
    ({"week": {"mon": "17:00-08:00"}}, "closes before it opens"),
    ({"week": {"mon": "8h-17h"}}, "not a time"),
    ({"week": {"monday": "08:00-17:00"}}, "not a day"),
    ({"week": {"mon": "closed"}}, "no working hours"),
    ({"week": {"mon": "08:00-17:00"}, "holidays": [{"date": "2026-02-30", "name": "x"}]}, "not a date"),
    ({"week": {"mon": "08:00-17:00"}, "holidays": [{"from": "2026-02-20", "to": "2026-02-14", "name": "Tết"}]},
     "ends before"),
    ({"week": {"mon": "08:00-17:00"}, "holidays": [{"date": "2026-01-01"}]}, "needs a name"),
])
def test_a_broken_calendar_says_what_to_fix(data, problem):
    with pytest.raises(CalendarError) as caught:
        parse_calendar(data)
    assert any(problem in p for p in caught.value.problems)


def test_the_checker_reports_line_by_line(tmp_path, capsys):
    bad = tmp_path / "hours.yml"
    bad.write_text("week:\n  mon: 08:00-25:00\nholidays:\n  - {date: 2026-13-01, name: Tết}\n", encoding="utf-8")
    assert cli.main(["business-hours", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "week.mon" in err and "2026-13-01" in err
    assert cli.main(["business-hours", "check", str(ROOT / "business_hours.yml")]) == 0


def test_wall_clock_is_the_default_and_counts_every_hour(monkeypatch):
    monkeypatch.delenv("HOTRO_SLA_CLOCK", raising=False)
    assert sla_clock(Settings.from_env()) is WALL
    created = utc("2026-12-04 19:00")
    assert due_times("normal", created) == (created + timedelta(hours=24), created + timedelta(hours=48))
    assert promised_span(timedelta(hours=24), "vi") == "24 giờ"


def test_business_clock_moves_every_promise(monkeypatch, any_db_factory):
    monkeypatch.setenv("HOTRO_SLA_CLOCK", "business")
    monkeypatch.setenv("HOTRO_BUSINESS_HOURS_FILE", str(ROOT / "business_hours.yml"))
    assert sla_clock().business
    assert promised_span(timedelta(hours=24), "vi") == "24 giờ làm việc"
    assert promised_span(timedelta(hours=48), "en") == "48 working hours"
    friday_evening = utc("2026-12-04 19:00")
    clock = Clock(friday_evening)
    tickets = TicketService(any_db_factory, clock=clock)
    ticket, _ = tickets.open(ComplaintSubmission(
        submission_key="bh", sender_id="s-bh", channel="rest", language="vi", order_number=None,
        order_verified=False, category="late_delivery", description="giao chậm", contact=None))
    assert ticket.acknowledge_due_at == utc("2026-12-09 12:00")
    assert ticket.resolve_due_at == utc("2026-12-12 12:00")  # Sat 4 + Mon-Fri 40 + next Sat 4 working hours
    # Waiting for the customer over the weekend: Saturday morning's 4 working hours are not the shop's.
    clock.now = utc("2026-12-04 20:00")
    tickets.set_status(ticket.code, "waiting_customer", "lan")
    clock.now = utc("2026-12-07 07:00")
    tickets.set_status(ticket.code, "in_progress", "lan")
    assert tickets.get(ticket.code).resolve_due_at == utc("2026-12-14 12:00")
    # A chase after the acknowledgement: the next contact is 24 working hours on, not tomorrow at the same time.
    monday = utc("2026-12-07 09:00")
    assert follow_up_due("normal", ticket.acknowledge_due_at, monday, monday) == utc("2026-12-10 09:00")


def test_a_pause_keeps_the_time_left_on_either_clock():
    due, paused, now = datetime(2026, 12, 7, 5), datetime(2026, 12, 7, 2), datetime(2026, 12, 8, 2)
    assert resolve_deadline(due, paused, now, WALL) == due + (now - paused)
    business = BusinessClock(calendar())
    # Paused Monday 09:00 local with 3 working hours left; resumed Tuesday 09:00: due Tuesday 12:00.
    assert resolve_deadline(utc("2026-12-07 12:00"), utc("2026-12-07 09:00"), utc("2026-12-08 09:00"),
                            business) == utc("2026-12-08 12:00")


def test_a_wrong_clock_setting_is_refused(monkeypatch):
    monkeypatch.setenv("HOTRO_SLA_CLOCK", "office")
    with pytest.raises(ValueError, match="HOTRO_SLA_CLOCK"):
        Settings.from_env()
