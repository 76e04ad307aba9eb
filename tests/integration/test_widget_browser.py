"""The website widget in a real browser (Debian chromium driven by Playwright) against the real stack."""
from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("HOTRO_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"chromium not found at {CHROMIUM}: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def test_customer_chats_in_the_widget_and_a_reload_keeps_the_conversation(browser, stack):
    context = browser.new_context(viewport={"width": 390, "height": 780}, locale="vi-VN")  # a phone
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(stack.gateway_url + "/")
    page.get_by_role("button", name="Mở khung chat hỗ trợ").click()
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
    page.reload()
    page.get_by_role("button", name="Mở khung chat hỗ trợ").click()
    expect(page.get_by_role("log")).to_contain_text("Mình là trợ lý hỗ trợ khách hàng", timeout=20000)
    expect(page.get_by_role("log")).to_contain_text("<script>alert('x')</script>")
    context.close()
