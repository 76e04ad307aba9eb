"""A customer in the widget and a staff member in the desk, two browser contexts, against the real stack."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from bot.services.staff import StaffService
from bot.services.tickets import ComplaintSubmission, TicketService
from bot.store.db import session_factory, session_scope
from bot.store.models import Order, Rating
from tests.integration.conftest import open_widget, staff_api
from tests.telegram_api import png

PASSWORD = "correct horse battery"
SCRIPT = "<script>alert('x')</script><b>đậm</b>"


def _earlier_ticket(factory) -> str:
    """A ticket the same customer filed weeks ago from another chat: the desk must show it."""
    with session_scope(factory) as session:
        customer_id = session.execute(select(Order.customer_id).where(Order.number == "DH100009")).scalar_one()
    ticket, _ = TicketService(factory).open(ComplaintSubmission(
        "desk-earlier", "web-desk-earlier", "web", "vi", "DH100009", True, "missing_item",
        "Lần trước: giao thiếu 1 hộp kem", None, customer_id=customer_id))
    return ticket.code


def _log_in(browser, stack, name, dialogs):
    """A browser context with `name` logged in to the desk, and its page."""
    context = browser.new_context(locale="vi-VN", viewport={"width": 1400, "height": 900})
    desk = context.new_page()
    desk.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    desk.goto(stack.gateway_url + "/desk")
    expect(desk).to_have_url(re.compile(r"/desk/login$"))
    desk.get_by_label("Tên đăng nhập / Name").fill(name)
    desk.get_by_label("Mật khẩu / Password").fill(PASSWORD)
    desk.get_by_role("button", name="Đăng nhập / Log in").click()
    expect(desk).to_have_url(re.compile(r"/desk$"))
    return context, desk


def test_staff_take_over_a_widget_chat_from_the_desk(browser, stack):
    factory = session_factory(stack.db_url)
    StaffService(factory).add("desk.thu", PASSWORD, "Thu")
    earlier = _earlier_ticket(factory)
    dialogs = []

    # Staff log in first: a person at the desk is what makes the live queue open.
    desk_context, desk = _log_in(browser, stack, "desk.thu", dialogs)
    expect(desk.locator(".me")).to_have_text("Thu")

    # The customer, on a phone, files a complaint, types some HTML, then asks for a person.
    shop_context, shop = open_widget(browser, stack, dialogs)
    log = shop.get_by_role("log")
    box = shop.get_by_placeholder("Nhập tin nhắn…")

    def say(text, expected):
        box.fill(text)
        box.press("Enter")
        expect(log).to_contain_text(expected, timeout=30000)

    say("đơn DH100019 bị giao sai màu, tôi muốn khiếu nại", "0934***666")
    say("đồng ý", "Giao sai hàng")
    say("đúng rồi, gửi đi", "KN-")
    code = re.findall(r"KN-\d{6}", log.inner_text())[-1]
    say(SCRIPT, SCRIPT)
    say("cho tôi gặp nhân viên", "hàng chờ")
    sender = shop.evaluate("JSON.parse(localStorage.getItem('hotro-chat')).sender")

    # The desk's queue shows the customer; the conversation view has everything the bot learned.
    waiting = desk.locator(f'#queued button[data-id="{sender}"]')
    expect(waiting).to_be_visible(timeout=10000)
    waiting.click()
    transcript = desk.locator("#transcript")
    expect(transcript).to_contain_text(SCRIPT)  # shown as text, not run or rendered
    assert desk.locator("#transcript b, #transcript script").count() == 0
    expect(desk.locator("#slots")).to_contain_text("DH100019")
    expect(desk.locator("#conv-tickets")).to_contain_text(code)
    expect(desk.locator("#history-tickets")).to_contain_text(earlier)
    expect(desk.locator("#history-tickets")).to_contain_text("Lần trước: giao thiếu 1 hộp kem")

    desk.get_by_role("button", name="Nhận hội thoại").click()
    expect(desk.locator("#conv-meta")).to_contain_text("desk.thu")
    desk.get_by_label("Ghi chú nội bộ (khách không thấy)").fill("khách đổi màu lần 2, ưu tiên")
    desk.get_by_role("button", name="Thêm ghi chú").click()
    expect(transcript).to_contain_text("khách đổi màu lần 2, ưu tiên")
    reply = desk.get_by_label("Trả lời khách")
    reply.fill("Chào chị Hà, em là Thu. Em gửi đổi áo đúng màu ngay hôm nay ạ.")
    reply.press("Enter")

    # The reply reaches the widget live, from a named person.
    expect(log).to_contain_text("Chào chị Hà, em là Thu", timeout=10000)
    expect(shop.locator(".hotro-staff").last).to_contain_text("Thu")

    desk.get_by_role("button", name="Trả lại cho bot").click()
    expect(log).to_contain_text("mấy điểm", timeout=30000)
    shop.get_by_role("button", name="5", exact=True).last.click()
    expect(log).to_contain_text("Cảm ơn bạn đã đánh giá", timeout=30000)
    with session_scope(factory) as session:
        ratings = [(r.score, r.agent) for r in session.execute(select(Rating).where(Rating.sender_id == sender)).scalars()]
    assert ratings == [(5, "Thu")]

    # A reload keeps the conversation; the staff-only note never reaches the customer.
    shop.reload()
    shop.get_by_role("button", name="Mở khung chat hỗ trợ").click()
    expect(shop.get_by_role("log")).to_contain_text("Chào chị Hà, em là Thu", timeout=20000)
    expect(shop.get_by_role("log")).to_contain_text(SCRIPT)
    assert "khách đổi màu lần 2" not in shop.get_by_role("log").inner_text()
    assert shop.locator(".hotro-log b").count() == 0 and dialogs == []

    # The ticket list: filter, and a status change the customer's "check my ticket" sees.
    desk.get_by_role("button", name="Phiếu khiếu nại").click()
    expect(desk.locator("#view-queue")).to_be_hidden()
    row = desk.locator(f'#ticket-rows tr[data-code="{code}"]')
    expect(row).to_be_visible()
    desk.locator('#ticket-filters select[name="category"]').select_option("missing_item")
    expect(row).to_have_count(0)
    expect(desk.locator(f'#ticket-rows tr[data-code="{earlier}"]')).to_be_visible()
    desk.locator('#ticket-filters select[name="category"]').select_option("")
    row.get_by_label(f"Trạng thái {code}").select_option("in_progress")
    expect(row.get_by_label(f"Trạng thái {code}")).to_have_value("in_progress")
    say(f"kiểm tra phiếu {code}", "Đang xử lý")
    desk_context.close()
    shop_context.close()


def test_staff_see_a_telegram_customers_photo_and_file_in_the_desk(browser, stack, telegram_api):
    staff = StaffService(session_factory(stack.db_url))
    staff.add("desk.anh", PASSWORD, "Anh")
    user = telegram_api.user(720001, "Vy", "vi")
    telegram_api.send_photo(user, caption="hộp bị móp", data=png(64, 48))
    telegram_api.send_document(user, SCRIPT + ".pdf", data=b"%PDF-1.4 receipt")
    telegram_api.wait_sent(720001, 2)
    staff_api(stack, "POST", "/api/conversations/tg-720001/claim", staff.issue_token("desk.anh"))
    dialogs = []
    context, desk = _log_in(browser, stack, "desk.anh", dialogs)
    desk.locator('#agent button[data-id="tg-720001"]').click()
    thumbnail = desk.locator("#transcript a.attachment img")
    expect(thumbnail).to_be_visible()
    # Polled by Playwright's own script: a wait_for_function string would be eval'd, which the desk's CSP forbids.
    expect(thumbnail).to_have_js_property("naturalWidth", 64)
    # The file name is the customer's text: shown, never rendered.
    expect(desk.locator("#transcript a.attachment").last).to_have_text("⬇ " + SCRIPT + ".pdf")
    assert desk.locator("#transcript b, #transcript script").count() == 0
    with context.expect_page() as opened:
        thumbnail.click()
    full_size = opened.value
    full_size.wait_for_load_state()
    assert full_size.url.endswith("/api/conversations/tg-720001/attachments/0")
    assert full_size.evaluate("document.images[0].naturalWidth") == 64 and dialogs == []
    context.close()
