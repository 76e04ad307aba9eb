"""Reading what we need from a rasa_sdk Tracker."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from bot.text import nfc

# A confidence below this is not trusted to interrupt a form.
DIGRESSION_CONFIDENCE = 0.6


def language(tracker: Tracker) -> str:
    value = tracker.get_slot("language")
    return value if value in ("vi", "en") else "vi"


def latest_text(tracker: Tracker) -> str:
    return nfc(tracker.latest_message.get("text") or "")


def latest_intent(tracker: Tracker) -> tuple[Optional[str], float]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def answered_a_button(tracker: Tracker) -> bool:
    """The latest message was typed words read as one of the buttons just offered (bot/nlu/answers.py)."""
    return bool(tracker.latest_message.get("button_answer"))


def latest_entity(tracker: Tracker, name: str) -> Optional[Any]:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name:
            return entity.get("value")
    return None


def channel(tracker: Tracker) -> str:
    # The gateway speaks REST to Rasa for every channel; it names the real one in the metadata.
    metadata = tracker.latest_message.get("metadata") or {}
    if metadata.get("channel") in ("telegram", "web"):
        return metadata["channel"]
    return (tracker.get_latest_input_channel() or "rest").lower()


def activation_timestamp(tracker: Tracker, loop_name: str) -> Optional[float]:
    """When the given form was last activated: identifies one run of the form."""
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == loop_name:
            return event.get("timestamp")
    return None


def customer_texts(tracker: Tracker, since: Optional[float] = None, limit: int = 20) -> List[str]:
    """What the customer typed (button payloads excluded), oldest first."""
    texts: List[str] = []
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        if since is not None and (event.get("timestamp") or 0) < since - 60:
            continue
        text = nfc(event.get("text") or "")
        if text and not text.startswith("/"):
            texts.append(text)
    return texts[-limit:]


def said_this_turn(tracker: Tracker, response: str) -> bool:
    """Whether the bot has already sent `response` since the customer's latest message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == response:
            return True
    return False


def user_intents(tracker: Tracker) -> List[str]:
    return [
        (event.get("parse_data") or {}).get("intent", {}).get("name")
        for event in tracker.events
        if event.get("event") == "user"
    ]


def slots(tracker: Tracker, names) -> Dict[str, Any]:
    return {name: tracker.get_slot(name) for name in names}
