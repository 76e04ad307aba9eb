"""FAQ answers from faq/ (no retraining), "did you mean", and 👍/👎 feedback."""
from __future__ import annotations

import json
import logging
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import tracker_utils as tu
from bot.actions.surveys import ask_survey
from bot.faq.loader import FaqEntry
from bot.services import registry

logger = logging.getLogger(__name__)


def _payload(intent: str, **entities) -> str:
    return f"/{intent}{json.dumps(entities, ensure_ascii=False, separators=(',', ':'))}"


def _question_asked(tracker: Tracker) -> str:
    """The customer's own words (not a button payload) that led to this FAQ turn."""
    texts = tu.customer_texts(tracker, limit=1)
    return texts[-1] if texts else ""


def answer_entry(dispatcher: CollectingDispatcher, entry: FaqEntry, language: str) -> None:
    text = entry.answer.get(language) or entry.answer["vi"]
    for link in entry.links:
        title = link.title(language)
        text += f"\n{title}: {link.url}" if title else f"\n{link.url}"
    dispatcher.utter_message(text=text)
    dispatcher.utter_message(
        response="utter_faq_ask_helpful",
        buttons=[
            {"title": "👍", "payload": _payload("faq_feedback", faq_id=entry.id, helpful="yes")},
            {"title": "👎", "payload": _payload("faq_feedback", faq_id=entry.id, helpful="no")},
        ],
    )


NONE_OF_THESE = "none"
_NONE_TITLES = {"vi": "Không phải các câu trên", "en": "None of these"}


def suggest_entries(dispatcher: CollectingDispatcher, entries: List[FaqEntry], language: str) -> None:
    buttons = [
        {"title": (e.questions.get(language) or e.questions["vi"])[0], "payload": _payload("faq_select", faq_id=e.id)}
        for e in entries
    ]
    buttons.append({"title": _NONE_TITLES[language], "payload": _payload("faq_select", faq_id=NONE_OF_THESE)})
    dispatcher.utter_message(response="utter_faq_did_you_mean", buttons=buttons)


def respond_from_faq(dispatcher: CollectingDispatcher, tracker: Tracker, question: str) -> Optional[str]:
    """Answer, or offer "did you mean", from the FAQ; returns what it did
    ("answer", "suggest", "none"), or None when the FAQ itself is unavailable."""
    try:
        decision = registry.faq().ask(question)
    except Exception:
        logger.exception("FAQ search failed")
        return None
    if decision.kind == "answer":
        answer_entry(dispatcher, decision.entry, tu.language(tracker))
    elif decision.kind == "suggest":
        suggest_entries(dispatcher, decision.suggestions, tu.language(tracker))
    return decision.kind


# An intent the NLU is less sure of than this may be overruled by a confident FAQ
# answer (a new FAQ topic the intent model never saw reads as ask_capabilities or
# affirm as often as not). Above it, the NLU's reading stands.
OVERRULE_BELOW_CONFIDENCE = 0.80


def faq_overrules_nlu(dispatcher: CollectingDispatcher, tracker: Tracker, nlu_confidence: float = 0.0) -> bool:
    """Answer from the FAQ a typed question the NLU did not send to it (out_of_scope, a
    low-confidence intent), when the FAQ is confident; True if it answered.

    Never used for complaint, ticket, handoff or escalation intents: their rules do not
    call it, so complaint intake is untouched."""
    text = tu.latest_text(tracker)
    if not text.strip() or text.startswith("/") or nlu_confidence >= OVERRULE_BELOW_CONFIDENCE:
        return False
    try:
        decision = registry.faq().ask(text)
    except Exception:
        logger.exception("FAQ search failed")
        return False
    if not decision.confident:
        return False
    answer_entry(dispatcher, decision.entry, tu.language(tracker))
    return True


def record_unanswered(tracker: Tracker, question: str, language: str, kind: str = "unanswered",
                      faq_id: Optional[str] = None) -> None:
    try:
        registry.faq().record(kind, question, language, tracker.sender_id, faq_id=faq_id)
    except Exception:
        logger.exception("could not record an FAQ event")


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        language = tu.language(tracker)
        selected = tu.latest_entity(tracker, "faq_id")
        if selected == NONE_OF_THESE:
            # None of the suggestions fitted: the question the customer typed has no answer.
            dispatcher.utter_message(response="utter_faq_no_answer")
            self._record(tracker, "unanswered", _question_asked(tracker), language)
            return []
        if selected:
            entry = registry.faq_library().get(str(selected))
            if entry:
                answer_entry(dispatcher, entry, language)
                # Their own words should have found this entry: editors see it in `faq report`.
                record_unanswered(tracker, _question_asked(tracker), language, "picked", faq_id=entry.id)
                return []
        question = tu.latest_text(tracker)
        if respond_from_faq(dispatcher, tracker, question) in (None, "none"):
            dispatcher.utter_message(response="utter_faq_no_answer")
            self._record(tracker, "unanswered", question, language)
        return []

    @staticmethod
    def _record(tracker: Tracker, kind: str, question: str, language: str) -> None:
        record_unanswered(tracker, question, language, kind)


class ActionFaqFeedback(Action):
    def name(self) -> Text:
        return "action_faq_feedback"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        language = tu.language(tracker)
        faq_id = tu.latest_entity(tracker, "faq_id")
        helpful = str(tu.latest_entity(tracker, "helpful") or "").lower() in ("yes", "true", "1")
        try:
            registry.faq().record(
                "helpful" if helpful else "not_helpful", _question_asked(tracker), language, tracker.sender_id,
                faq_id=str(faq_id) if faq_id else None,
            )
        except Exception:
            logger.exception("could not record FAQ feedback")
        dispatcher.utter_message(response="utter_faq_thanks" if helpful else "utter_faq_sorry")
        if helpful:  # the bot alone solved it: how easy was that (CES)?
            ask_survey(dispatcher, tracker, "ces")
        return []


def _preload() -> None:
    """Build the FAQ index when the action server starts, not on the first question."""
    try:
        registry.faq_library()
    except Exception:
        logger.exception("FAQ could not be loaded at start; it will be retried on the first question")


_preload()
