from datetime import datetime, timedelta

import pytest

from bot.services.handoff import HandoffRequest, HandoffService
from bot.services.tickets import ComplaintSubmission, TicketError, TicketService
from tests.serving import Clock


def submission(key="s1:form:1", sender="s1", **overrides):
    values = dict(
        submission_key=key,
        sender_id=sender,
        channel="rest",
        language="vi",
        order_number="DH100003",
        order_verified=True,
        category="wrong_item",
        description="áo giao sai màu",
        contact="0912345678",
    )
    values.update(overrides)
    return ComplaintSubmission(**values)


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 25, 2, 0))


@pytest.fixture
def service(any_db_factory, clock):
    return TicketService(any_db_factory, clock=clock)


def test_open_gives_a_code_and_the_promised_times(service, clock):
    ticket, created = service.open(submission())
    assert created
    assert ticket.code == "KN-000001"
    assert ticket.status == "new"
    assert ticket.priority == "normal"
    assert ticket.acknowledge_due_at == clock.now + timedelta(hours=24)
    assert ticket.resolve_due_at == clock.now + timedelta(hours=48)
    assert [e.status_to for e in ticket.events] == ["new"]


def test_the_same_submission_never_opens_a_second_ticket(service):
    first, created1 = service.open(submission())
    again, created2 = service.open(submission())
    assert created1 and not created2
    assert again.code == first.code
    assert len(service.list()) == 1


def test_a_second_complaint_about_the_same_order_is_high_priority(service):
    service.open(submission())
    second, _ = service.open(submission(key="s1:form:2"))
    assert second.priority == "high"
    assert second.code == "KN-000002"


def test_urgent_words_anywhere_in_the_conversation_count(service):
    ticket, _ = service.open(submission(customer_texts=("shop lừa đảo à?",)))
    assert ticket.priority == "urgent"
    assert ticket.acknowledge_due_at - ticket.created_at == timedelta(hours=1)


def test_unknown_category_is_stored_as_other(service):
    ticket, _ = service.open(submission(category="nonsense"))
    assert ticket.category == "other"


def test_long_text_and_markup_are_stored_as_given(service):
    text = "<script>alert(1)</script>'; DROP TABLE tickets; --" + "x" * 4900
    ticket, _ = service.open(submission(description=text))
    assert service.get(ticket.code).description == text


def test_only_the_owner_sees_a_ticket(service):
    ticket, _ = service.open(submission())
    assert service.find_for_requester(ticket.code, sender_id="s1") is not None
    assert service.find_for_requester(ticket.code, sender_id="someone-else") is None
    assert service.find_for_requester(ticket.code, sender_id="x", contact="+84 912 345 678") is not None
    assert service.find_for_requester(ticket.code, sender_id="x", contact="0999999999") is None
    # The order's customer record counts too (demo order DH100003 belongs to customer 3).
    ticket2, _ = service.open(submission(key="k2", sender="s2", contact=None, customer_id=3))
    assert service.find_for_requester(ticket2.code, contact="0903 111 222") is not None


def test_guessing_codes_reveals_nothing(service):
    service.open(submission())
    for code in ("KN-000001", "KN-000002", "KN-999999", "garbage"):
        assert service.find_for_requester(code, sender_id="stranger", contact="0900000000") is None


def test_status_changes_are_recorded(service, clock):
    ticket, _ = service.open(submission())
    clock.now += timedelta(hours=2)
    updated = service.set_status(ticket.code, "in_progress", author="lan", note="đã gọi khách")
    assert updated.status == "in_progress"
    assert updated.acknowledged_at == clock.now
    assert [(e.status_from, e.status_to, e.author) for e in updated.events] == [
        (None, "new", "bot"),
        ("new", "in_progress", "lan"),
    ]
    resolved = service.set_status(ticket.code, "resolved", author="lan")
    assert resolved.resolved_at is not None


def test_bad_status_changes_are_refused(service):
    ticket, _ = service.open(submission())
    with pytest.raises(TicketError):
        service.set_status(ticket.code, "done")
    with pytest.raises(TicketError):
        service.set_status("KN-000404", "closed")


def test_tickets_of_a_conversation(service):
    service.open(submission())
    service.open(submission(key="other", sender="s2"))
    assert [t.sender_id for t in service.for_sender("s1")] == ["s1"]
    assert service.open_for_sender("s1").code == "KN-000001"


def test_handoff_links_the_open_ticket_instead_of_opening_another(service):
    handoff = HandoffService(service)
    ticket, _ = service.open(submission())
    outcome = handoff.request(HandoffRequest("s1:handoff:1", "s1", "rest", "vi", "customer_asked"))
    assert outcome.ticket.code == ticket.code
    assert not outcome.ticket_created


def test_handoff_without_a_ticket_opens_one_with_the_recent_messages(service):
    handoff = HandoffService(service)
    req = HandoffRequest(
        "s9:handoff:1", "s9", "rest", "en", "customer_asked",
        recent_customer_texts=("hello", "/request_human", "I need a person about my refund"),
    )
    outcome = handoff.request(req)
    assert outcome.ticket_created
    assert outcome.ticket.source == "handoff:customer_asked"
    assert "I need a person about my refund" in outcome.ticket.description
    assert "/request_human" not in outcome.ticket.description
    # Retried: the same ticket.
    assert handoff.request(req).ticket.code == outcome.ticket.code


# -- a customer escalating their ticket -------------------------------------------


def test_only_the_owner_escalates_and_it_goes_one_step_up(service, clock):
    ticket, _ = service.open(submission())
    assert ticket.priority == "normal"
    assert service.escalate(ticket.code, sender_id="someone-else") is None
    assert service.escalate(ticket.code, sender_id="someone-else", contact="0999999999") is None
    assert service.escalate("KN-999999", sender_id="s1") is None
    assert service.get(ticket.code).priority == "normal"  # refused: nothing changed
    assert len(service.get(ticket.code).events) == 1

    clock.now += timedelta(hours=30)  # past the normal acknowledgement time
    escalated = service.escalate(ticket.code, sender_id="s1")
    assert escalated.priority == "high"
    last = escalated.last_event
    assert (last.author, last.note, last.status_from, last.status_to) == ("customer", "escalated by customer", "new", "new")
    assert last.created_at == clock.now
    # Never a later promise than before, and the shorter one counts from now.
    assert escalated.acknowledge_due_at == ticket.acknowledge_due_at
    assert escalated.resolve_due_at == min(ticket.resolve_due_at, clock.now + timedelta(hours=24))

    clock.now += timedelta(minutes=5)
    assert service.escalate(ticket.code, contact="0912 345 678").priority == "urgent"  # the phone proves it too
    clock.now += timedelta(minutes=5)
    assert service.escalate(ticket.code, sender_id="s1").priority == "urgent"  # the top stays the top
    assert [e.note for e in service.get(ticket.code).events].count("escalated by customer") == 3


def test_escalating_shortens_a_promise_still_ahead(service, clock):
    ticket, _ = service.open(submission())
    clock.now += timedelta(hours=1)
    escalated = service.escalate(ticket.code, sender_id="s1")
    assert escalated.acknowledge_due_at == clock.now + timedelta(hours=4)
    assert escalated.acknowledge_due_at < ticket.acknowledge_due_at


def test_two_angry_messages_in_a_row_are_one_step(service, clock):
    ticket, _ = service.open(submission())
    assert service.escalate(ticket.code, sender_id="s1").priority == "high"
    clock.now += timedelta(seconds=30)
    again = service.escalate(ticket.code, sender_id="s1")
    assert again.priority == "high" and len(again.events) == 2
    # ...but a threat still takes it to urgent.
    threat = service.escalate(ticket.code, sender_id="s1", minimum="urgent", note="escalated by customer (threat)")
    assert threat.priority == "urgent" and threat.last_event.note == "escalated by customer (threat)"


def test_escalating_a_resolved_ticket_reopens_it(service, clock):
    ticket, _ = service.open(submission())
    service.set_status(ticket.code, "resolved", note="đã gửi hàng mới")
    clock.now += timedelta(days=3)
    reopened = service.escalate(ticket.code, sender_id="s1")
    assert reopened.status == "in_progress" and reopened.resolved_at is None
    assert reopened.last_event.status_from == "resolved" and reopened.last_event.status_to == "in_progress"
    assert reopened.resolve_due_at == clock.now + timedelta(hours=24)


def test_handoff_links_the_ticket_it_is_given(service):
    handoff = HandoffService(service)
    first, _ = service.open(submission(key="a"))
    second, _ = service.open(submission(key="b"))
    outcome = handoff.request(HandoffRequest("s1:handoff:7", "s1", "rest", "vi", "escalation", ticket_code=first.code))
    assert outcome.ticket.code == first.code != second.code
    assert not outcome.ticket_created


def test_follow_up_promise_is_never_in_the_past():
    from bot.services.sla import follow_up_due

    now = datetime(2026, 11, 25, 10, 0)
    ahead = now + timedelta(hours=3)
    assert follow_up_due("normal", ahead, None, now) == ahead
    assert follow_up_due("high", now - timedelta(hours=1), None, now) == now + timedelta(hours=4)
    assert follow_up_due("urgent", ahead, now - timedelta(hours=2), now) == now + timedelta(hours=1)


def test_handoff_reasons_are_a_fixed_list():
    HandoffRequest("k", "s", "rest", "vi", "high_priority")
    with pytest.raises(ValueError):
        HandoffRequest("k", "s", "rest", "vi", "angry")


def test_waiting_for_the_customer_stops_the_resolution_clock(db_factory):
    from datetime import datetime, timedelta

    now = [datetime(2026, 11, 2, 1, 0)]
    service = TicketService(db_factory, clock=lambda: now[0])
    ticket, _ = service.open(ComplaintSubmission(
        "pause", "s-pause", "web", "vi", None, False, "late_delivery", "chưa nhận được hàng", None))
    due = ticket.resolve_due_at
    now[0] += timedelta(hours=10)
    waiting = service.set_status(ticket.code, "waiting_customer", "lan", "Chị gửi giúp em ảnh kiện hàng")
    assert waiting.sla_paused_at == now[0]
    # 60 hours later the 48-hour promise has not been broken: the shop was waiting.
    now[0] += timedelta(hours=60)
    assert not waiting.is_overdue(now[0]) and waiting.resolve_due(now[0]) == due + timedelta(hours=60)
    back = service.set_status(ticket.code, "in_progress", "lan")
    assert back.sla_paused_at is None and back.resolve_due_at == due + timedelta(hours=60)
    assert not back.is_overdue(now[0] + timedelta(hours=37)) and back.is_overdue(now[0] + timedelta(hours=39))


def test_a_ticket_already_late_stays_late_while_waiting(db_factory):
    from datetime import datetime, timedelta

    now = [datetime(2026, 11, 2, 1, 0)]
    service = TicketService(db_factory, clock=lambda: now[0])
    ticket, _ = service.open(ComplaintSubmission(
        "late-pause", "s-late-pause", "web", "vi", None, False, "late_delivery", "chưa nhận được hàng", None))
    service.set_status(ticket.code, "in_progress", "lan")
    now[0] += timedelta(hours=50)
    waiting = service.set_status(ticket.code, "waiting_customer", "lan")
    assert waiting.is_overdue(now[0] + timedelta(hours=5))
