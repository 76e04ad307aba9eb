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
def database(monkeypatch, sqlite_url, db_factory):
    monkeypatch.setenv("HOTRO_DATABASE_URL", sqlite_url)
    registry.settings.cache_clear()
    registry.orders.cache_clear()
    yield
    registry.settings.cache_clear()
    registry.orders.cache_clear()


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
