"""The figures tab draws its charts from the real data on the running stack, with labels, definitions and CSV."""
from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect

from bot.services.conversations import ConversationService
from bot.services.staff import StaffService
from bot.services.surveys import SurveyService
from bot.services.tickets import ComplaintSubmission, TicketService
from bot.store.db import session_factory
from tests.integration.conftest import staff_api
from tests.integration.test_desk_faq_browser import log_in


def test_the_figures_tab_draws_charts_from_real_data(browser, stack):
    factory = session_factory(stack.db_url)
    context, desk, _ = log_in(browser, stack, "chart.vy", ("agent",))
    token = StaffService(factory).issue_token("chart.vy")
    tickets = TicketService(factory)
    for n, category in enumerate(("missing_item", "missing_item", "refund_payment")):
        tickets.open(ComplaintSubmission(f"chart-{n}", f"web-chart-{n}", "web", "vi", None, False, category,
                                         "thiếu một món", None))
    ConversationService(factory).rate("web-chart-0", 5, agent="chart.vy")
    surveys = SurveyService(factory)
    surveys.asked("nps", "web-chart-0")
    surveys.answer("nps", "web-chart-0", 9)
    surveys.asked("ces", "web-chart-1")
    surveys.answer("ces", "web-chart-1", 4)
    numbers = {c["id"]: c for c in staff_api(stack, "GET", "/api/charts?days=7", token)["charts"]}
    per_day = {s["name"]: s["values"][-1] for s in numbers["tickets_per_day"]["series"]}
    assert per_day["Thiếu hàng"] >= 2 and per_day["Hoàn tiền / thanh toán"] >= 1
    today = numbers["tickets_per_day"]["labels"][-1]

    desk.get_by_role("button", name="Thống kê").click()

    # Tickets per day: one bar segment per category today, its height the API's count, named by its label.
    bars = desk.locator("#chart-tickets_per_day svg rect.bar title")
    expect(bars.first).to_be_attached()
    titles = bars.all_text_contents()
    assert f"{today} · Thiếu hàng: {per_day['Thiếu hàng']}" in titles
    assert f"{today} · Hoàn tiền / thanh toán: {per_day['Hoàn tiền / thanh toán']}" in titles
    assert not any("missing_item" in t for t in titles)
    expect(desk.locator("#chart-tickets_per_day svg text.legend", has_text="Thiếu hàng")).to_be_visible()
    # Weekly lines: this week's NPS, CES and CSAT points, each with what it measures written under it.
    nps_now = numbers["nps"]["series"][0]["values"][-1]
    expect(desk.locator("#chart-nps svg circle.point title").last).to_contain_text(f"NPS: {int(nps_now)}")
    expect(desk.locator("#chart-ces svg circle.point")).not_to_have_count(0)
    expect(desk.locator("#chart-csat svg circle.point")).not_to_have_count(0)
    expect(desk.locator("#chart-nps .definition")).to_contain_text("Net Promoter Score")
    expect(desk.locator("#chart-ces .definition")).to_contain_text("Customer Effort Score")
    expect(desk.locator("#chart-csat .definition")).to_contain_text("Customer Satisfaction")
    expect(desk.locator("#kpi-nps strong")).to_have_text(re.compile(r"^[+-]?\d"))
    box = desk.locator("#chart-on_time svg").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100  # drawn at a readable size

    # The CSV link gives the same numbers, with the same labels, for a spreadsheet.
    href = desk.locator("#chart-tickets_per_day a.csv").get_attribute("href")
    answer = context.request.get(stack.gateway_url + href)
    assert answer.ok and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text().lstrip("\ufeff"))))
    column = rows[0].index("Thiếu hàng")
    assert rows[0][0] == "Ngày" and rows[-1][0] == today and int(rows[-1][column]) == per_day["Thiếu hàng"]

    # Another period draws again.
    desk.get_by_label("Khoảng thời gian").select_option("30")
    expect(desk.locator("#chart-tickets_per_day a.csv")).to_have_attribute("href", re.compile(r"days=30"))
    context.close()
