"""Marks messages that must reach a person, whatever the intent classifier guessed.

Placed after the intent classifier and the FallbackClassifier in config.yml.
A threat, abuse or a customer chasing a complaint (bot/services/escalation.py)
becomes intent `escalate` with confidence 1.0:

* not left to the classifier: a threat in an unusual sentence must not end as
  `nlu_fallback` ("sorry, I didn't get that") or as an FAQ answer. Coming after
  the FallbackClassifier, it also overrides `nlu_fallback`;
* the classifier's own ranking is kept after it, for debugging and evaluation;
* the dialogue decides what `escalate` means where the conversation is: outside
  a form a rule runs action_escalate; inside the complaint form the description
  question takes it as the description (the form goes on and the urgent ticket
  then goes to a person), other questions treat it as an interruption
  (bot/services/intake.py).

The reverse holds too: the classifier's own `escalate` (learnt from angry
messages chasing a complaint) stands only when there is a complaint to chase,
the conversation's ticket or one the customer mentions
(`escalation.may_chase`). Otherwise the message is a first report: a problem
the categories know ("giao chậm cả tuần nay rồi", "a week late") becomes
`file_complaint`, so the complaint form starts with the problem filled in;
anything else takes the classifier's next guess, or `nlu_fallback` when that
guess is weak.

Button payloads ("/affirm") are left alone: Rasa's RegexMessageHandler sets
their intent after this component anyway.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.categories import classify_category
from bot.services.escalation import may_chase, trigger

ESCALATE_INTENT = "escalate"
COMPLAINT_INTENT = "file_complaint"
FALLBACK_INTENT = "nlu_fallback"
# FallbackClassifier's threshold in config.yml: a guess weaker than this is not trusted.
FALLBACK_THRESHOLD = 0.5


def has_ticket(tracker: Optional[DialogueStateTracker]) -> bool:
    return bool(tracker is not None and tracker.get_slot("last_ticket_code"))


def first_report(ranking: List[Dict[str, Any]], text: str, escalate_confidence: float) -> Dict[str, Any]:
    """The intent for a message the classifier took for chasing when there is nothing to chase."""
    if classify_category(text):
        return {INTENT_NAME_KEY: COMPLAINT_INTENT, PREDICTED_CONFIDENCE_KEY: escalate_confidence}
    others = [r for r in ranking if r.get(INTENT_NAME_KEY) not in (ESCALATE_INTENT, FALLBACK_INTENT)]
    if not others:
        return {INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
    rest = max(1e-9, 1.0 - escalate_confidence)
    best = others[0]
    confidence = min(1.0, float(best.get(PREDICTED_CONFIDENCE_KEY) or 0.0) / rest)
    if confidence < FALLBACK_THRESHOLD:
        return {INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0 - confidence}
    return {INTENT_NAME_KEY: best[INTENT_NAME_KEY], PREDICTED_CONFIDENCE_KEY: confidence}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EscalationDetector(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent": ESCALATE_INTENT}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._intent = config.get("intent") or ESCALATE_INTENT

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EscalationDetector":
        return cls(config)

    def process(self, messages: List[Message], tracker: Optional[DialogueStateTracker] = None) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue
            ranking = message.get(INTENT_RANKING_KEY) or []
            if trigger(text) is not None:
                chosen = {INTENT_NAME_KEY: self._intent, PREDICTED_CONFIDENCE_KEY: 1.0}
            else:
                predicted = message.get(INTENT) or {}
                if predicted.get(INTENT_NAME_KEY) != self._intent or may_chase(text, has_ticket(tracker)):
                    continue
                chosen = first_report(ranking, text, float(predicted.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
            ranking = [r for r in ranking if r.get(INTENT_NAME_KEY) not in (self._intent, chosen[INTENT_NAME_KEY])]
            message.set(INTENT, chosen, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [chosen] + ranking, add_to_output=True)
        return messages
