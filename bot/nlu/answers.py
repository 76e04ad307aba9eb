"""Reads a typed reply as the button it stands for, when the bot has just offered buttons.

Last in the pipeline (config.yml): the classifier never sees the question, so
"5" after "how would you rate us (1-5)?" came out as `inform` and started a
complaint. Rasa hands NLU components the conversation's tracker (the graph's
`tracker` placeholder) before the new message is added to it, so the last bot
message of the previous turn is the question being answered. When the reply
answers its buttons (bot/services/answers.py decides), the message gets that
button's intent and entities, exactly as if it had been pressed; the
customer's own words stay the message text. Otherwise nothing changes.

Without a tracker (`rasa test nlu`, /model/parse) there is no question and the
component does nothing, so the NLU figures measure the classifier alone.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.events import BotUttered, Restarted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import (
    ENTITIES, ENTITY_ATTRIBUTE_END, ENTITY_ATTRIBUTE_START, ENTITY_ATTRIBUTE_TYPE, ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.services.answers import Button, buttons_from, read_answer

READER = "ButtonAnswerReader"
# Kept in the message's parse data: the button the words were read as. The form needs to know that
# "cái thứ hai" answered the question, and is no detail of the problem to add to the description.
ANSWER_KEY = "button_answer"


def offered_buttons(tracker: Optional[DialogueStateTracker]) -> List[Button]:
    """The buttons of the bot's last message, if the customer has not spoken since (same session)."""
    if tracker is None:
        return []
    for event in reversed(tracker.events):
        if isinstance(event, (UserUttered, SessionStarted, Restarted)):
            return []
        if isinstance(event, BotUttered):
            return buttons_from((event.data or {}).get("buttons") or [])
    return []


def apply_answer(message: Message, button: Button) -> None:
    """Give the message the button's intent and entities (confidence 1.0), keeping the classifier's ranking after it."""
    text = message.get(TEXT) or ""
    chosen = {INTENT_NAME_KEY: button.intent, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != button.intent]
    entities = [
        {
            ENTITY_ATTRIBUTE_TYPE: name, ENTITY_ATTRIBUTE_VALUE: value, ENTITY_ATTRIBUTE_START: 0,
            ENTITY_ATTRIBUTE_END: len(text), EXTRACTOR: READER,
        }
        for name, value in button.entities.items()
    ]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen] + ranking, add_to_output=True)
    message.set(ENTITIES, entities, add_to_output=True)
    message.set(ANSWER_KEY, {"title": button.title, "payload": button.payload}, add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ButtonAnswerReader(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ButtonAnswerReader":
        return cls()

    def process(self, messages: List[Message], tracker: Optional[DialogueStateTracker] = None) -> List[Message]:
        buttons = offered_buttons(tracker)
        if not buttons:
            return messages
        for message in messages:
            button = read_answer(message.get(TEXT) or "", buttons)
            if button is not None and button.intent:
                apply_answer(message, button)
        return messages
