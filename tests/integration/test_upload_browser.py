"""A website customer attaches a photo in the widget; a staff member sees it in the desk (chromium, real stack)."""
from __future__ import annotations

from playwright.sync_api import expect

from bot.channels.common import attachment_received
from bot.services.staff import StaffService
from bot.store.db import session_factory
from tests.integration.conftest import open_widget, staff_api
from tests.integration.test_desk_browser import PASSWORD, _log_in
from tests.telegram_api import png

NAME = "<img src=x onerror=alert(1)>hộp vỡ.png"  # the customer's file name: shown as text, never as HTML


def test_a_photo_attached_in_the_widget_is_seen_by_the_customer_and_in_the_desk(browser, stack):
    staff = StaffService(session_factory(stack.db_url))
    staff.add("desk.upload", PASSWORD, "Hoa")
    dialogs = []
    shop_context, shop = open_widget(browser, stack, dialogs)
    log = shop.get_by_role("log")
    attach = shop.get_by_role("button", name="Đính kèm ảnh hoặc tệp PDF")

    # Too big: said at once, nothing sent.
    with shop.expect_file_chooser() as chooser:
        attach.click()
    chooser.value.set_files({"name": "to.png", "mimeType": "image/png", "buffer": b"\x89PNG" + bytes(11 * 2**20)})
    expect(log).to_contain_text("Tệp lớn hơn 10 MB")

    # The network fails: the customer is told, and the chat goes on.
    shop.route("**/upload?*", lambda route: route.abort())
    with shop.expect_file_chooser() as chooser:
        attach.click()
    chooser.value.set_files({"name": "lan-1.png", "mimeType": "image/png", "buffer": png(8, 8)})
    expect(shop.get_by_role("alert")).to_have_text("Chưa gửi được tệp, bạn vui lòng thử lại.")
    shop.unroute("**/upload?*")

    with shop.expect_file_chooser() as chooser:
        attach.click()
    chooser.value.set_files({"name": NAME, "mimeType": "image/png", "buffer": png(64, 48)})
    thumbnail = shop.locator(".hotro-log img.hotro-thumb").last
    expect(thumbnail).to_be_visible()
    assert thumbnail.get_attribute("src").startswith("blob:")  # the customer's own copy, not downloaded again
    # Polled by Playwright's own script: a wait_for_function string would be eval'd, which the CSP forbids.
    expect(thumbnail).to_have_js_property("naturalWidth", 64)
    expect(log).to_contain_text(attachment_received("vi", "photo"), timeout=20000)
    sender = shop.evaluate("JSON.parse(localStorage.getItem('hotro-chat')).sender")

    # A reload shows the line again, by its name (as text).
    shop.reload()
    shop.get_by_role("button", name="Mở khung chat hỗ trợ").click()
    expect(shop.get_by_role("log")).to_contain_text(NAME, timeout=20000)
    assert shop.locator(".hotro-log img").count() == 0 and dialogs == []

    staff_api(stack, "POST", f"/api/conversations/{sender}/claim", staff.issue_token("desk.upload"))
    desk_context, desk = _log_in(browser, stack, "desk.upload", dialogs)
    desk.locator(f'#agent button[data-id="{sender}"]').click()
    expect(desk.locator("#transcript a.attachment img")).to_be_visible()
    expect(desk.locator("#transcript a.attachment img")).to_have_js_property("naturalWidth", 64)
    assert dialogs == []
    desk_context.close()
    shop_context.close()
