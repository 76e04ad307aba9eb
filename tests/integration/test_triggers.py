"""Handoff triggers end to end (real Rasa + action server): threats, abuse, high-priority
complaints and a customer escalating their own ticket, checked in the database."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.services.conversations import ConversationService
from bot.services.staff import StaffService
from bot.store.db import session_factory, session_scope
from bot.store.models import Order, Staff, StaffToken
from tests.integration.test_conversations import ticket_code


# This module's own orders, copies of demo orders: other modules file complaints on the demo orders (the
# typed conversations do), and an order with an earlier ticket makes any new complaint high priority, so
# these tests would depend on which modules ran before them.
OWN_ORDERS = {f"DH1000{n}": f"DH1900{n}" for n in range(11, 17)}


@pytest.fixture(scope="module", autouse=True)
def own_orders(stack):
    with session_scope(session_factory(stack.db_url)) as session:
        for demo, own in OWN_ORDERS.items():
            if session.execute(select(Order.id).where(Order.number == own)).first() is None:
                source = session.execute(select(Order).where(Order.number == demo)).scalars().one()
                session.add(Order(number=own, customer_id=source.customer_id, status=source.status,
                                  items=source.items, total_vnd=source.total_vnd, placed_at=source.placed_at))


def _staff_seen(stack, when):
    with session_scope(session_factory(stack.db_url)) as session:
        session.execute(update(StaffToken).values(last_used_at=when))
        session.execute(update(Staff).values(seen_at=when))  # the desk, the API and the Telegram staff group


@pytest.fixture
def staff_away(stack):
    """Nobody at the desk (other tests may have left someone online): a person follows up on the ticket."""
    _staff_seen(stack, datetime.utcnow() - timedelta(days=1))


@pytest.fixture
def staff_online(stack):
    staff = StaffService(session_factory(stack.db_url))
    if not staff.check_password("trigger-desk", "correct horse battery"):
        staff.add("trigger-desk", "correct horse battery", "Desk")
    staff.by_token(staff.issue_token("trigger-desk"))
    yield
    _staff_seen(stack, datetime.utcnow() - timedelta(days=1))


def owner(stack, sender):
    return ConversationService(session_factory(stack.db_url)).owner(sender)


def test_a_threat_opens_an_urgent_ticket_and_hands_over(chat, tickets, stack, staff_away):
    c = chat("trg-threat")
    reply = c.say("shop làm ăn lừa đảo, đơn DH190011 không giao mà không hoàn tiền, tôi sẽ báo công an")
    assert "quản lý" in reply  # seed 004: a manager handles it
    ticket = tickets.get(ticket_code(reply))
    assert ticket.priority == "urgent" and ticket.source == "handoff:threat"
    assert ticket.order_number == "DH190011"
    assert "1 giờ" in reply  # the urgent acknowledgement time
    assert "chưa hiểu" not in reply


def test_a_threat_without_diacritics_is_caught_too(chat, tickets, staff_away):
    c = chat("trg-threat-bare")
    reply = c.say("toi se kien shop ra toa")
    assert tickets.get(ticket_code(reply)).priority == "urgent"


def test_a_parcel_is_not_a_lawsuit(chat, tickets):
    c = chat("trg-parcel")
    reply = c.say("kiện hàng của tôi bị móp méo hết")
    assert "quản lý" not in reply
    assert tickets.for_sender("trg-parcel") == []


def test_abuse_gets_a_calm_answer_and_a_person(chat, tickets, staff_away):
    c = chat("trg-abuse")
    reply = c.say("dm giao hàng kiểu gì mà chậm thế")
    assert "bực mình" in reply
    ticket = tickets.get(ticket_code(reply))
    assert ticket.source == "handoff:abuse"
    en = chat("trg-abuse-en")
    reply = en.say("this is fucking useless, where is my stuff")
    assert "frustrating" in reply and "support staff" in reply


def test_abuse_joins_the_live_queue_when_staff_are_online(chat, stack, staff_online):
    c = chat("trg-abuse-live")
    reply = c.say("bọn óc chó, trả lời đi")
    assert "bực mình" in reply and "hàng chờ" in reply
    assert owner(stack, "trg-abuse-live") == "queued"


def _complaint(c, order, problem, description, contact="0912345678"):
    c.say("tôi muốn khiếu nại")
    c.say(order)
    c.say(problem)
    asked_contact = c.say(description)
    c.say(contact)
    return asked_contact, c.say("gửi đi")


def test_a_threat_in_the_description_keeps_the_form_and_ends_with_a_person(chat, tickets, stack, staff_online):
    c = chat("trg-form-threat")
    asked_contact, done = _complaint(
        c, "DH190012", "giao sai hàng", "đặt áo trắng giao áo đen, không đổi thì tôi kiện shop ra tòa")
    assert "liên hệ" in asked_contact  # the form went on to the next question
    ticket = tickets.get(ticket_code(done))
    assert ticket.priority == "urgent" and ticket.source == "complaint_form"
    assert "kiện shop ra tòa" in ticket.description
    assert "hàng chờ" in done  # and a person joins
    assert owner(stack, "trg-form-threat") == "queued"


def test_a_high_priority_complaint_goes_to_a_person_when_nobody_is_online(chat, tickets, stack, staff_away):
    c = chat("trg-form-high")
    _, done = _complaint(c, "DH190013", "hoàn tiền", "tôi bị trừ tiền 2 lần cho cùng một đơn")
    ticket = tickets.get(ticket_code(done))
    assert ticket.priority == "high"
    assert "4 giờ" in done and "ưu tiên" in done
    assert owner(stack, "trg-form-high") == "bot"


def test_a_normal_complaint_is_not_handed_over(chat, tickets, staff_away):
    c = chat("trg-form-normal")
    _, done = _complaint(c, "DH190014", "giao sai hàng", "giao nhầm size M thành size L")
    assert tickets.get(ticket_code(done)).priority == "normal"
    assert "ưu tiên" not in done and "hàng chờ" not in done


def test_the_owner_escalates_their_ticket_and_a_stranger_cannot(chat, tickets, staff_away):
    c = chat("trg-owner")
    _, done = _complaint(c, "DH190015", "giao sai hàng", "giao nhầm màu xanh thành màu đỏ")
    code = ticket_code(done)
    assert tickets.get(code).priority == "normal"

    stranger = chat("trg-stranger")
    refused = stranger.say(f"{code} mấy ngày rồi chưa ai xử lý, tôi muốn gặp quản lý")
    assert "không tìm thấy" in refused and code not in refused
    assert tickets.get(code).priority == "normal" and len(tickets.get(code).events) == 1
    assert tickets.for_sender("trg-stranger") == []

    reply = c.say(f"{code} mấy ngày rồi chưa ai xử lý, tôi muốn gặp quản lý")
    ticket = tickets.get(code)
    assert ticket.priority == "high"
    assert ticket.last_event.note == "escalated by customer" and ticket.last_event.author == "customer"
    assert code in reply and "cao" in reply and "4 giờ" in reply
    assert len(tickets.for_sender("trg-owner")) == 1  # the person gets that ticket, not a new one


def test_escalating_in_english_without_a_code(chat, tickets, staff_away):
    c = chat("trg-owner-en")
    c.say("I want to file a complaint")
    c.say("DH190016")
    c.say("the package never arrived")
    c.say("ordered three weeks ago and nothing since")
    c.say("0987654321")
    code = ticket_code(c.say("yes"))
    reply = c.say("my complaint still hasn't been resolved, please escalate it")
    assert code in reply and "raised its priority" in reply
    assert tickets.get(code).priority == "high"
