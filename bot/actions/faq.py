"""FAQ questions. Answers from faq/ arrive with the FAQ issue; until then the
customer is told plainly and offered the two ways forward."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action
from rasa_sdk.events import EventType


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        dispatcher.utter_message(response="utter_faq_no_answer")
        return []
