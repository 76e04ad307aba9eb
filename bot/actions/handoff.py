"""Asking for a person. The live-handoff issue replaces HandoffService's inside, not this action."""
from __future__ import annotations

import logging
from typing import List, Text

from rasa_sdk import Action
from rasa_sdk.events import EventType, SlotSet

from bot.actions import tracker_utils as tu
from bot.actions.complaint import collected_details, reset_form_events
from bot.services import registry
from bot.services.handoff import HandoffRequest
from bot.services.sla import SERVICE_LEVELS, hours
from bot.timefmt import format_local

logger = logging.getLogger(__name__)


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        language = tu.language(tracker)
        reason = "misunderstood" if tracker.get_slot("offered_human") else "customer_asked"
        request = HandoffRequest(
            # One handoff per user message, however often the action is retried.
            request_key=f"{tracker.sender_id}:handoff:{_latest_user_timestamp(tracker)}",
            sender_id=tracker.sender_id,
            channel=tu.channel(tracker),
            language=language,
            reason=reason,
            **collected_details(tracker),
            recent_customer_texts=tuple(tu.customer_texts(tracker, limit=8)),
        )
        try:
            outcome = registry.handoff().request(request)
        except Exception:
            logger.exception("handoff failed for conversation %s", tracker.sender_id[:8])
            dispatcher.utter_message(response="utter_handoff_failed")
            return [SlotSet("offered_human", False)]
        ticket = outcome.ticket
        level = SERVICE_LEVELS[ticket.priority]
        if outcome.mode == "queued":
            dispatcher.utter_message(response="utter_handoff_queued", code=ticket.code, position=outcome.queue_position)
            return reset_form_events() + [SlotSet("offered_human", False), SlotSet("last_ticket_code", ticket.code)]
        dispatcher.utter_message(
            response="utter_handoff_ticket",
            code=ticket.code,
            ack_hours=hours(level.acknowledge),
            ack_due=format_local(ticket.acknowledge_due_at, language),
        )
        return reset_form_events() + [SlotSet("offered_human", False), SlotSet("last_ticket_code", ticket.code)]


def _latest_user_timestamp(tracker) -> float:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("timestamp") or 0.0
    return 0.0

