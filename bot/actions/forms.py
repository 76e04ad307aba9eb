"""What every form of ours shares: knowing when a message interrupts it."""
from __future__ import annotations

from abc import abstractmethod
from typing import Tuple

from rasa_sdk import FormValidationAction
from rasa_sdk.events import SlotSet

from bot.actions import tracker_utils as tu
from bot.services import intake


class InterruptibleFormValidation(FormValidationAction):
    """A form validation that returns nothing for an interruption.

    With no events, Rasa rejects the form, the digression rules answer (an FAQ,
    "are you a bot?", cancel, a person), and the form resumes at the same question.
    """

    # Slots an extractor sets beside the one it extracts ("not that phone": order_phone=None; another order
    # number: order_candidate). rasa_sdk only returns slots a question asks for, so without this list they were
    # silently dropped (after "use another number" the bot offered the order's phone again).
    SIDE_SLOTS: Tuple[str, ...] = ()

    @abstractmethod
    def name(self) -> str:
        """Each form's validation action names itself (validate_<form>)."""

    async def get_validation_events(self, dispatcher, tracker, domain):
        side = {k: v for k, v in tracker.slots_to_validate().items() if k in self.SIDE_SLOTS}
        events = await super().get_validation_events(dispatcher, tracker, domain)
        validated = {event["name"] for event in events}
        return events + [SlotSet(name, value) for name, value in side.items() if name not in validated]

    async def run(self, dispatcher, tracker, domain):
        intent, confidence = tu.latest_intent(tracker)
        requested = tracker.get_slot("requested_slot")
        if requested and intake.is_digression(requested, intent, confidence, tu.latest_text(tracker)):
            return []
        return await super().run(dispatcher, tracker, domain)
