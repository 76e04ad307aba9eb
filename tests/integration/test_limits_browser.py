"""A customer typing faster than the message limit, in the widget (chromium): told so, text kept, chat goes on.

The gateway runs here, in a thread, with a tight limit and a stand-in for Rasa (no real stack needed).
"""
from __future__ import annotations

import asyncio
import threading

from playwright.sync_api import expect

from bot.gateway.limits import GatewayLimits
from bot.ratelimit import LimitSettings, MemoryLimiter, Rate, refusal
from tests.serving import Clock, FakeRasa, gateway_app, serve


class GatewayThread:
    """A gateway (and its FakeRasa) on an event loop of its own, for a synchronous browser test
    (`with_staff`: with the staff API and the desk)."""

    def __init__(self, db_factory, limits: GatewayLimits = None, with_staff: bool = False):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.rasa = FakeRasa()

        async def start():
            await self.rasa.start()
            return await serve(gateway_app(db_factory, self.rasa.url, with_staff=with_staff, limits=limits))

        self.runner, self.url = asyncio.run_coroutine_threadsafe(start(), self.loop).result(30)

    def stop(self):
        async def stop():
            await self.runner.cleanup()
            await self.rasa.stop()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def test_a_message_over_the_limit_is_marked_not_sent_and_goes_back_in_the_box(browser, db_factory):
    clock = Clock()
    gateway = GatewayThread(db_factory, GatewayLimits(LimitSettings(messages=Rate(2, 60)), MemoryLimiter(clock)))
    context = browser.new_context(locale="vi-VN")
    try:
        page = context.new_page()
        page.goto(gateway.url + "/")
        page.get_by_role("button", name="Mở khung chat hỗ trợ").click()
        log, box = page.get_by_role("log"), page.get_by_placeholder("Nhập tin nhắn…")
        for text in ("một", "hai"):
            box.fill(text)
            box.press("Enter")
            expect(log).to_contain_text(f"echo {text}")
        box.fill("ba")
        box.press("Enter")
        expect(page.get_by_role("alert")).to_have_text(refusal("messages", "vi", 30))
        expect(box).to_have_value("ba")  # to send again, nothing to retype
        clock.advance(seconds=30)
        box.press("Enter")
        expect(log).to_contain_text("echo ba")  # the same chat, still connected
    finally:
        context.close()
        gateway.stop()
