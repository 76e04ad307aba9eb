"""The desk's staff tab (chromium): an admin adds a person with skills and capacity, changes a colleague's,
sets a new password and disables an account; an agent has no such tab and sets their own availability.

The gateway runs here, in a thread (no Rasa needed to manage staff).
"""
from __future__ import annotations

import re
from types import SimpleNamespace

from playwright.sync_api import expect

from bot.services.conversations import ConversationService
from bot.services.staff import StaffService
from tests.integration.test_desk_browser import PASSWORD, _log_in
from tests.integration.test_limits_browser import GatewayThread


def test_an_admin_manages_the_team_from_the_staff_tab(browser, db_factory):
    staff = StaffService(db_factory)
    staff.add("chu", PASSWORD, "Chủ shop", roles="admin")
    staff.add("lan", PASSWORD, "Lan")
    conversations = ConversationService(db_factory)
    conversations.record("web-lan", "customer", "hàng vỡ rồi shop ơi")
    conversations.set_owner("web-lan", "agent", "lan")
    gateway = GatewayThread(db_factory, with_staff=True)
    where = SimpleNamespace(gateway_url=gateway.url)
    dialogs = []
    try:
        lan_context, lan_desk = _log_in(browser, where, "lan", dialogs)
        # An agent: no staff tab, but their own availability.
        expect(lan_desk.locator("#tab-staff")).to_have_count(0)
        lan_desk.get_by_label("Trạng thái của tôi").select_option("away")
        expect(lan_desk.locator("#status")).to_contain_text("tạm vắng")
        assert staff.account("lan").chosen_availability == "away"

        context, desk = _log_in(browser, where, "chu", dialogs)
        desk.get_by_role("button", name="Nhân viên").click()
        expect(desk.locator("#view-staff")).to_be_visible()
        expect(desk.locator("#view-queue")).to_be_hidden()
        expect(desk.locator('#staff-list li[data-name="lan"]')).to_contain_text("tạm vắng")

        # A new person who handles wrong items in English, two chats at once.
        desk.get_by_role("button", name="+ Thêm người").click()
        desk.get_by_label("Tên đăng nhập (chữ thường, không dấu cách)").fill("an")
        desk.get_by_label("Tên khách nhìn thấy").fill("An Trần")
        desk.get_by_label("Mật khẩu (ít nhất 10 ký tự)").fill("first password 1")
        desk.locator("#staff-categories").get_by_label("Giao sai hàng (màu, size, mẫu)").check()
        desk.locator("#staff-languages").get_by_label("English").check()
        desk.get_by_label("Số chat cùng lúc").fill("2")
        desk.get_by_role("button", name="Lưu").click()
        expect(desk.locator("#status")).to_contain_text("Đã thêm")
        row = desk.locator('#staff-list li[data-name="an"]')
        expect(row).to_contain_text("Giao sai hàng (màu, size, mẫu) · English · mọi · 2 chat cùng lúc")
        account = staff.account("an")
        assert (account.display_name, account.capacity, account.roles) == ("An Trần", 2, ("agent",))
        assert (account.skills.categories, account.skills.languages, account.skills.channels) == (
            ("wrong_item",), ("en",), ())

        # A name that is taken, and a capacity out of range: said in the form, nothing changes.
        desk.get_by_role("button", name="+ Thêm người").click()
        desk.get_by_label("Tên đăng nhập (chữ thường, không dấu cách)").fill("lan")
        desk.get_by_label("Mật khẩu (ít nhất 10 ký tự)").fill("some password 1")
        desk.get_by_role("button", name="Lưu").click()
        expect(desk.locator("#staff-error")).to_contain_text("already a staff member called lan")

        # Lan also takes damaged goods, four at once, and edits the FAQ.
        desk.locator('#staff-list li[data-name="lan"] button').click()
        expect(desk.locator("#h-staff-edit")).to_have_text("Sửa lan")
        desk.locator("#staff-categories").get_by_label("Hàng bị hư hỏng, vỡ, lỗi").check()
        desk.locator("#staff-roles").get_by_label("editor (FAQ)").check()
        desk.get_by_label("Số chat cùng lúc").fill("0")
        desk.get_by_role("button", name="Lưu").click()
        expect(desk.locator("#staff-error")).to_contain_text("capacity")
        assert staff.account("lan").capacity == 3
        desk.get_by_label("Số chat cùng lúc").fill("4")
        desk.get_by_role("button", name="Lưu").click()
        expect(desk.locator("#status")).to_contain_text("Đã lưu")
        expect(desk.locator('#staff-list li[data-name="lan"]')).to_contain_text("Hàng bị hư hỏng, vỡ, lỗi · mọi · mọi · 4 chat")
        lan = staff.account("lan")
        assert (lan.capacity, lan.roles, lan.skills.categories) == (4, ("agent", "editor"), ("damaged",))

        # A new password for An: the old one no longer opens the desk, the new one does.
        desk.locator('#staff-list li[data-name="an"] button').click()
        desk.get_by_label("Mật khẩu mới").fill("second password 2")
        desk.get_by_role("button", name="Đặt mật khẩu mới").click()
        expect(desk.locator("#status")).to_contain_text("Đã đặt mật khẩu mới")
        assert staff.check_password("an", "first password 1") is None
        assert staff.check_password("an", "second password 2") is not None

        # Disabling Lan ends her session at once and puts her chat back in the queue.
        desk.locator('#staff-list li[data-name="lan"] button').click()
        desk.get_by_role("button", name="Khoá tài khoản").click()
        expect(desk.locator("#status")).to_contain_text("Đã khoá")
        expect(desk.locator('#staff-list li[data-name="lan"]')).to_contain_text("đã khoá")
        expect(desk.get_by_role("button", name="Mở khoá tài khoản")).to_be_visible()
        assert conversations.summary("web-lan").owner == "queued"
        # Her open desk hears of it (pushed) and goes to the login page by itself: no reload.
        expect(lan_desk).to_have_url(re.compile(r"/desk/login(\?e=expired)?$"))

        # Other tabs still work and leave the staff tab.
        desk.get_by_role("button", name="Hàng chờ").click()
        expect(desk.locator("#view-staff")).to_be_hidden()
        expect(desk.locator("#view-queue")).to_be_visible()
        expect(desk.locator('#queued button[data-id="web-lan"]')).to_be_visible()
        assert dialogs == []
        context.close()
        lan_context.close()
    finally:
        gateway.stop()
