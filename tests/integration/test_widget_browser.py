"""The website widget in a real browser (Debian chromium driven by Playwright) against the real stack."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.integration.conftest import open_widget


def test_customer_chats_in_the_widget_and_a_reload_keeps_the_conversation(browser, stack):
    dialogs = []
    context, page = open_widget(browser, stack, dialogs)
    log = page.get_by_role("log")
    box = page.get_by_placeholder("Nhập tin nhắn…")
    box.fill("xin chào")
    box.press("Enter")
    expect(log).to_contain_text("Mình là trợ lý hỗ trợ khách hàng", timeout=20000)
    page.get_by_role("button", name="Gửi khiếu nại").click()
    expect(log).to_contain_text("mã đơn hàng", timeout=20000)
    box.fill("<script>alert('x')</script><b>đậm</b>")
    box.press("Enter")
    expect(log).to_contain_text("<script>alert('x')</script><b>đậm</b>")  # shown as text
    assert page.locator(".hotro-log b").count() == 0 and dialogs == []
    expect(log).to_contain_text("Mã đơn hàng cần có dạng", timeout=20000)  # answered before the reload
    page.reload()
    page.get_by_role("button", name="Mở khung chat hỗ trợ").click()
    expect(page.get_by_role("log")).to_contain_text("Mình là trợ lý hỗ trợ khách hàng", timeout=20000)
    expect(page.get_by_role("log")).to_contain_text("<script>alert('x')</script>")
    context.close()
