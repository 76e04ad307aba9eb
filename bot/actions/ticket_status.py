"""Checking a ticket: only its owner learns anything, and a guessed code reveals nothing."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Dict, List, Text

from rasa_sdk import Action
from rasa_sdk.events import EventType, SlotSet

from bot.actions import tracker_utils as tu
from bot.actions.forms import InterruptibleFormValidation
from bot.categories import label
from bot.parsers import parse_contact, parse_ticket_code
from bot.services import intake, registry
from bot.services.tickets import STATUS_LABELS
from bot.timefmt import format_local

logger = logging.getLogger(__name__)

NOT_GIVEN = "__not_given__"
_MALFORMED = "__malformed__"


class ValidateTicketStatusForm(InterruptibleFormValidation):
    def name(self) -> Text:
        return "validate_ticket_status_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        code = tracker.get_slot("ticket_code")
        if code and code != NOT_GIVEN and self._owned_by_sender(code, tracker.sender_id):
            return ["ticket_code"]
        return ["ticket_code", "ticket_contact"]

    @staticmethod
    def _owned_by_sender(code: str, sender_id: str) -> bool:
        try:
            return registry.tickets().find_for_requester(code, sender_id=sender_id) is not None
        except Exception:
            logger.exception("ticket lookup failed")
            return False

    def extract_ticket_code(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("ticket_code"):
            return {}
        text = tu.latest_text(tracker)
        code = parse_ticket_code(text)
        if code:
            return {"ticket_code": code}
        requested = tracker.get_slot("requested_slot")
        if requested is None:
            # "How is my complaint going?" with no code: this conversation's latest ticket.
            try:
                mine = registry.tickets().for_sender(tracker.sender_id)
            except Exception:
                logger.exception("ticket lookup failed")
                mine = []
            if mine:
                return {"ticket_code": mine[0].code}
            return {}
        if requested == "ticket_code":
            return {"ticket_code": _MALFORMED}
        return {}

    def validate_ticket_code(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:
            return {"ticket_code": None}
        if value != _MALFORMED:
            return {"ticket_code": value, "failed_attempts": 0}
        failures = int(tracker.get_slot("failed_attempts") or 0) + 1
        if failures >= intake.MAX_FAILED_ATTEMPTS:
            return {"ticket_code": NOT_GIVEN, "ticket_contact": NOT_GIVEN, "failed_attempts": 0}
        dispatcher.utter_message(response="utter_ticket_code_invalid")
        return {"ticket_code": None, "failed_attempts": failures}

    def extract_ticket_contact(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "ticket_contact":
            return {}
        contact = parse_contact(tu.latest_text(tracker))
        return {"ticket_contact": contact.value if contact else _MALFORMED}

    def validate_ticket_contact(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:
            return {"ticket_contact": None}
        if value != _MALFORMED:
            return {"ticket_contact": value, "failed_attempts": 0}
        failures = int(tracker.get_slot("failed_attempts") or 0) + 1
        if failures >= intake.MAX_FAILED_ATTEMPTS:
            return {"ticket_contact": NOT_GIVEN, "failed_attempts": 0}
        dispatcher.utter_message(response="utter_contact_invalid")
        return {"ticket_contact": None, "failed_attempts": failures}


class ActionTicketStatus(Action):
    def name(self) -> Text:
        return "action_ticket_status"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        language = tu.language(tracker)
        code = tracker.get_slot("ticket_code")
        contact = tracker.get_slot("ticket_contact")
        reset = [SlotSet("ticket_code", None), SlotSet("ticket_contact", None), SlotSet("failed_attempts", 0)]
        ticket = None
        if code and code != NOT_GIVEN:
            try:
                ticket = registry.tickets().find_for_requester(
                    code, sender_id=tracker.sender_id, contact=None if contact == NOT_GIVEN else contact
                )
            except Exception:
                logger.exception("ticket lookup failed")
                dispatcher.utter_message(response="utter_handoff_failed")
                return reset
        if ticket is None:
            # Same answer whether the code does not exist or belongs to someone else.
            dispatcher.utter_message(response="utter_ticket_not_found")
            return reset
        last = ticket.last_event
        last_update = format_local(last.created_at if last else ticket.updated_at, language)
        # Staff notes only: the bot's and the customer's own notes are internal (and in English).
        if last and last.note and last.author not in ("bot", "customer"):
            last_update += f" — {last.note}"
        dispatcher.utter_message(
            response="utter_ticket_status",
            code=ticket.code,
            category=label(ticket.category, language),
            status=STATUS_LABELS[language].get(ticket.status, ticket.status),
            ack_due=format_local(ticket.acknowledge_due_at, language),
            # While the shop waits for the customer, the deadline moves on with the wait.
            resolve_due=format_local(ticket.resolve_due(datetime.utcnow()), language),
            last_update=last_update,
        )
        return reset
