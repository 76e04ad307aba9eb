"""Misunderstandings and small turns outside the forms."""
from __future__ import annotations

import logging

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action
from rasa_sdk.events import EventType, SlotSet

from bot.actions import tracker_utils as tu
from bot.actions.faq import faq_overrules_nlu, respond_from_faq
from bot.actions.surveys import ask_survey
from bot.services import registry
from bot.services.conversations import ConversationService
from bot.store.db import session_factory

logger = logging.getLogger(__name__)

MISS_RESPONSES = ("utter_fallback_rephrase", "utter_fallback_offer_human")


def previous_turn(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """What happened between the customer's previous message and their latest one (the bot's last answer), latest first."""
    turn: List[Dict[str, Any]] = []
    in_previous_turn = False
    for event in reversed(events):
        if event.get("event") == "user":
            if in_previous_turn:
                break
            in_previous_turn = True
        elif in_previous_turn:
            turn.append(event)
    return turn


def previous_turn_missed(events: List[Dict[str, Any]]) -> bool:
    """Whether the bot's reply to the customer's previous message was a "didn't understand"."""
    return any(event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") in MISS_RESPONSES
               for event in previous_turn(events))


class ActionHandleFallback(Action):
    """Not understood. The FAQ gets a chance first (the question may simply be phrased
    unusually, or be about a topic added to faq/ after the NLU was trained); then: first
    miss, say what the bot can do; second in a row, offer a person."""

    def name(self) -> Text:
        return "action_handle_fallback"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        intent, confidence = tu.latest_intent(tracker)
        if intent == "nlu_fallback" and not tu.latest_text(tracker).startswith("/"):
            if respond_from_faq(dispatcher, tracker, tu.latest_text(tracker)) in ("answer", "suggest"):
                return [SlotSet("offered_human", False)]
        # out_of_scope is the NLU's positive "not ours": only a confident FAQ answer to an
        # unsure out_of_scope overrules it ("what's the capital of France" is sure, and the
        # FAQ's "international shipping" would be confident for the wrong reason), never a
        # "did you mean" list.
        if intent == "out_of_scope" and faq_overrules_nlu(dispatcher, tracker, confidence):
            return [SlotSet("offered_human", False)]
        if previous_turn_missed(tracker.events):
            dispatcher.utter_message(response="utter_fallback_offer_human")
            return [SlotSet("offered_human", True)]
        dispatcher.utter_message(response="utter_fallback_rephrase")
        return [SlotSet("offered_human", False)]


def _faq_or_respond(dispatcher, tracker, response: str) -> None:
    _, confidence = tu.latest_intent(tracker)
    if not faq_overrules_nlu(dispatcher, tracker, confidence):
        dispatcher.utter_message(response=response)


def ticket_filed_in_previous_turn(events: List[Dict[str, Any]]) -> Optional[str]:
    """The code of the ticket the bot filed in answer to the customer's previous message, if it did."""
    for event in previous_turn(events):
        if event.get("event") == "slot" and event.get("name") == "last_ticket_code":
            return event.get("value") or None
    return None


ALREADY_FILED = {
    "vi": "Khiếu nại của bạn đã được ghi nhận với mã {code}, bạn không cần gửi lại. Bạn có thể hỏi "
          "\"kiểm tra phiếu {code}\" bất cứ lúc nào.",
    "en": "Your complaint is already filed as {code}; there is no need to send it again. You can ask to "
          "\"check {code}\" at any time.",
}


class ActionHowCanHelp(Action):
    """A yes/no or cancel with nothing to answer: offer the options again, unless the NLU
    was unsure and the FAQ has a confident answer to what was typed.

    A yes right after a ticket was filed is a customer who never saw the ticket's code (the answer was
    lost: a gateway killed mid-way, a dropped connection) confirming again: tell them the code, or they
    file the same complaint twice.
    """

    def name(self) -> Text:
        return "action_how_can_help"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        intent, _ = tu.latest_intent(tracker)
        code = ticket_filed_in_previous_turn(tracker.events) if intent == "affirm" else None
        if code:
            dispatcher.utter_message(text=ALREADY_FILED[tu.language(tracker)].format(code=code))
            return [SlotSet("offered_human", False)]
        _faq_or_respond(dispatcher, tracker, "utter_how_can_help")
        return [SlotSet("offered_human", False)]


class ActionCapabilities(Action):
    """"What can you do?": the list, unless the NLU was unsure and the FAQ has a confident
    answer ("điểm tích lũy dùng để làm gì" reads as a capabilities question to the NLU)."""

    def name(self) -> Text:
        return "action_capabilities"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        _faq_or_respond(dispatcher, tracker, "utter_capabilities")
        return []


def _conversations() -> ConversationService:
    return ConversationService(session_factory(registry.settings().database_url))


class ActionHandBack(Action):
    """A person handed the chat back: the bot says it is here again and asks for a rating, once per chat.

    A second hand-back (or a chat that already rated) gets no second question; a
    database that does not answer costs the question, not the conversation.
    """

    def name(self) -> Text:
        return "action_hand_back"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        try:
            asked = _conversations().rating_asked(tracker.sender_id)
        except Exception:
            logger.exception("could not check whether a rating was asked")
            asked = True
        dispatcher.utter_message(response="utter_handback" if asked else "utter_handback_ask_rating")
        return []


class ActionStoreRating(Action):
    """The 1-5 rating after a person handed the chat back (CSAT)."""

    def name(self) -> Text:
        return "action_store_rating"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        try:
            score = int(str(tu.latest_entity(tracker, "rating")))
            conversations = _conversations()
            conversations.rate(tracker.sender_id, score, conversations.last_agent(tracker.sender_id))
        except (TypeError, ValueError):
            dispatcher.utter_message(response="utter_how_can_help")
            return []
        except Exception:
            logger.exception("could not store a rating")
        dispatcher.utter_message(response="utter_rating_thanks")
        ask_survey(dispatcher, tracker, "nps")
        return []
