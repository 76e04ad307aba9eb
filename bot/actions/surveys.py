"""NPS and CES in the conversation: asking when bot/services/surveys.py says so, and storing the answer."""
from __future__ import annotations

import logging
from typing import List, Text

from rasa_sdk import Action
from rasa_sdk.events import EventType

from bot.actions import tracker_utils as tu
from bot.services import registry

logger = logging.getLogger(__name__)

SURVEY_QUESTIONS = {"nps": "utter_ask_nps", "ces": "utter_ask_ces"}
SURVEY_SCORES = {"rate_nps": ("nps", "nps_score"), "rate_ces": ("ces", "ces_score")}


def ask_survey(dispatcher, tracker, kind: str) -> bool:
    """Ask NPS (after a resolved complaint) or CES (after the bot alone helped) when the survey's rules say so.

    Never inside a form (its next question would bury the buttons); never twice in a customer's period
    (bot/services/surveys.py). A database that does not answer costs the question, not the conversation.
    """
    if tracker.active_loop.get("name"):
        return False
    try:
        surveys = registry.surveys()
        if kind == "nps":
            ticket_code = surveys.nps_due(tracker.sender_id)
            if ticket_code is None:
                return False
            surveys.asked("nps", tracker.sender_id, ticket_code)
        else:
            if not surveys.ces_due(tracker.sender_id):
                return False
            surveys.asked("ces", tracker.sender_id)
    except Exception:
        logger.exception("could not check whether to ask %s", kind.upper())
        return False
    dispatcher.utter_message(response=SURVEY_QUESTIONS[kind])
    return True


class ActionStoreSurvey(Action):
    """The customer's NPS (0-10) or CES (1-5), pressed or typed (bot/nlu/answers.py reads "10", "rất dễ")."""

    def name(self) -> Text:
        return "action_store_survey"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        intent, _ = tu.latest_intent(tracker)
        kind, entity = SURVEY_SCORES.get(intent, (None, None))
        try:
            score = int(str(tu.latest_entity(tracker, entity))) if kind else None
            registry.surveys().answer(kind, tracker.sender_id, score)
        except (TypeError, ValueError):  # no score, or one off the scale: not an answer
            dispatcher.utter_message(response="utter_how_can_help")
            return []
        except Exception:
            logger.exception("could not store a %s answer", kind)
        dispatcher.utter_message(response="utter_survey_thanks")
        return []
