"""Custom actions run on real rasa_sdk trackers against a real (or a dead) database."""
import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.complaint import ActionSubmitComplaint, ValidateComplaintForm
from bot.services import registry

FORM_SLOTS = ("order_number", "complaint_category", "complaint_description", "contact", "complaint_confirmed")
DOMAIN = {
    "slots": {name: {"type": "any", "mappings": [{"type": "custom"}]} for name in FORM_SLOTS},
    "forms": {"complaint_form": {"required_slots": list(FORM_SLOTS)}},
}


def make_tracker(slots, text="", intent="inform", confidence=0.9, sender="t-1", entities=()):
    events = [
        {"event": "active_loop", "name": "complaint_form", "timestamp": 1000.0},
        {"event": "user", "text": text, "timestamp": 1001.0,
         "parse_data": {"intent": {"name": intent, "confidence": confidence}}},
    ]
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": list(entities)}
    return Tracker(sender, {"language": "vi", **slots}, latest, events, False, None,
                   {"name": "complaint_form"}, "action_listen")


@pytest.fixture
def database(configured_db):
    return configured_db


def run(action, tracker, domain=DOMAIN):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}, events


FILLED = {
    "order_number": "DH100003", "order_verified": True, "complaint_category": "wrong_item",
    "complaint_description": "giao sai màu", "contact": "0903111222", "complaint_confirmed": True,
}


def test_opening_message_fills_order_category_and_description(database):
    tracker = make_tracker({"requested_slot": None}, text="đơn DH100003 bị giao sai màu", intent="file_complaint")
    messages, slots, _ = run(ValidateComplaintForm(), tracker)
    assert slots["order_number"] == "DH100003" and slots["order_verified"] is True
    assert slots["complaint_category"] == "wrong_item"
    assert slots["complaint_description"] == "đơn DH100003 bị giao sai màu"
    assert slots["order_phone"] == "0903111222"
    assert [m["response"] for m in messages] == ["utter_order_found"]


def test_a_digression_returns_no_events_so_rasa_rejects_the_form(database):
    tracker = make_tracker({"requested_slot": "order_number"}, text="phí ship bao nhiêu", intent="faq")
    messages, slots, events = run(ValidateComplaintForm(), tracker)
    assert events == [] and messages == []


def test_a_doubtful_yes_does_not_file(database):
    tracker = make_tracker({**FILLED, "complaint_confirmed": None, "requested_slot": "complaint_confirmed"},
                           text="???", intent="affirm", confidence=0.45)
    _, slots, _ = run(ValidateComplaintForm(), tracker)
    assert slots.get("complaint_confirmed") is None


def test_submit_opens_one_ticket_even_when_retried(database):
    first_messages, first_slots, _ = run(ActionSubmitComplaint(), make_tracker(FILLED))
    again_messages, _, _ = run(ActionSubmitComplaint(), make_tracker(FILLED))
    assert first_messages[0]["response"] == "utter_ticket_created"
    assert again_messages[0]["response"] == "utter_ticket_already_created"
    assert first_messages[0]["code"] == again_messages[0]["code"] == first_slots["last_ticket_code"]
    assert len(registry.tickets().list()) == 1
    assert first_slots["order_number"] is None  # the form is cleared for the next complaint


def test_database_down_keeps_every_answer_and_returns_to_the_summary(monkeypatch):
    monkeypatch.setenv("HOTRO_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/hotro")
    registry.settings.cache_clear()
    try:
        messages, slots, events = run(ActionSubmitComplaint(), make_tracker(FILLED))
    finally:
        registry.settings.cache_clear()
    assert [m["response"] for m in messages] == ["utter_ticket_failed"]
    assert slots == {"complaint_confirmed": None}  # nothing else is cleared
    assert {"event": "active_loop", "name": "complaint_form"}.items() <= events[1].items()
    assert events[2]["event"] == "followup" and events[2]["name"] == "complaint_form"


def test_a_miss_counts_only_after_a_previous_miss():
    from bot.actions.conversation import previous_turn_missed

    miss = {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_fallback_rephrase"}}
    answer = {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_greet"}}
    user = {"event": "user", "text": "?"}
    assert previous_turn_missed([user, miss, user])
    assert not previous_turn_missed([user, answer, user])
    assert not previous_turn_missed([user, miss, user, answer, user])
    assert not previous_turn_missed([user])


# -- handing over on a threat, abuse, a chased or a high-priority complaint --------


def chat_tracker(text, sender="t-esc", intent="escalate", slots=None, earlier=()):
    """A tracker outside any form: the earlier customer messages, then `text`."""
    events, stamp = [], 2000.0
    for said in (*earlier, text):
        stamp += 1
        events.append({"event": "user", "text": said, "timestamp": stamp,
                       "parse_data": {"intent": {"name": intent, "confidence": 1.0}}})
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
    return Tracker(sender, {"language": "vi", **(slots or {})}, latest, events, False, None, {}, "action_listen")


def responses(messages):
    return [m["response"] for m in messages]


def test_a_threat_opens_an_urgent_ticket_and_hands_over(database):
    from bot.actions.handoff import ActionEscalate

    tracker = chat_tracker("shop lừa đảo, đơn DH100004 giao sai mà không đổi, tôi sẽ báo công an", sender="t-threat")
    messages, slots, _ = run(ActionEscalate(), tracker)
    assert responses(messages) == ["utter_threat_escalated", "utter_handoff_ticket"]
    (ticket,) = registry.tickets().for_sender("t-threat")
    assert ticket.priority == "urgent" and ticket.source == "handoff:threat"
    assert ticket.order_number == "DH100004" and ticket.category == "wrong_item"  # staff need not ask again
    assert messages[1]["code"] == ticket.code == slots["last_ticket_code"]
    assert messages[1]["ack_within"] == "1 giờ"


def test_abuse_gets_a_calm_line_then_a_person(database):
    from bot.actions.handoff import ActionEscalate

    messages, _, _ = run(ActionEscalate(), chat_tracker("dm giao hàng kiểu gì vậy", sender="t-abuse"))
    assert responses(messages) == ["utter_deescalate", "utter_handoff_ticket"]
    (ticket,) = registry.tickets().for_sender("t-abuse")
    assert ticket.source == "handoff:abuse" and "dm giao hàng" in ticket.description


def test_a_threat_pushes_the_open_ticket_to_urgent(database):
    from bot.actions.handoff import ActionEscalate

    _, slots, _ = run(ActionSubmitComplaint(), make_tracker(FILLED, sender="t-open"))
    code = slots["last_ticket_code"]
    assert registry.tickets().get(code).priority != "urgent"
    messages, _, _ = run(ActionEscalate(), chat_tracker("tôi sẽ kiện shop", sender="t-open"))
    assert messages[-1]["code"] == code
    ticket = registry.tickets().get(code)
    assert ticket.priority == "urgent" and ticket.last_event.note == "escalated by customer (threat)"
    assert len(registry.tickets().for_sender("t-open")) == 1


def test_the_owner_escalates_their_ticket(database):
    from bot.actions.handoff import ActionEscalate

    _, slots, _ = run(ActionSubmitComplaint(), make_tracker(FILLED, sender="t-owner"))
    code = slots["last_ticket_code"]
    before = registry.tickets().get(code).priority
    messages, _, _ = run(ActionEscalate(), chat_tracker(f"{code} mấy ngày rồi chưa ai xử lý, tôi muốn gặp quản lý",
                                                         sender="t-owner"))
    assert responses(messages) == ["utter_ticket_escalated", "utter_handoff_ticket"]
    ticket = registry.tickets().get(code)
    assert (before, ticket.priority) == ("normal", "high")
    assert messages[0]["priority"] == "cao"
    assert ticket.last_event.note == "escalated by customer" and ticket.last_event.author == "customer"
    assert messages[1]["code"] == code  # the person gets this ticket, not a new one
    assert len(registry.tickets().for_sender("t-owner")) == 1


def test_without_a_code_the_customers_own_ticket_is_escalated(database):
    from bot.actions.handoff import ActionEscalate

    _, slots, _ = run(ActionSubmitComplaint(), make_tracker(FILLED, sender="t-nocode"))
    messages, _, _ = run(ActionEscalate(), chat_tracker("sao khiếu nại của tôi chưa được giải quyết", sender="t-nocode"))
    assert registry.tickets().get(slots["last_ticket_code"]).priority == "high"
    assert messages[-1]["code"] == slots["last_ticket_code"]


def test_someone_elses_ticket_is_not_escalated(database):
    from bot.actions.handoff import ActionEscalate

    _, slots, _ = run(ActionSubmitComplaint(), make_tracker(FILLED, sender="t-victim"))
    code = slots["last_ticket_code"]
    messages, _, _ = run(ActionEscalate(), chat_tracker(f"escalate {code} now", sender="t-stranger"))
    assert responses(messages) == ["utter_ticket_not_found"]  # same as a code that does not exist
    ticket = registry.tickets().get(code)
    assert ticket.priority == "normal" and len(ticket.events) == 1
    assert registry.tickets().for_sender("t-stranger") == []
    missing, _, _ = run(ActionEscalate(), chat_tracker("escalate KN-999999 now", sender="t-stranger"))
    assert missing == messages


def test_a_high_priority_complaint_also_goes_to_a_person(database):
    filled = {**FILLED, "complaint_category": "refund_payment", "complaint_description": "trừ tiền 2 lần"}
    messages, slots, _ = run(ActionSubmitComplaint(), make_tracker(filled, sender="t-high"))
    assert responses(messages) == ["utter_ticket_created", "utter_handoff_priority"]
    ticket = registry.tickets().get(slots["last_ticket_code"])
    assert ticket.priority == "high" and messages[1]["code"] == ticket.code
    # A normal one (another order: a second complaint about an order is high by itself) does not.
    normal, _, _ = run(ActionSubmitComplaint(), make_tracker({**FILLED, "order_number": "DH100008"}, sender="t-normal"))
    assert responses(normal) == ["utter_ticket_created"]


def test_a_high_priority_complaint_joins_the_queue_when_staff_are_online(database, monkeypatch):
    from bot.services.conversations import ConversationService
    from bot.services.staff import StaffService
    from bot.store.db import session_factory

    monkeypatch.setenv("HOTRO_OPENING_HOURS", "00:00-24:00")
    registry.settings.cache_clear()
    factory = session_factory(registry.settings().database_url)
    staff = StaffService(factory)
    staff.add("lan", "correct horse battery")
    staff.by_token(staff.issue_token("lan"))  # Lan is at the desk
    filled = {**FILLED, "complaint_description": "áo giao sai màu, tôi sẽ báo công an"}
    messages, _, _ = run(ActionSubmitComplaint(), make_tracker(filled, sender="t-queue"))
    assert responses(messages) == ["utter_ticket_created", "utter_handoff_queued"]
    assert messages[1]["position"] == 1
    assert ConversationService(factory).owner("t-queue") == "queued"
    assert registry.tickets().get(messages[1]["code"]).priority == "urgent"


def test_with_routing_on_the_customer_is_told_who_took_the_chat(database, monkeypatch):
    from bot.services.conversations import ConversationService
    from bot.services.staff import StaffService, skills_from
    from bot.store.db import session_factory

    monkeypatch.setenv("HOTRO_OPENING_HOURS", "00:00-24:00")
    monkeypatch.setenv("HOTRO_AUTO_ASSIGN", "1")
    registry.settings.cache_clear()
    factory = session_factory(registry.settings().database_url)
    staff = StaffService(factory)
    staff.add("lan", "correct horse battery", "Chị Lan", skills=skills_from("wrong_item", "vi"))
    staff.by_token(staff.issue_token("lan"))  # Lan is at the desk
    filled = {**FILLED, "complaint_description": "áo giao sai màu, tôi sẽ báo công an"}
    messages, _, _ = run(ActionSubmitComplaint(), make_tracker(filled, sender="t-routed"))
    assert responses(messages) == ["utter_ticket_created", "utter_handoff_assigned"]
    assert messages[1]["agent"] == "Chị Lan"
    assert ConversationService(factory).summary("t-routed").agent == "lan"
    assert registry.tickets().get(messages[1]["code"]).assignee == "lan"


def test_the_detector_overrides_the_classifier_but_not_buttons():
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.escalation import EscalationDetector

    def parsed(text, intent="nlu_fallback"):
        message = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.3},
                                "intent_ranking": [{"name": intent, "confidence": 0.3}]})
        EscalationDetector({}).process([message])
        return message.get("intent")["name"], [r["name"] for r in message.get("intent_ranking")]

    assert parsed("shop lua dao") == ("escalate", ["escalate", "nlu_fallback"])
    assert parsed("this is a scam", intent="faq")[0] == "escalate"
    assert parsed("kiện hàng bị móp", intent="inform") == ("inform", ["inform"])
    assert parsed("/inform", intent="inform")[0] == "inform"


def test_a_did_you_mean_choice_is_recorded_for_editors(database, monkeypatch, tmp_path, db_factory):
    """A customer who picks a "did you mean" choice tells editors their wording should have found it."""
    from bot.actions.faq import ActionAnswerFaq
    from bot.services.faq import FaqService
    from tests.unit.test_faq import SHIPPING

    (tmp_path / "faq").mkdir()
    (tmp_path / "faq" / "giao-hang.yml").write_text(SHIPPING, encoding="utf-8")
    monkeypatch.setenv("HOTRO_FAQ_DIR", str(tmp_path / "faq"))
    registry.faq_library.cache_clear()
    try:
        events = [{"event": "user", "text": "gửi hàng tốn bao nhiêu, số tôi 0912345678", "timestamp": 1.0,
                   "parse_data": {"intent": {"name": "faq", "confidence": 0.6}}},
                  {"event": "user", "text": '/faq_select{"faq_id":"delivery-fee"}', "timestamp": 2.0,
                   "parse_data": {"intent": {"name": "faq_select", "confidence": 1.0}}}]
        latest = {"text": '/faq_select{"faq_id":"delivery-fee"}', "intent": {"name": "faq_select", "confidence": 1.0},
                  "entities": [{"entity": "faq_id", "value": "delivery-fee"}]}
        tracker = Tracker("t-pick", {"language": "vi"}, latest, events, False, None, {}, "action_listen")
        messages, _, _ = run(ActionAnswerFaq(), tracker)
        assert "30.000đ" in messages[0]["text"]
        [line] = FaqService(registry.faq_library(), db_factory).report()
        assert (line.kind, line.faq_id, line.question) == ("picked", "delivery-fee", "gửi hàng tốn bao nhiêu, số tôi 0912***678")
    finally:
        registry.faq_library.cache_clear()


def test_a_yes_right_after_the_ticket_was_filed_gets_its_code_again():
    """The answer with the code was lost (a gateway killed mid-way): the customer confirms again."""
    from bot.actions.conversation import ActionHowCanHelp

    user = {"event": "user", "text": "đúng rồi, gửi đi", "parse_data": {"intent": {"name": "affirm"}}}
    filed = [user, {"event": "slot", "name": "last_ticket_code", "value": "KN-000378"},
             {"event": "bot", "text": "… KN-000378 …"}, user]
    latest = {"text": "đúng rồi, gửi đi", "intent": {"name": "affirm", "confidence": 0.99}, "entities": []}
    tracker = Tracker("web-x", {"language": "vi"}, latest, filed, False, None, {}, "action_listen")
    messages, _, _ = run(ActionHowCanHelp(), tracker)
    assert "KN-000378" in messages[0]["text"] and "không cần gửi lại" in messages[0]["text"]
    # Later on, a yes is just a yes.
    later = Tracker("web-x", {"language": "vi"}, latest, filed + [{"event": "bot", "text": "…"}, user],
                    False, None, {}, "action_listen")
    messages, _, _ = run(ActionHowCanHelp(), later)
    assert messages[0]["response"] == "utter_how_can_help"


# -- typed details and another order number mid-form (issue 14) ------------------------------------

AT_CONTACT = {
    "order_number": "DH100013", "order_verified": True, "order_phone": "0903111222",
    "complaint_category": "missing_item", "complaint_description": "đơn DH100013 bị giao thiếu 1 món",
    "requested_slot": "contact",
}


def test_a_detail_at_the_contact_question_is_added_to_the_description(database):
    tracker = make_tracker(AT_CONTACT, text="thiếu cái ốp lưng trong hộp", intent="inform")
    messages, slots, _ = run(ValidateComplaintForm(), tracker)
    assert slots["complaint_description"] == "đơn DH100013 bị giao thiếu 1 món. thiếu cái ốp lưng trong hộp"
    assert slots.get("contact") is None and not slots.get("failed_attempts")
    assert [m["response"] for m in messages] == ["utter_detail_added"]
    assert slots.get("complaint_category") is None  # not re-read: the problem stays "missing item"


def test_a_bad_phone_is_still_a_bad_phone(database):
    tracker = make_tracker(AT_CONTACT, text="0903 11", intent="inform")
    messages, slots, _ = run(ValidateComplaintForm(), tracker)
    assert [m["response"] for m in messages] == ["utter_contact_invalid"] and slots["failed_attempts"] == 1


def test_the_contact_question_comes_back_briefly_after_a_detail():
    from bot.actions.complaint import ActionAskContact

    slots = {**AT_CONTACT, "contact": None}
    plain = make_tracker(slots)
    after_detail = make_tracker(slots)
    after_detail.events.append({"event": "bot", "text": "Mình đã ghi thêm...", "metadata": {"utter_action": "utter_detail_added"}})
    assert run(ActionAskContact(), plain)[0][0]["response"] == "utter_ask_contact_confirm_phone"
    assert run(ActionAskContact(), after_detail)[0][0]["response"] == "utter_ask_contact_confirm_phone_brief"


def test_another_order_number_mid_form_offers_to_switch(database):
    tracker = make_tracker(AT_CONTACT, text="à nhầm, đơn DH100014 mới đúng", intent="inform")
    messages, slots, _ = run(ValidateComplaintForm(), tracker)
    assert slots["order_candidate"] == "DH100014" and slots["requested_slot"] == "order_switch"
    assert slots.get("order_number") is None and messages == []  # nothing changed yet, no "invalid contact"


def test_yes_switches_to_the_other_order_and_no_keeps_it(database):
    asking = {**AT_CONTACT, "order_candidate": "DH100014", "requested_slot": "order_switch"}
    messages, slots, _ = run(ValidateComplaintForm(), make_tracker(asking, text="ok", intent="affirm"))
    assert slots["order_number"] == "DH100014" and slots["order_verified"] is True
    # Back to the form's own order: Rasa asks the next missing question (the contact) again.
    assert slots["order_candidate"] is None and "requested_slot" not in slots
    assert slots["order_phone"] == "0934555666"  # the new order's phone is the one offered now
    assert [m["response"] for m in messages] == ["utter_order_found"]
    messages, slots, _ = run(ValidateComplaintForm(), make_tracker(asking, text="không", intent="deny"))
    assert "order_number" not in slots and slots["order_candidate"] is None
    assert [m["response"] for m in messages] == ["utter_order_kept"]


def test_not_the_phone_on_the_order_forgets_it_so_another_is_asked_for(database):
    messages, slots, _ = run(ValidateComplaintForm(), make_tracker(AT_CONTACT, text="không", intent="deny"))
    assert slots["order_phone"] is None and slots["contact"] is None and messages == []


def test_the_promise_follows_the_business_hours_clock(database, monkeypatch):
    from datetime import timedelta

    from bot.config import ROOT
    from bot.services.business_hours import load_calendar
    from bot.timefmt import format_local

    monkeypatch.setenv("HOTRO_SLA_CLOCK", "business")
    monkeypatch.setenv("HOTRO_BUSINESS_HOURS_FILE", str(ROOT / "business_hours.yml"))
    messages, _, _ = run(ActionSubmitComplaint(), make_tracker(FILLED, sender="t-business"))
    (ticket,) = registry.tickets().for_sender("t-business")
    working = load_calendar(ROOT / "business_hours.yml")
    assert ticket.acknowledge_due_at == working.add(ticket.created_at, timedelta(hours=24))
    assert ticket.resolve_due_at == working.add(ticket.created_at, timedelta(hours=48))
    assert ticket.acknowledge_due_at - ticket.created_at > timedelta(hours=24)  # nights and Sundays do not count
    assert messages[0]["ack_within"] == "24 giờ làm việc" and messages[0]["resolve_within"] == "48 giờ làm việc"
    assert messages[0]["ack_due"] == format_local(ticket.acknowledge_due_at)


def test_the_rating_is_asked_at_the_first_hand_back_only(database):
    from bot.actions.conversation import ActionHandBack
    from bot.services.conversations import ConversationService
    from bot.store.db import session_factory

    conversations = ConversationService(session_factory(registry.settings().database_url))
    first, _, _ = run(ActionHandBack(), make_tracker({}, sender="t-handback"))
    assert responses(first) == ["utter_handback_ask_rating"]
    # The gateway records what the bot said, with its buttons (the domain's rating buttons).
    conversations.record("t-handback", "bot", "Bạn chấm mấy điểm?", data={"buttons": [
        {"title": str(i), "payload": '/rate{"rating":"%d"}' % i} for i in range(1, 6)]})
    again, _, _ = run(ActionHandBack(), make_tracker({}, sender="t-handback"))
    assert responses(again) == ["utter_handback"]


def test_a_typed_choice_at_the_category_step_is_no_detail(database):
    slots = {"requested_slot": "complaint_category", "order_number": "DH100009", "order_verified": True}
    latest_entities = [{"entity": "complaint_category", "value": "damaged", "extractor": "ButtonAnswerReader"}]
    tracker = make_tracker(slots, text="cái thứ hai", intent="inform", confidence=1.0, entities=latest_entities)
    tracker.latest_message["button_answer"] = {"title": "Hàng hư hỏng, vỡ", "payload": "/inform"}
    messages, found, _ = run(ValidateComplaintForm(), tracker)
    assert found.get("complaint_category") == "damaged"
    assert "complaint_description" not in found or found["complaint_description"] is None
    assert "utter_detail_added" not in responses(messages)


def test_another_order_number_at_the_category_step_is_no_bad_answer(database):
    slots = {"requested_slot": "complaint_category", "order_number": "DH100007", "order_verified": True}
    tracker = make_tracker(slots, text="sorry, wrong number, it's DH100012", intent="inform")
    messages, found, _ = run(ValidateComplaintForm(), tracker)
    assert found.get("order_candidate") == "DH100012"
    assert "utter_category_unclear" not in responses(messages)
