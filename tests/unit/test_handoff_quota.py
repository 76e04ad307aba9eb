"""Handoffs and complaints per client: the actions that open tickets and queue entries refuse past the quota.

Real rasa_sdk trackers carrying the metadata the gateway sends, the real services and a real SQLite
database, staff online (so a handoff joins the live queue).
"""
import pytest
from rasa_sdk import Tracker

from bot.actions.complaint import ActionSubmitComplaint
from bot.actions.handoff import ActionRequestHuman
from bot.gateway.limits import client_key
from bot.ratelimit import refusal
from bot.services import registry
from bot.services.conversations import ConversationService
from bot.services.staff import StaffService
from bot.store.db import session_factory
from tests.unit.test_actions import FILLED, make_tracker, run

ATTACKER, CUSTOMER = client_key("198.51.100.7"), client_key("203.0.113.9")


@pytest.fixture
def desk(monkeypatch, sqlite_url, db_factory):
    """Two handoffs an hour per client; staff at the desk: each handoff is a ticket and a queue entry."""
    monkeypatch.setenv("HOTRO_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HOTRO_OPENING_HOURS", "00:00-24:00")
    monkeypatch.setenv("HOTRO_LIMIT_HANDOFFS", "2/1h")
    registry.settings.cache_clear()
    registry.handoff_quota.cache_clear()
    staff = StaffService(db_factory)
    staff.add("lan", "correct horse battery")
    staff.by_token(staff.issue_token("lan"))
    yield ConversationService(db_factory)
    registry.settings.cache_clear()


def asking_for_a_person(sender, client=None, language="vi"):
    metadata = {"channel": "rest", **({"client": client} if client else {})}
    latest = {"text": "cho tôi gặp nhân viên", "intent": {"name": "request_human", "confidence": 1.0},
              "entities": [], "metadata": metadata}
    events = [{"event": "user", "text": latest["text"], "timestamp": 1000.0, "metadata": metadata,
               "parse_data": {"intent": latest["intent"]}}]
    return Tracker(sender, {"language": language}, latest, events, False, None, {}, "action_listen")


def test_one_client_opening_chat_after_chat_gets_two_handoffs_an_hour(desk):
    outcomes = [run(ActionRequestHuman(), asking_for_a_person(f"bot-{n}", ATTACKER)) for n in range(5)]
    other, _, _ = run(ActionRequestHuman(), asking_for_a_person("khach", CUSTOMER, "en"))
    english, _, _ = run(ActionRequestHuman(), asking_for_a_person("bot-5", ATTACKER, "en"))

    assert [messages[0].get("response") for messages, _, _ in outcomes] == ["utter_handoff_queued"] * 2 + [None] * 3
    assert outcomes[2][0] == [{**outcomes[2][0][0], "text": refusal("handoffs", "vi", 1800)}]
    assert english[0]["text"] == refusal("handoffs", "en", 1800)
    assert other[0]["response"] == "utter_handoff_queued"  # another client is not concerned
    queued = {c.id for c in desk.list("queued")}
    assert queued == {"bot-0", "bot-1", "khach"}
    assert {t.sender_id for t in registry.tickets().list()} == queued


def test_without_the_gateways_key_a_conversation_counts_alone(desk):
    """Telegram (the conversation is the account) and Rasa's loopback API carry no client key."""
    first = [run(ActionRequestHuman(), asking_for_a_person("tg-1"))[0] for _ in range(3)]
    second, _, _ = run(ActionRequestHuman(), asking_for_a_person("tg-2"))
    assert [m[0].get("text") is None for m in first] == [True, True, False]
    assert second[0]["response"] == "utter_handoff_queued"


def test_a_complaint_past_the_quota_keeps_its_answers_for_a_later_yes(desk):
    def submit(sender):
        tracker = make_tracker(FILLED, sender=sender)
        tracker.latest_message["metadata"] = {"client": ATTACKER}
        return run(ActionSubmitComplaint(), tracker)

    filed = [submit(f"c-{n}") for n in range(2)]
    messages, slots, events = submit("c-2")
    assert all(m[0][0]["response"] == "utter_ticket_created" for m in filed)
    assert messages == [{**messages[0], "text": refusal("handoffs", "vi", 1800)}]
    assert slots == {"complaint_confirmed": None}  # nothing else is cleared: one "yes" later files it
    assert events[2]["event"] == "followup" and events[2]["name"] == "complaint_form"
    assert registry.tickets().for_sender("c-2") == []
