"""A problem report the classifier could not file under one intent is still a problem report.

`inform` ("đơn DH100012 bị vỡ") and `file_complaint` ("tôi muốn khiếu nại")
lead to the same place outside a form: the complaint form (data/rules). A long,
angry first message that says both ("đơn DH100012 bị vỡ nát hết, đóng gói kiểu
gì vậy???") splits the classifier between them, and the FallbackClassifier's
ambiguity check turned it into "sorry, I didn't get that" although either
reading would have been right.

Placed right after the FallbackClassifier (config.yml): when it gave up only
because it could not choose between these two, and the words name a problem
(bot/categories.py), the message becomes `file_complaint` with their joint
confidence. Any other fallback is left alone.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.categories import classify_category

FALLBACK_INTENT = "nlu_fallback"
COMPLAINT_INTENT = "file_complaint"
# Intents whose only meaning outside a form is "start the complaint form".
SAME_PLACE = frozenset({"inform", COMPLAINT_INTENT})
# Together they must be as sure as one intent has to be on its own (FallbackClassifier's threshold).
MIN_JOINT_CONFIDENCE = 0.5


def one_place(ranking: List[Dict[str, Any]], text: str) -> Optional[Dict[str, Any]]:
    """file_complaint for a fallback that only hesitated between two ways of starting a complaint, else None."""
    guesses = [r for r in ranking if r.get(INTENT_NAME_KEY) != FALLBACK_INTENT][:2]
    if len(guesses) < 2 or {g.get(INTENT_NAME_KEY) for g in guesses} != SAME_PLACE:
        return None
    joint = sum(float(g.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for g in guesses)
    if joint < MIN_JOINT_CONFIDENCE or classify_category(text) is None:
        return None
    return {INTENT_NAME_KEY: COMPLAINT_INTENT, PREDICTED_CONFIDENCE_KEY: min(1.0, joint)}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ComplaintAmbiguityResolver(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ComplaintAmbiguityResolver":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/") or (message.get(INTENT) or {}).get(INTENT_NAME_KEY) != FALLBACK_INTENT:
                continue
            ranking = message.get(INTENT_RANKING_KEY) or []
            chosen = one_place(ranking, text)
            if chosen is None:
                continue
            rest = [r for r in ranking if r.get(INTENT_NAME_KEY) not in (FALLBACK_INTENT, COMPLAINT_INTENT)]
            message.set(INTENT, chosen, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [chosen] + rest, add_to_output=True)
        return messages
