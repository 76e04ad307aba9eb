"""The queue reads like people: name or masked phone, category, priority and the next deadline."""
from __future__ import annotations

from datetime import datetime

from bot.services.conversations import ConversationService
from bot.services.queue_view import QueueViewService
from bot.services.tickets import ComplaintSubmission, TicketService
from bot.store.db import session_scope
from bot.store.models import Conversation, Customer
from tests.serving import Clock


def _ticket(factory, clock, sender, category="damaged", contact=None, customer_id=None, description="hỏng",
            key=None, language="vi"):
    ticket, _ = TicketService(factory, clock).open(ComplaintSubmission(
        key or f"k-{sender}-{category}", sender, "web", language, "DH100001", customer_id is not None, category,
        description, contact, customer_id=customer_id))
    return ticket.code


def test_cards_say_who_the_customer_is_and_what_is_due(db_factory):
    clock = Clock(datetime(2026, 12, 1, 3, 0))
    conversations = ConversationService(db_factory, clock)
    with session_scope(db_factory) as session:
        customer = Customer(name="Trần Văn Bình", phone="0987654321")
        session.add(customer)
        session.flush()
        binh = customer.id
    named = _ticket(db_factory, clock, "web-binh", "damaged", customer_id=binh)
    _ticket(db_factory, clock, "web-phone", "late_delivery", contact="0912 345 678", language="en")
    _ticket(db_factory, clock, "web-mail", "other", contact="an@example.com")
    conversations.record("web-nobody", "customer", "xin chào")
    clock.advance(hours=1)
    cards = QueueViewService(db_factory, clock).cards(["web-binh", "web-phone", "web-mail", "web-nobody", "nope"])
    assert set(cards) == {"web-binh", "web-phone", "web-mail", "web-nobody"}

    binh_card = cards["web-binh"].as_dict(clock())
    assert binh_card["customer_name"] == "Trần Văn Bình" and binh_card["customer_phone"] == "0987***321"
    assert binh_card["ticket"] == named and binh_card["category"] == "damaged"
    assert binh_card["category_label"] == {"vi": "Hàng bị hư hỏng, vỡ, lỗi", "en": "Damaged, broken or faulty"}
    assert binh_card["priority"] == "normal"
    # Not acknowledged yet: the 24 h acknowledgement is the next promise, 23 h from now.
    assert binh_card["sla"] == {"kind": "acknowledge", "due_at": "2026-12-02T03:00:00Z", "seconds_left": 23 * 3600}

    phone = cards["web-phone"].as_dict(clock())
    assert phone["customer_name"] is None and phone["customer_phone"] == "0912***678"
    assert phone["language"] == "en" and phone["category_label"]["en"] == "Late / not delivered"
    mail = cards["web-mail"]
    assert mail.name is None and mail.masked_phone is None  # never the email or the raw id as a label
    nobody = cards["web-nobody"].as_dict(clock())
    assert nobody["ticket"] is None and nobody["sla"] is None and nobody["category_label"] is None


def test_the_deadline_moves_to_resolution_and_closed_tickets_drop_out(db_factory):
    clock = Clock(datetime(2026, 12, 1, 3, 0))
    tickets = TicketService(db_factory, clock)
    first = _ticket(db_factory, clock, "web-x", "damaged", key="a")
    clock.advance(hours=2)
    tickets.set_status(first, "acknowledged", "thu")
    card = QueueViewService(db_factory, clock).cards(["web-x"])["web-x"]
    assert card.sla_kind == "resolve" and card.sla_due_at == datetime(2026, 12, 3, 3, 0)
    clock.advance(hours=50)
    assert card.as_dict(clock())["sla"]["seconds_left"] == -4 * 3600  # overdue: negative
    tickets.set_status(first, "resolved", "thu")
    assert QueueViewService(db_factory, clock).cards(["web-x"])["web-x"].ticket is None
    # A newer open ticket of the same chat is the one shown.
    second = _ticket(db_factory, clock, "web-x", "missing_item", key="b", description="thiếu 1 hộp")
    assert QueueViewService(db_factory, clock).cards(["web-x"])["web-x"].ticket == second


def test_a_telegram_customer_is_named_from_their_record(db_factory):
    with session_scope(db_factory) as session:
        customer = Customer(name="Lê Hoa", telegram_user_id="4242")
        session.add(customer)
        session.flush()
        session.add(Conversation(sender_id="tg-4242", channel="telegram", customer_id=customer.id))
    card = QueueViewService(db_factory).cards(["tg-4242"])["tg-4242"]
    assert card.name == "Lê Hoa" and card.ticket is None
