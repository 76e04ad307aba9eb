"""The figures tab's charts: numbers per day and per week from a small history, drawn as SVG and written as CSV."""
import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest

from bot.gateway.chart_svg import nice_ticks, render
from bot.services.charts import ChartService, days_between, weeks_between
from bot.services.conversations import ConversationService
from bot.services.surveys import SurveyService
from bot.services.tickets import ComplaintSubmission, TicketService
from tests.serving import Clock

# Monday 2 November 2026, 08:00 in Vietnam.
MONDAY = datetime(2026, 11, 2, 1, 0)
SVG = "{http://www.w3.org/2000/svg}"


def complaint(tickets, key, category):
    ticket, _ = tickets.open(ComplaintSubmission(
        submission_key=key, sender_id=f"s-{key}", channel="rest", language="vi", order_number=None,
        order_verified=False, category=category, description="x", contact=None))
    return ticket


@pytest.fixture
def charts(db_factory):
    clock = Clock(MONDAY)
    tickets = TicketService(db_factory, clock=clock)
    chats = ConversationService(db_factory, clock=clock)
    surveys = SurveyService(db_factory, clock=clock)
    # Week 1: two damaged on Monday (one acknowledged in time), one wrong item on Tuesday.
    a = complaint(tickets, "a", "damaged")
    complaint(tickets, "b", "damaged")
    clock.at(hours=1)
    tickets.set_status(a.code, "acknowledged", "lan")
    clock.at(days=1)
    complaint(tickets, "c", "wrong_item")
    chats.rate("s-a", 5, agent="lan")
    chats.rate("s-b", 2, agent="lan")
    for sender, score in (("s-a", 10), ("s-b", 3)):
        surveys.asked("nps", sender)
        surveys.answer("nps", sender, score)
    # Week 2 (Monday 9 November): a chat handed over and answered after 6 minutes; a CES answer.
    clock.at(days=7)
    chats.record("live", "customer", "gặp nhân viên")
    chats.set_owner("live", "queued")
    clock.at(days=7, minutes=6)
    chats.record("live", "staff", "Chào chị", author_name="lan")
    surveys.asked("ces", "s-bot")
    surveys.answer("ces", "s-bot", 4)
    clock.at(days=13)
    return ChartService(db_factory, clock=clock), clock


def by_id(found):
    return {c.id: c for c in found}


def test_chart_numbers(charts):
    service, clock = charts
    found = by_id(service.charts(MONDAY - timedelta(hours=1), clock(), "vi"))
    tickets = found["tickets_per_day"]
    assert tickets.labels[:3] == ["02/11", "03/11", "04/11"] and len(tickets.labels) == 14
    series = {s.name: s.values for s in tickets.series}
    # Labels people read, not category codes; categories nobody complained about are left out.
    assert series["Hàng bị hư hỏng, vỡ, lỗi"][:3] == [2, 0, 0]
    assert series["Giao sai hàng (màu, size, mẫu)"][:3] == [0, 1, 0]
    assert set(series) == {"Hàng bị hư hỏng, vỡ, lỗi", "Giao sai hàng (màu, size, mẫu)"}
    on_time = found["on_time"]
    assert on_time.labels == ["02/11", "09/11"]
    # Week 1: A acknowledged in 1 h; B and C never, and their 24 h have passed: 1 of 3.
    assert on_time.series[0].values == [33.3, None]
    assert found["first_response"].series[0].values == [None, 6.0]
    assert found["csat"].series[0].values == [50.0, None]
    assert found["nps"].series[0].values == [0.0, None]  # one promoter, one detractor
    assert found["ces"].series[0].values == [None, 4.0]


def test_english_labels_and_the_csv(charts):
    service, clock = charts
    chart = service.chart("tickets_per_day", MONDAY - timedelta(hours=1), clock(), "en")
    rows = list(csv.reader(io.StringIO(chart.csv())))
    assert rows[0] == ["Day", "Wrong item (colour, size, model)", "Damaged, broken or faulty"]
    assert rows[1] == ["02/11", "0", "2"] and rows[2] == ["03/11", "1", "0"]
    weekly = list(csv.reader(io.StringIO(service.chart("ces", MONDAY, clock(), "en").csv())))
    assert weekly == [["Week starting", "CES"], ["02/11", ""], ["09/11", "4"]]
    with pytest.raises(KeyError):
        service.chart("revenue", MONDAY, clock())


def test_the_svg_draws_every_number(charts):
    service, clock = charts
    found = by_id(service.charts(MONDAY - timedelta(hours=1), clock(), "vi"))
    bars = ET.fromstring(render(found["tickets_per_day"]))
    titles = [t.text for rect in bars.iter(SVG + "rect") for t in rect.iter(SVG + "title")]
    assert "02/11 · Hàng bị hư hỏng, vỡ, lỗi: 2" in titles and "03/11 · Giao sai hàng (màu, size, mẫu): 1" in titles
    legend = [t.text for t in bars.iter(SVG + "text") if t.get("class") == "legend"]
    assert legend == ["Giao sai hàng (màu, size, mẫu)", "Hàng bị hư hỏng, vỡ, lỗi"]
    lines = ET.fromstring(render(found["csat"]))
    points = [t.text for c in lines.iter(SVG + "circle") for t in c.iter(SVG + "title")]
    assert points == ["02/11 · CSAT: 50%"]
    empty = ET.fromstring(render(service.chart("nps", clock() - timedelta(days=1), clock())))
    assert any(t.get("class") == "no-data" for t in empty.iter(SVG + "text"))


def test_periods_and_axes():
    # Vietnam dates, and Monday-to-Sunday weeks clipped to the period.
    start, end = datetime(2026, 11, 3, 20, 0), datetime(2026, 11, 10, 2, 0)  # Wed 4 Nov 03:00 to Tue 10 Nov 09:00
    assert days_between(start, end) == ["04/11", "05/11", "06/11", "07/11", "08/11", "09/11", "10/11"]
    weeks = weeks_between(start, end)
    assert [w[0] for w in weeks] == ["02/11", "09/11"] and weeks[0][1] == start and weeks[-1][2] == end
    assert nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(-100, 100) == [-100, -50, 0, 50, 100]
    assert nice_ticks(0, 3) == [0, 1, 2, 3]
    assert nice_ticks(1, 5) == [1, 2, 3, 4, 5]


def test_the_chart_api_draws_writes_and_refuses(db_factory):
    from bot.services.staff import StaffService
    from tests.unit.test_staff_api import run_api

    staff = StaffService(db_factory)
    staff.add("lan", "correct horse battery", "Lan")
    staff.add("bich", "correct horse battery", "Bích", roles=("editor",))
    editor = staff.issue_token("bich")
    complaint(TicketService(db_factory), "api", "late_delivery")

    async def scenario(api):
        async def get(path, token=api.token):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with api.session.get(api.base + path, headers=headers) as response:
                return response.status, response.headers, await response.read()

        return [await get("/api/charts?days=7&lang=en"), await get("/api/charts/tickets_per_day.svg?days=7"),
                await get("/api/charts/tickets_per_day.csv?days=7&lang=en"), await get("/api/charts/revenue.svg"),
                await get("/api/charts/nps.svg?days=abc"), await get("/api/charts/nps.svg", token=None),
                await get("/api/charts/nps.csv", token=editor)]

    listing, svg, table, unknown, bad_days, anonymous, not_allowed = run_api(db_factory, scenario)
    assert listing[0] == 200
    charts = json.loads(listing[2])["charts"]
    assert [c["id"] for c in charts] == ["tickets_per_day", "on_time", "first_response", "csat", "nps", "ces"]
    assert charts[0]["series"][0]["name"] == "Late / not delivered" and charts[0]["series"][0]["values"][-1] == 1
    assert all(c["svg"].startswith("<svg") and f'data-chart="{c["id"]}"' in c["svg"] for c in charts)
    assert svg[0] == 200 and svg[1]["Content-Type"].startswith("image/svg+xml")
    assert "Giao chậm / chưa nhận được hàng: 1" in svg[2].decode()
    assert table[0] == 200 and table[1]["Content-Type"].startswith("text/csv")
    assert "attachment" in table[1]["Content-Disposition"]
    text = table[2].decode("utf-8")
    assert text.startswith("\ufeffDay,Late / not delivered\r\n") and text.rstrip().endswith(",1")
    assert [unknown[0], bad_days[0], anonymous[0], not_allowed[0]] == [404, 400, 401, 403]
