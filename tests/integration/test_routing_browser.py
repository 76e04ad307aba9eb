"""Routing end to end (chromium, the real stack): two staff with different skills at their desks, customers whose
complaints differ in category and language; each chat lands with the right person, nobody claims anything,
and their desk shows a notice.

The shared stack runs with HOTRO_AUTO_ASSIGN=0 (tests/conftest.py: earlier tests expect a queue). This module
starts a second gateway on the same database, Rasa and action server, with routing on: the handoff queues the
chat (action server) and this gateway's routing gives it away within its one-second sweep.
"""
from __future__ import annotations

import re
import sys
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from playwright.sync_api import expect

from bot.runner import answers, free_port
from bot.services.conversations import ConversationService
from bot.services.staff import StaffService, skills_from
from bot.store.db import session_factory, session_scope
from bot.store.models import Staff
from tests.integration.conftest import Chat, load_stretch
from tests.integration.test_conversations import ticket_code
from tests.integration.test_desk_browser import PASSWORD, _log_in


class RoutingGateway:
    def __init__(self, gateway_url: str):
        self.gateway_url = gateway_url


@pytest.fixture(scope="module")
def routing_gateway(stack):
    port = free_port()
    env = {k: v for k, v in stack.env.items() if not k.startswith("TELEGRAM_")}  # the stack's gateway polls Telegram
    env.update(GATEWAY_PORT=str(port), RASA_URL=stack.rasa_url, HOTRO_AUTO_ASSIGN="1",
               HOTRO_ROUTING_SWEEP_SECONDS="1", HOTRO_ROUTING_FALLBACK_SECONDS="3600")
    proc = stack.spawn("gateway-routing", [sys.executable, "-m", "bot.gateway"], env=env)
    gateway = RoutingGateway(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while not answers(gateway.gateway_url + "/health"):
        assert proc.poll() is None and time.monotonic() < deadline, "the routing gateway did not start"
        time.sleep(0.3)
    yield gateway
    proc.terminate()
    proc.wait(20)
    stack.processes.remove(proc)


def _complaint_in_vietnamese(chat: Chat) -> str:
    chat.say("toi muon khieu nai don hang")
    chat.say("dh 100 005")
    chat.say("hang bi vo")
    chat.say("cai ly thuy tinh vo lam 3 manh, hop bi mop")
    chat.say("bao.vo@example.com")
    return ticket_code(chat.say("ok gui di"))


def _complaint_in_english(chat: Chat) -> str:
    chat.say("hello")
    chat.say("I want to file a complaint")
    chat.say("DH-100010")
    chat.say("the package never arrived")
    chat.say("I ordered two weeks ago and tracking has not moved since")
    chat.say("+84 912 345 678")
    return ticket_code(chat.say("yes"))


def test_each_chat_reaches_the_desk_of_the_person_with_its_skills(browser, stack, routing_gateway, tickets):
    factory = session_factory(stack.db_url)
    staff = StaffService(factory)
    # Capacity to spare: earlier tests may have left damaged+vi chats waiting, which Lan may get too.
    staff.add("r.lan", PASSWORD, "Lan", skills=skills_from("damaged", "vi"), capacity=10)
    staff.add("r.an", PASSWORD, "An", skills=skills_from("late_delivery", "en"), capacity=10)
    with _only_these_on_duty(factory, {"r.lan", "r.an"}):
        _two_desks_two_skills(browser, stack, routing_gateway, tickets, factory, staff)


@contextmanager
def _only_these_on_duty(factory, names):
    """Staff logged in by earlier tests (no skills: they fit any chat) go offline meanwhile, then as they were."""
    with session_scope(factory) as session:
        others = session.execute(select(Staff).where(Staff.name.not_in(names))).scalars().all()
        before = {member.name: (member.availability, member.seen_at) for member in others}
        for member in others:
            member.availability = "offline"
    try:
        yield
    finally:
        with session_scope(factory) as session:
            for member in session.execute(select(Staff).where(Staff.name.in_(list(before)))).scalars():
                member.availability, member.seen_at = before[member.name]


def _two_desks_two_skills(browser, stack, routing_gateway, tickets, factory, staff):
    dialogs = []
    lan_context, lan = _log_in(browser, routing_gateway, "r.lan", dialogs)
    an_context, an = _log_in(browser, routing_gateway, "r.an", dialogs)
    for desk in (lan, an):  # every notice the page shows, kept: a notice leaves the page after 20 s
        desk.wait_for_selector("#live-notices", state="attached")
        desk.evaluate("""() => { window.seenNotices = [];
            new MutationObserver(changes => changes.forEach(change => change.addedNodes.forEach(node => {
                if (node.dataset) window.seenNotices.push(node.className + " " + node.dataset.conversation); })))
              .observe(document.getElementById("live-notices"), {childList: true}); }""")

    vi = Chat(stack, "route-vi-damaged", routing_gateway.gateway_url)
    en = Chat(stack, "route-en-late", routing_gateway.gateway_url)
    other = Chat(stack, "route-vi-other", routing_gateway.gateway_url)
    vi_code, en_code = _complaint_in_vietnamese(vi), _complaint_in_english(en)
    assert (tickets.get(vi_code).category, tickets.get(vi_code).language) == ("damaged", "vi")
    assert (tickets.get(en_code).category, tickets.get(en_code).language) == ("late_delivery", "en")
    conversations = ConversationService(factory)
    for chat, ask in ((vi, "cho tôi gặp nhân viên"), (en, "I want to talk to a person"),
                      (other, "cho tôi gặp nhân viên")):
        if conversations.owner(chat.sender) == "bot":  # a high-priority complaint is handed over by itself
            chat.say(ask)
        assert conversations.owner(chat.sender) in ("queued", "agent"), chat.transcript

    wait = 20000 * load_stretch()
    for desk, chat, name, skill in ((lan, vi, "r.lan", "damaged+vi"), (an, en, "r.an", "late_delivery+en")):
        mine = desk.locator(f'#agent button[data-id="{chat.sender}"]')
        expect(mine).to_be_visible(timeout=wait)  # arrived, with nobody pressing Claim
        # and the page told them so (pushed: the desk's notice for a chat given to them)
        desk.wait_for_function("wanted => window.seenNotices.includes(wanted)",
                               arg=f"notice assigned {chat.sender}", timeout=wait)
        expect(desk.locator(f'#agent li:has(button[data-id="{chat.sender}"]) .sub')).to_contain_text(name)
        mine.click()
        expect(desk.locator("#conv-meta")).to_contain_text(name)
        expect(desk.locator("#transcript")).to_contain_text(f"skill {skill}, ")  # why it is theirs
        reply = desk.get_by_label("Trả lời khách")
        reply.fill(f"Chào bạn, mình là {name} đây.")
        reply.press("Enter")  # theirs already: no claim before replying
        expect(desk.locator("#transcript")).to_contain_text(f"mình là {name} đây", timeout=wait)
        assert tickets.get(vi_code if chat is vi else en_code).assignee == name  # the ticket followed the chat

    # A chat neither of them fits waits in the queue (the fallback time is an hour here) for a claim.
    expect(lan.locator(f'#queued button[data-id="{other.sender}"]')).to_be_visible(timeout=wait)
    assert conversations.summary(other.sender).owner == "queued"
    staff_lines = [(line.author_name, line.text) for line in conversations.transcript(vi.sender)
                   if line.author_type == "staff"]
    assert staff_lines == [("Lan", "Chào bạn, mình là r.lan đây.")]
    assert dialogs == []
    for desk in (lan, an):  # they leave: later tests of the stack expect nobody they did not log in themselves
        desk.get_by_role("button", name="Đăng xuất").click()
        expect(desk).to_have_url(re.compile(r"/desk/login$"))
    assert {staff.account(n).availability for n in ("r.lan", "r.an")} == {"offline"}
    lan_context.close()
    an_context.close()
