"""Handing the conversation to a person: asked for, or triggered (threat, abuse, a customer chasing a complaint).

The decisions live in bot/services: what triggers it (escalation.py), who may
escalate a ticket and what that changes (TicketService.escalate), queue or
ticket (HandoffService). These actions only read the tracker and speak.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action
from rasa_sdk.events import EventType, SlotSet

from bot.actions import tracker_utils as tu
from bot.actions.complaint import collected_details, reset_form_events, say_queued
from bot.actions.quota import refused_handoff
from bot.actions.ticket_status import NOT_GIVEN  # the ticket check's "no code" marker
from bot.categories import classify_category
from bot.parsers import parse_contact, parse_order_number, parse_ticket_code
from bot.services import escalation, registry
from bot.services.handoff import HandoffRequest
from bot.services.priority import PRIORITY_LABELS
from bot.services.sla import SERVICE_LEVELS, follow_up_due, promised_span
from bot.services.tickets import ESCALATED_NOTE, OPEN_STATUSES
from bot.timefmt import format_local

logger = logging.getLogger(__name__)


async def hand_over(
    dispatcher, tracker, reason: str, details: Optional[Dict[str, Any]] = None, ticket_code: Optional[str] = None,
) -> List[EventType]:
    """Ask HandoffService for a person and tell the customer what happens next.

    Queued: their place in the queue. Otherwise: the ticket code and when a
    person will contact them. Over the client's handoff quota: when to try
    again, and no ticket or queue entry. Returns the events for the conversation's slots.
    """
    if await refused_handoff(dispatcher, tracker):
        return [SlotSet("offered_human", False)]
    language = tu.language(tracker)
    request = HandoffRequest(
        # One handoff per user message, however often the action is retried.
        request_key=f"{tracker.sender_id}:handoff:{_latest_user_timestamp(tracker)}",
        sender_id=tracker.sender_id,
        channel=tu.channel(tracker),
        language=language,
        reason=reason,
        **(details if details is not None else collected_details(tracker)),
        recent_customer_texts=tuple(tu.customer_texts(tracker, limit=8)),
        ticket_code=ticket_code,
    )
    try:
        outcome = registry.handoff().request(request)
    except Exception:
        logger.exception("handoff failed for conversation %s", tracker.sender_id[:8])
        dispatcher.utter_message(response="utter_handoff_failed")
        return [SlotSet("offered_human", False)]
    ticket = outcome.ticket
    done = reset_form_events() + [SlotSet("offered_human", False), SlotSet("last_ticket_code", ticket.code)]
    if outcome.mode == "queued":
        say_queued(dispatcher, outcome)
        return done
    level = SERVICE_LEVELS[ticket.priority]
    due = follow_up_due(ticket.priority, ticket.acknowledge_due_at, ticket.acknowledged_at, datetime.utcnow())
    dispatcher.utter_message(
        response="utter_handoff_ticket",
        code=ticket.code,
        ack_within=promised_span(level.acknowledge, language),
        ack_due=format_local(due, language),
    )
    return done


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        reason = "misunderstood" if tracker.get_slot("offered_human") else "customer_asked"
        return await hand_over(dispatcher, tracker, reason)


class ActionEscalate(Action):
    """Intent `escalate`: a threat, abuse, or a customer chasing a complaint.

    Threat: a manager must see it (seed 004) — the customer's open ticket goes
    to urgent, or a new ticket is opened from what they wrote (urgent by its
    words). Abuse: a calm line, then a person. Chasing: the customer's own
    ticket goes one priority step up and a person takes over; a code that is
    not theirs gets the same answer as a code that does not exist.
    """

    def name(self) -> Text:
        return "action_escalate"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        text = tu.latest_text(tracker)
        # The NLU component says escalate for the phrases it knows; the
        # classifier may say it for other angry wordings: those are treated as chasing.
        reason = escalation.trigger(text) or "escalation"
        events: List[EventType] = [SlotSet("offered_human", False), SlotSet("ticket_code", None),
                                   SlotSet("ticket_contact", None)]
        if reason == "abuse":
            dispatcher.utter_message(response="utter_deescalate")
        elif reason == "threat":
            dispatcher.utter_message(response="utter_threat_escalated")
        try:
            target = self._escalate_ticket(tracker, text, reason)
        except Exception:
            logger.exception("escalation failed for conversation %s", tracker.sender_id[:8])
            target = None
        if target is False:
            # A code that is not this customer's: nothing changes, nothing is revealed.
            dispatcher.utter_message(response="utter_ticket_not_found")
            return events
        if target and reason == "escalation":
            dispatcher.utter_message(
                response="utter_ticket_escalated", code=target.code,
                priority=PRIORITY_LABELS[tu.language(tracker)][target.priority],
            )
        return events + await hand_over(
            dispatcher, tracker, reason, details=_details(tracker), ticket_code=target.code if target else None
        )

    @staticmethod
    def _escalate_ticket(tracker, text: str, reason: str):
        """The escalated TicketView, None when there is no ticket to escalate, False when the code is not theirs."""
        tickets = registry.tickets()
        minimum = "urgent" if reason == "threat" else None
        note = ESCALATED_NOTE if reason == "escalation" else f"{ESCALATED_NOTE} ({reason})"
        code = parse_ticket_code(text)
        asked = tracker.get_slot("ticket_code")
        if not code and asked and asked != NOT_GIVEN:
            code = asked  # the ticket check was under way
        if code:
            contact = parse_contact(text) or parse_contact(tracker.get_slot("ticket_contact"))
            ticket = tickets.escalate(
                code, sender_id=tracker.sender_id, contact=contact.value if contact else None,
                minimum=minimum, note=note,
            )
            if ticket is None and reason == "escalation":
                return False
            return ticket
        mine = tickets.for_sender(tracker.sender_id)
        open_ones = [t for t in mine if t.status in OPEN_STATUSES]
        # Chasing a complaint may mean "you closed it but it is not solved": the latest
        # ticket, whatever its status. A threat or an insult only pushes an open one.
        target = open_ones[0] if open_ones else (mine[0] if mine and reason == "escalation" else None)
        if target is None:
            return None
        return tickets.escalate(target.code, sender_id=tracker.sender_id, minimum=minimum, note=note)


def _details(tracker) -> Dict[str, Any]:
    """What the form learned, completed from what the customer wrote (an order number, the kind of problem)."""
    details = collected_details(tracker)
    texts = tu.customer_texts(tracker, limit=8)
    if not details["order_number"]:
        for text in reversed(texts):
            number = parse_order_number(text).number
            if number:
                details["order_number"] = number
                break
    if not details["category"]:
        for text in reversed(texts):
            category = classify_category(text)
            if category:
                details["category"] = category
                break
    return details


def _latest_user_timestamp(tracker) -> float:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("timestamp") or 0.0
    return 0.0
