"""Misunderstandings and small turns outside the forms."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action
from rasa_sdk.events import EventType, SlotSet

from bot.actions import tracker_utils as tu

MISS_INTENTS = ("nlu_fallback", "out_of_scope")


def consecutive_misses(intents: List[str]) -> int:
    """How many of the latest user messages in a row the bot did not understand."""
    count = 0
    for intent in reversed(intents):
        if intent not in MISS_INTENTS:
            break
        count += 1
    return count


class ActionHandleFallback(Action):
    """First miss: say what the bot can do. Second miss in a row: offer a person."""

    def name(self) -> Text:
        return "action_handle_fallback"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        if consecutive_misses(tu.user_intents(tracker)) >= 2:
            dispatcher.utter_message(response="utter_fallback_offer_human")
            return [SlotSet("offered_human", True)]
        dispatcher.utter_message(response="utter_fallback_rephrase")
        return [SlotSet("offered_human", False)]


class ActionHowCanHelp(Action):
    """A yes/no or cancel with nothing to answer: offer the options again."""

    def name(self) -> Text:
        return "action_how_can_help"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        dispatcher.utter_message(response="utter_how_can_help")
        return [SlotSet("offered_human", False)]
