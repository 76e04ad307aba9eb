"""The pages work under their Content-Security-Policy: nothing they need is refused (chromium, real stack)."""
from __future__ import annotations

from playwright.sync_api import expect

from bot.services.staff import StaffService
from bot.store.db import session_factory
from tests.integration.test_desk_browser import PASSWORD, _log_in
from tests.telegram_api import png

# Each refusal by the browser's policy, recorded in the page before any of its own scripts run.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  e => window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


def test_the_shop_page_and_the_desk_run_under_their_policies(browser, stack):
    context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 780})
    context.add_init_script(RECORD_VIOLATIONS)
    shop = context.new_page()
    shop.goto(stack.gateway_url + "/")
    shop.get_by_role("button", name="Mở khung chat hỗ trợ").click()
    assert shop.evaluate("window.HotroWidget.title") == "Hỗ trợ khách hàng"  # the page's inline configuration ran
    # The widget's own stylesheet applies: its panel is a fixed box, not unstyled text in the page.
    assert shop.locator(".hotro-panel").evaluate("panel => getComputedStyle(panel).position") == "fixed"
    box = shop.get_by_placeholder("Nhập tin nhắn…")
    box.fill("xin chào")
    box.press("Enter")
    expect(shop.get_by_role("log")).to_contain_text("Mình là trợ lý hỗ trợ khách hàng", timeout=20000)  # WebSocket
    with shop.expect_file_chooser() as chooser:
        shop.get_by_role("button", name="Đính kèm ảnh hoặc tệp PDF").click()
    chooser.value.set_files({"name": "hop.png", "mimeType": "image/png", "buffer": png(32, 24)})
    expect(shop.locator(".hotro-log img.hotro-thumb").last).to_have_js_property("naturalWidth", 32)  # blob: preview
    assert shop.evaluate("window.__violations") == []

    StaffService(session_factory(stack.db_url)).add("csp.check", PASSWORD, "Kiểm tra")
    desk_context, desk = _log_in(browser, stack, "csp.check", [])  # the login form posts under the policy
    desk.add_init_script(RECORD_VIOLATIONS)
    desk.reload()
    expect(desk.locator("#agent")).to_be_attached()
    assert desk.evaluate("window.__violations") == []
    desk_context.close()
    context.close()
