"""What every form of ours shares: knowing when a message interrupts it."""
from __future__ import annotations

from abc import abstractmethod

from rasa_sdk import FormValidationAction

from bot.actions import tracker_utils as tu
from bot.services import intake


class InterruptibleFormValidation(FormValidationAction):
    """A form validation that returns nothing for an interruption.

    With no events, Rasa rejects the form, the digression rules answer (an FAQ,
    "are you a bot?", cancel, a person), and the form resumes at the same question.
    """

    @abstractmethod
    def name(self) -> str:
        """Each form's validation action names itself (validate_<form>)."""

    async def run(self, dispatcher, tracker, domain):
        intent, confidence = tu.latest_intent(tracker)
        requested = tracker.get_slot("requested_slot")
        if requested and intake.is_digression(requested, intent, confidence, tu.latest_text(tracker)):
            return []
        return await super().run(dispatcher, tracker, domain)
