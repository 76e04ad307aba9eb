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

Button payloads ("/affirm") are left alone: Rasa's RegexMessageHandler sets
their intent after this component anyway.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.services.escalation import trigger

ESCALATE_INTENT = "escalate"


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

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/") or trigger(text) is None:
                continue
            chosen = {INTENT_NAME_KEY: self._intent, PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != self._intent]
            message.set(INTENT, chosen, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [chosen] + ranking, add_to_output=True)
        return messages
