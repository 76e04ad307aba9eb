"""The desk's live side in chromium, against the real stack: action scripts and saved replies, a queue that reads
like people, and notifications pushed over server-sent events while the desk does not poll."""
from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from bot.services.staff import StaffService
from bot.store.db import session_factory
from tests.integration.conftest import load_stretch, open_widget, staff_api
from tests.integration.test_desk_browser import PASSWORD, _log_in


def _say(shop, text, expected):
    box = shop.get_by_placeholder("Nhập tin nhắn…")
    box.fill(text)
    box.press("Enter")
    expect(shop.get_by_role("log")).to_contain_text(expected, timeout=30000)


def test_an_action_script_guides_a_damaged_goods_chat(browser, stack):
    StaffService(session_factory(stack.db_url)).add("live.minh", PASSWORD, "Minh (CSKH)")
    dialogs = []
    desk_context, desk = _log_in(browser, stack, "live.minh", dialogs)

    # A customer whose glasses arrived broken files a complaint, then asks for a person.
    shop_context, shop = open_widget(browser, stack, dialogs)
    _say(shop, "đơn DH100012 bộ ly thủy tinh bị vỡ hết rồi, tôi muốn khiếu nại", "0987***321")
    _say(shop, "đồng ý", "Hàng bị hư hỏng")
    _say(shop, "đúng rồi, gửi đi", "KN-")
    code = re.findall(r"KN-\d{6}", shop.get_by_role("log").inner_text())[-1]
    _say(shop, "cho tôi gặp nhân viên", "hàng chờ")
    sender = shop.evaluate("JSON.parse(localStorage.getItem('hotro-chat')).sender")

    # The queue names the customer (from the verified order), with the channel, category, priority and deadline.
    item = desk.locator(f'#queued li:has(button[data-id="{sender}"])')
    expect(item).to_be_visible(timeout=15000)
    expect(item.locator(".who")).to_have_text(" Trần Văn Minh")
    assert sender not in item.inner_text()  # never the raw id as the label
    expect(item.locator(".channel")).to_have_attribute("title", "Website")
    expect(item.locator(".category")).to_have_text("Hàng bị hư hỏng, vỡ, lỗi")
    expect(item.locator(".sla")).to_contain_text("tiếp nhận: còn")
    expect(item.locator(".badge")).to_be_visible()

    item.locator("button.link").click()
    desk.get_by_role("button", name="Nhận hội thoại").click()
    expect(desk.locator("#conv-meta")).to_contain_text("live.minh")

    # Beside the conversation: the damaged-goods script of this ticket.
    panel = desk.locator("#script-panel")
    expect(panel.locator("h2")).to_have_text(f"Kịch bản xử lý · Hàng bị hư hỏng, vỡ, lỗi · {code}")
    expect(panel.get_by_label("Xin khách ảnh chụp món hàng hỏng, bao bì và tem vận đơn")).not_to_be_checked()
    expect(panel.get_by_label("Kiểm tra biên bản giao hàng của đơn vị vận chuyển (ký nhận, ghi chú móp hộp)")).to_be_visible()
    expect(panel.get_by_label("Đề nghị đổi hàng mới hoặc hoàn tiền, theo lựa chọn của khách")).to_be_visible()

    # "/" offers the saved replies, filled in; Enter takes the highlighted one, Enter again sends it.
    reply = desk.get_by_label("Trả lời khách")
    reply.press_sequentially("/xin")
    picker = desk.get_by_role("listbox")
    expect(picker).to_be_visible()
    expect(picker.get_by_role("option").first).to_contain_text("Xin ảnh hàng hỏng / Ask for photos (vi)")
    reply.press("Enter")
    expect(picker).to_be_hidden()
    sent = reply.input_value()
    assert sent.startswith("Chào Trần Văn Minh, em rất tiếc vì món hàng trong đơn DH100012 bị hỏng.")
    assert code in sent and "{" not in sent
    reply.press("Enter")
    expect(shop.get_by_role("log")).to_contain_text(f"Mã phiếu của mình là {code}", timeout=10000)
    expect(shop.get_by_role("log")).to_contain_text("Chào Trần Văn Minh, em rất tiếc vì món hàng trong đơn DH100012")

    # Ticking steps is recorded on the ticket, with who did it.
    panel.get_by_label("Xin khách ảnh chụp món hàng hỏng, bao bì và tem vận đơn").check()
    panel.get_by_label("Kiểm tra biên bản giao hàng của đơn vị vận chuyển (ký nhận, ghi chú móp hộp)").check()
    expect(panel.locator('li[data-step="check-carrier"] .sub')).to_contain_text("✓ bởi live.minh")
    desk.reload()
    desk.locator(f'#agent button[data-id="{sender}"]').click()
    expect(panel.locator('li[data-step="ask-photos"] input')).to_be_checked()
    expect(panel.locator('li[data-step="check-carrier"] input')).to_be_checked()
    expect(panel.locator('li[data-step="offer-remedy"] input')).not_to_be_checked()
    expect(panel.locator('li[data-step="ask-photos"] .sub')).to_contain_text("✓ bởi live.minh")
    desk.get_by_role("button", name="Phiếu khiếu nại").click()
    expect(desk.locator(f'#ticket-rows tr[data-code="{code}"] .steps-done')).to_have_text("✓ 2/4 bước đã làm")
    script = desk.request.get(f"{stack.gateway_url}/api/tickets/{code}/script").json()
    assert [s["id"] for s in script["steps"] if s["done"]] == ["ask-photos", "check-carrier"]
    assert dialogs == []
    desk_context.close()
    shop_context.close()


def test_a_customer_message_reaches_the_staff_member_as_a_pushed_notification(browser, stack):
    staff = StaffService(session_factory(stack.db_url))
    staff.add("live.lan", PASSWORD, "Lan")
    staff.add("live.boss", PASSWORD, "Sếp")
    dialogs = []
    desk_context, desk = _log_in(browser, stack, "live.lan", dialogs)
    expect(desk.locator("#queued")).to_contain_text("")  # the lists are drawn

    shop_context, shop = open_widget(browser, stack, dialogs)
    _say(shop, "xin chào", "")
    sender = shop.evaluate("JSON.parse(localStorage.getItem('hotro-chat')).sender")
    # A colleague assigns the chat to Lan: her desk says so at once.
    staff_api(stack, "POST", f"/api/conversations/{sender}/claim", staff.issue_token("live.boss"), {"agent": "live.lan"})
    assigned = desk.locator(f'#live-notices .notice.assigned[data-conversation="{sender}"]')
    expect(assigned).to_contain_text("Hội thoại mới giao cho bạn", timeout=10000)
    expect(desk.locator(f'#agent button[data-id="{sender}"]')).to_be_visible()

    # Lan works on tickets. The desk asks nothing of the server while nothing happens: no polling.
    desk.get_by_role("button", name="Phiếu khiếu nại").click()
    desk.wait_for_load_state("networkidle")
    asked = []
    desk.on("request", lambda request: asked.append(request.url))
    time.sleep(4 * load_stretch())  # longer than the 3-second poll the desk used to make
    assert [url for url in asked if "/api/" in url] == []
    assert not desk.title().startswith("(")

    # The customer writes: the title shows a count, a notice appears in the page, and the tab counts it.
    started = time.monotonic()
    _say(shop, "shop ơi đơn của tôi sao chưa giao", "shop ơi đơn của tôi sao chưa giao")
    notice = desk.locator(f'#live-notices .notice.wrote[data-conversation="{sender}"]')
    expect(notice).to_contain_text("Tin nhắn mới", timeout=10000)
    expect(notice).to_contain_text("shop ơi đơn của tôi sao chưa giao")
    expect(desk).to_have_title(re.compile(r"^\(1\) hotro desk$"))
    expect(desk.locator("#tab-queue .count")).to_have_text("1")
    assert time.monotonic() - started < 10 * load_stretch()
    # What the page asked came after the push: the lists, never the Rasa tracker of a chat nobody opened.
    assert not [url for url in asked if url.endswith(f"/api/conversations/{sender}")]

    # Opening it reads it: the badge goes.
    notice.get_by_role("button", name="Mở").click()
    expect(desk.locator("#transcript")).to_contain_text("shop ơi đơn của tôi sao chưa giao")
    expect(desk).to_have_title("hotro desk")

    # The sound can be turned off, and stays off.
    desk.get_by_role("button", name="🔔 Âm thanh: bật").click()
    expect(desk.locator("#live-sound")).to_have_text("🔕 Âm thanh: tắt")
    desk.reload()
    expect(desk.locator("#live-sound")).to_have_attribute("aria-pressed", "false")
    assert dialogs == []
    desk_context.close()
    shop_context.close()
