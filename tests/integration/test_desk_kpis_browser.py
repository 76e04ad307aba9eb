"""The desk's figures tab shows what GET /api/kpis computes, after real desk work on the running stack."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from bot.services.conversations import ConversationService
from bot.services.staff import StaffService
from bot.services.tickets import ComplaintSubmission, TicketService
from bot.store.db import session_factory
from tests.integration.conftest import staff_api

PASSWORD = "correct horse battery"


def test_figures_tab_matches_the_api(browser, stack):
    factory = session_factory(stack.db_url)
    StaffService(factory).add("kpi.an", PASSWORD, "An")
    token = StaffService(factory).issue_token("kpi.an")
    TicketService(factory).open(ComplaintSubmission(
        "kpi-browser", "web-kpi-browser", "web", "vi", None, False, "service_attitude", "nhân viên thô lỗ", None))
    # A conversation a person took over and answered: counted in the first staff response.
    ConversationService(factory).record("web-kpi-live", "customer", "cho tôi gặp người thật")
    staff_api(stack, "POST", "/api/conversations/web-kpi-live/claim", token)
    staff_api(stack, "POST", "/api/conversations/web-kpi-live/messages", token, {"text": "An đây ạ"})

    context = browser.new_context(locale="vi-VN", viewport={"width": 1300, "height": 900})
    desk = context.new_page()
    desk.goto(stack.gateway_url + "/desk")
    desk.get_by_label("Tên đăng nhập / Name").fill("kpi.an")
    desk.get_by_label("Mật khẩu / Password").fill(PASSWORD)
    desk.get_by_role("button", name="Đăng nhập / Log in").click()
    expect(desk).to_have_url(re.compile(r"/desk$"))

    desk.get_by_role("button", name="Thống kê").click()
    week = staff_api(stack, "GET", "/api/kpis?days=7", token)
    assert week["tickets"]["opened"] >= 1 and week["chats"]["first_response"]["count"] >= 1
    expect(desk.locator("#kpi-opened strong")).to_have_text(str(week["tickets"]["opened"]))
    expect(desk.locator("#kpi-handed strong")).to_have_text(str(week["chats"]["handed_to_person"]))
    expect(desk.locator("#kpi-first-response strong")).to_have_text(re.compile(r"^\d+ (giây|min)$"))
    expect(desk.locator("#kpi-first-response .sub")).to_contain_text("trung vị")
    # Labels people read, not the category's code.
    expect(desk.locator("#kpi-categories")).to_contain_text("Thái độ phục vụ")
    expect(desk.locator("#kpi-categories")).not_to_contain_text("service_attitude")

    # Another period asks the API again.
    day = staff_api(stack, "GET", "/api/kpis?days=1", token)
    desk.get_by_label("Khoảng thời gian").select_option("1")
    expect(desk.locator("#kpi-opened strong")).to_have_text(str(day["tickets"]["opened"]))
    context.close()
