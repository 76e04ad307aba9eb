"""The complaint form: validation, its dynamic questions, submission and cancel."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet

from bot.actions import tracker_utils as tu
from bot.actions.forms import InterruptibleFormValidation
from bot.actions.quota import refused_handoff
from bot.categories import CATEGORIES, classify_category, label
from bot.parsers import format_phone, mask_contact, mask_phone, parse_contact, parse_order_number
from bot.services import escalation, intake, registry
from bot.services.handoff import HandoffRequest
from bot.services.orders import OrderLookupError
from bot.services.sla import SERVICE_LEVELS, promised_span
from bot.services.tickets import ComplaintSubmission
from bot.timefmt import format_local

logger = logging.getLogger(__name__)

FORM = "complaint_form"
FORM_SLOTS = (
    "order_number", "order_verified", "order_customer_id", "order_phone", "complaint_category",
    "complaint_description", "contact", "complaint_confirmed", "failed_attempts", "order_candidate", "order_switch",
)
IN_CHAT = "in_chat"  # no phone or email: staff answer in this conversation
UNKNOWN_ORDER = "UNKNOWN"
_MALFORMED = "__malformed__"
_SKIPPED = "__skipped__"


def _failures(tracker: Tracker) -> int:
    return int(tracker.get_slot("failed_attempts") or 0)


def _look_up(number: str, dispatcher) -> Optional[Dict[Text, Any]]:
    """The slots for a well-formed order number: verified when the order exists, unverified when the order
    system is down (said to the customer); None when no such order exists."""
    try:
        order = registry.orders().lookup(number)
    except OrderLookupError as exc:
        logger.warning("order lookup failed: %s", exc)
        dispatcher.utter_message(response="utter_order_lookup_unavailable", order_candidate=number)
        return {"order_number": number, "order_verified": False, "failed_attempts": 0}
    if order is None:
        return None
    dispatcher.utter_message(response="utter_order_found", order_number=order.number)
    return {
        "order_number": order.number,
        "order_verified": True,
        "order_customer_id": float(order.customer_id) if order.customer_id else None,
        "order_phone": order.phone,
        "failed_attempts": 0,
    }


def _adds_detail(tracker: Tracker) -> bool:
    """The latest message tells more about the problem instead of answering the question asked."""
    if tu.answered_a_button(tracker):
        return False  # "cái thứ hai", a title typed out: an answer, however many words
    intent, _ = tu.latest_intent(tracker)
    return intake.adds_detail(tracker.get_slot("requested_slot"), tu.latest_text(tracker), intent)


def _other_order(tracker: Tracker) -> Optional[str]:
    """An order number typed while the complaint is about another (verified or typed) order."""
    current = tracker.get_slot("order_number")
    if current in (None, UNKNOWN_ORDER) or tracker.get_slot("requested_slot") == "complaint_confirmed":
        return None
    return intake.new_order_number(tu.latest_text(tracker), current)


def _says_something_else(tracker: Tracker) -> bool:
    """Not an answer to the question asked, nor a bad one: another order number (the switch is offered)
    or a detail of the problem (added to the description). Never counted as a failed answer."""
    return bool(_other_order(tracker)) or _adds_detail(tracker)


class ValidateComplaintForm(InterruptibleFormValidation):
    SIDE_SLOTS = ("order_phone", "order_candidate")

    def name(self) -> Text:
        return "validate_complaint_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        # Another order number came up mid-form: ask whether to switch before anything else.
        if tracker.get_slot("order_candidate"):
            return ["order_switch"] + list(domain_slots)
        return domain_slots

    # -- order number --------------------------------------------------------

    def extract_order_number(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        requested = tracker.get_slot("requested_slot")
        text = tu.latest_text(tracker)
        asking = requested == "order_number"
        if tracker.get_slot("order_number") and requested != "complaint_confirmed":
            other = _other_order(tracker) if requested != "order_switch" else None
            return {"order_candidate": other} if other else {}
        parsed = parse_order_number(text, expecting=asking)
        if parsed.number:
            return {"order_number": parsed.number}
        if not asking or _says_something_else(tracker):
            return {}
        intent, _ = tu.latest_intent(tracker)
        if intent == "deny":
            return {"order_number": _SKIPPED}
        return {"order_number": _MALFORMED}

    def validate_order_number(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:  # cleared to be asked again (a change at the summary)
            return {"order_number": None}
        failures = _failures(tracker)
        if value == _SKIPPED:
            dispatcher.utter_message(response="utter_order_unverified")
            return {"order_number": UNKNOWN_ORDER, "order_verified": False, "failed_attempts": 0}
        if value == _MALFORMED:
            failures += 1
            if failures >= intake.MAX_FAILED_ATTEMPTS:
                dispatcher.utter_message(response="utter_order_unverified")
                return {
                    "order_number": _last_typed_order_number(tracker) or UNKNOWN_ORDER,
                    "order_verified": False,
                    "failed_attempts": 0,
                }
            dispatcher.utter_message(response="utter_order_malformed")
            return {"order_number": None, "failed_attempts": failures}
        found = _look_up(value, dispatcher)
        if found is not None:
            return found
        failures += 1
        if failures >= intake.MAX_FAILED_ATTEMPTS:
            dispatcher.utter_message(response="utter_order_unverified")
            return {"order_number": value, "order_verified": False, "failed_attempts": 0}
        dispatcher.utter_message(response="utter_order_not_found", order_candidate=value)
        return {"order_number": None, "failed_attempts": failures}

    # -- another order number, mid-form ------------------------------------------

    def extract_order_switch(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "order_switch":
            return {}
        candidate = tracker.get_slot("order_candidate")
        text = tu.latest_text(tracker)
        intent, _ = tu.latest_intent(tracker)
        typed = parse_order_number(text, expecting=True).number
        if intent in ("affirm", "change_field") or typed == candidate:
            return {"order_switch": True}
        if typed and typed != tracker.get_slot("order_number"):
            return {"order_candidate": typed}  # yet another number: ask about that one
        return {"order_switch": False}

    def validate_order_switch(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        candidate = tracker.get_slot("order_candidate")
        if value is None or not candidate:
            return {"order_switch": None}
        done = {"order_switch": None, "order_candidate": None}
        if not value:
            dispatcher.utter_message(response="utter_order_kept", order_number=tracker.get_slot("order_number"))
            return done
        found = _look_up(candidate, dispatcher)
        if found is None:
            dispatcher.utter_message(response="utter_order_not_found", order_candidate=candidate)
            dispatcher.utter_message(response="utter_order_kept", order_number=tracker.get_slot("order_number"))
            return done
        if not found["order_verified"]:
            found.update(order_customer_id=None, order_phone=None)  # the old order's phone is not this one's
        return {**found, **done}

    # -- category ------------------------------------------------------------

    def extract_complaint_category(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        requested = tracker.get_slot("requested_slot")
        from_button = tu.latest_entity(tracker, "complaint_category")
        if from_button:
            return {"complaint_category": from_button}
        if tracker.get_slot("complaint_category") and (requested != "complaint_confirmed" or _adds_detail(tracker)):
            return {}
        found = classify_category(tu.latest_text(tracker))
        if found:
            return {"complaint_category": found}
        # Another order number is no bad answer: the switch is offered first. A detail is kept (see the
        # description) and still counts as no answer here, so that "what went wrong?" is not asked forever.
        if requested == "complaint_category" and not _other_order(tracker):
            return {"complaint_category": _MALFORMED}
        return {}

    def validate_complaint_category(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:
            return {"complaint_category": None}
        if value in CATEGORIES:
            return {"complaint_category": value, "failed_attempts": 0}
        failures = _failures(tracker) + 1
        if failures >= intake.MAX_FAILED_ATTEMPTS:
            return {"complaint_category": "other", "failed_attempts": 0}
        dispatcher.utter_message(response="utter_category_unclear")
        return {"complaint_category": None, "failed_attempts": failures}

    # -- description ---------------------------------------------------------

    def extract_complaint_description(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        requested = tracker.get_slot("requested_slot")
        text = tu.latest_text(tracker)
        if requested == "complaint_description":
            if text.startswith("/") or (_other_order(tracker) and not intake.describes_problem(text)):
                return {}
            return {"complaint_description": text}
        described = tracker.get_slot("complaint_description")
        if _adds_detail(tracker):
            # Said instead of answering: kept, and the question comes again (briefly, for the contact).
            dispatcher.utter_message(response="utter_detail_added", detail=intake.summary_description(text, 120))
            return {"complaint_description": intake.append_detail(described, text)}
        if described:
            return {}
        # The opening message, or a worded answer to the category question,
        # may already say what happened: don't ask for it again.
        if requested in (None, "order_number") and intake.describes_problem(text):
            return {"complaint_description": text}
        if requested == "complaint_category" and intake.describes_problem(text, min_words=6):
            return {"complaint_description": text}
        return {}

    def validate_complaint_description(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        description = intake.clip_description(value or "")
        if not description:
            return {"complaint_description": None}
        return {"complaint_description": description}

    # -- contact -------------------------------------------------------------

    def extract_contact(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        requested = tracker.get_slot("requested_slot")
        text = tu.latest_text(tracker)
        contact = parse_contact(text)
        if requested not in ("contact", "complaint_confirmed"):
            return {"contact": contact.value} if contact and not tracker.get_slot("contact") else {}
        if contact:
            return {"contact": contact.value}
        if requested != "contact" or _says_something_else(tracker):
            return {}
        intent, _ = tu.latest_intent(tracker)
        order_phone = tracker.get_slot("order_phone")
        if order_phone and intent == "affirm":
            return {"contact": order_phone}
        if order_phone and intent == "deny":
            # Not the number on the order: ask for another one, no failure counted.
            return {"order_phone": None, "contact": None}
        return {"contact": _MALFORMED}

    def validate_contact(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value is None:
            return {"contact": None}
        if value != _MALFORMED:
            return {"contact": value, "failed_attempts": 0}
        failures = _failures(tracker) + 1
        if failures > intake.MAX_FAILED_ATTEMPTS:
            # Three tries: stop asking; staff will answer in this conversation.
            return {"contact": IN_CHAT, "failed_attempts": 0}
        dispatcher.utter_message(response="utter_contact_invalid")
        return {"contact": None, "failed_attempts": failures}

    # -- confirmation --------------------------------------------------------

    def extract_complaint_confirmed(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "complaint_confirmed":
            return {}
        intent, confidence = tu.latest_intent(tracker)
        text = tu.latest_text(tracker)
        if intent == "affirm" and (text.startswith("/") or confidence >= intake.CONFIRM_CONFIDENCE):
            # Filing is the one step that cannot be taken back: a doubtful "yes" shows the summary again.
            return {"complaint_confirmed": True}
        if intent == "change_field" or intent == "deny":
            field = intake.field_to_change(text, tu.latest_entity(tracker, "field"))
            if field is None:
                dispatcher.utter_message(response="utter_ask_which_field")
                return {"complaint_confirmed": None}
            cleared = {field: None, "complaint_confirmed": None, "failed_attempts": 0}
            if field == "order_number":
                cleared.update(order_verified=None, order_customer_id=None, order_phone=None)
            if field == "contact":
                cleared["order_phone"] = None
            return cleared
        # New details typed at the summary (a phone, an order number) are
        # picked up by the other extractors; show the summary again.
        return {"complaint_confirmed": None}

    def validate_complaint_confirmed(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return {"complaint_confirmed": True if value else None}


def _last_typed_order_number(tracker: Tracker) -> Optional[str]:
    """The latest well-formed order number the customer typed in this form, if any."""
    for text in reversed(tu.customer_texts(tracker, since=tu.activation_timestamp(tracker, FORM))):
        number = parse_order_number(text, expecting=True).number
        if number:
            return number
    return None


class ActionAskContact(Action):
    def name(self) -> Text:
        return "action_ask_contact"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        phone = tracker.get_slot("order_phone")
        # Right after "added to the description", the customer knows the question: ask it in a few words.
        again = "_brief" if tu.said_this_turn(tracker, "utter_detail_added") else ""
        if phone and tracker.get_slot("order_verified") and not tracker.get_slot("failed_attempts"):
            dispatcher.utter_message(response=f"utter_ask_contact_confirm_phone{again}", masked_phone=mask_phone(phone))
        else:
            dispatcher.utter_message(response=f"utter_ask_contact{again}")
        return []


def _display_contact(contact: Optional[str], language: str) -> str:
    if not contact:
        return "—"
    if contact == IN_CHAT:
        return "trả lời trong khung chat này" if language == "vi" else "reply in this chat"
    if "@" in contact:
        return contact
    return format_phone(contact)


def _display_order(number: Optional[str], verified: Optional[bool], language: str) -> str:
    if not number or number == UNKNOWN_ORDER:
        return "chưa rõ" if language == "vi" else "unknown"
    if verified:
        return number
    return f"{number} (chưa xác minh)" if language == "vi" else f"{number} (not verified)"


class ActionAskComplaintConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_complaint_confirmed"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        language = tu.language(tracker)
        dispatcher.utter_message(
            response="utter_complaint_summary",
            summary_order=_display_order(tracker.get_slot("order_number"), tracker.get_slot("order_verified"), language),
            summary_category=label(tracker.get_slot("complaint_category"), language),
            summary_description=intake.summary_description(tracker.get_slot("complaint_description")),
            summary_contact=_display_contact(tracker.get_slot("contact"), language),
        )
        return []


def collected_details(tracker: Tracker) -> Dict[Text, Any]:
    """What the complaint form has learned so far, in the form the services take."""
    order_number = tracker.get_slot("order_number")
    contact = tracker.get_slot("contact")
    customer_id = tracker.get_slot("order_customer_id")
    return {
        "order_number": None if order_number in (None, UNKNOWN_ORDER) else order_number,
        "order_verified": bool(tracker.get_slot("order_verified")),
        "category": tracker.get_slot("complaint_category"),
        "description": tracker.get_slot("complaint_description"),
        "contact": None if contact in (None, IN_CHAT) else contact,
        "customer_id": int(customer_id) if customer_id else None,
    }


def reset_form_events() -> List[EventType]:
    return [SlotSet(name, None) for name in FORM_SLOTS] + [SlotSet("failed_attempts", 0)]


class ActionSubmitComplaint(Action):
    def name(self) -> Text:
        return "action_submit_complaint"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        language = tu.language(tracker)
        activated = tu.activation_timestamp(tracker, FORM)
        details = collected_details(tracker)
        submission = ComplaintSubmission(
            submission_key=f"{tracker.sender_id}:{FORM}:{activated}",
            sender_id=tracker.sender_id,
            channel=tu.channel(tracker),
            language=language,
            **dict(details, category=details["category"] or "other", description=details["description"] or ""),
            customer_texts=tuple(tu.customer_texts(tracker, since=activated)),
        )
        # Keep every answer and go back to the summary so one "yes" retries.
        retry_later = [SlotSet("complaint_confirmed", None), ActiveLoop(FORM), FollowupAction(FORM)]
        if await refused_handoff(dispatcher, tracker):
            return retry_later
        try:
            ticket, created = registry.tickets().open(submission)
        except Exception:
            logger.exception("could not open ticket for conversation %s", tracker.sender_id[:8])
            dispatcher.utter_message(response="utter_ticket_failed")
            return retry_later
        level = SERVICE_LEVELS[ticket.priority]
        params = dict(
            code=ticket.code,
            ack_within=promised_span(level.acknowledge, language),
            resolve_within=promised_span(level.resolve, language),
            ack_due=format_local(ticket.acknowledge_due_at, language),
            resolve_due=format_local(ticket.resolve_due_at, language),
        )
        dispatcher.utter_message(response="utter_ticket_created" if created else "utter_ticket_already_created", **params)
        logger.info(
            "complaint %s from %s contact %s", ticket.code, tracker.sender_id[:8], mask_contact(ticket.contact)
        )
        events = reset_form_events() + [SlotSet("last_ticket_code", ticket.code)]
        if created and escalation.complaint_needs_person(ticket.priority):
            events += _priority_handoff(dispatcher, tracker, ticket)
        return events


def _priority_handoff(dispatcher, tracker, ticket) -> List[EventType]:
    """A high or urgent complaint also goes to a person now: the live queue when
    staff are online, otherwise the ticket's (shorter) acknowledgement promise,
    already given in utter_ticket_created, stands. Same HandoffService as
    "talk to a person", linked to the ticket just opened."""
    request = HandoffRequest(
        request_key=f"{tracker.sender_id}:handoff:{ticket.code}",
        sender_id=tracker.sender_id,
        channel=tu.channel(tracker),
        language=tu.language(tracker),
        reason="high_priority",
        ticket_code=ticket.code,
    )
    try:
        outcome = registry.handoff().request(request)
    except Exception:
        # The ticket exists and its promise was given: a person follows up anyway.
        logger.exception("priority handoff failed for %s", ticket.code)
        return []
    if outcome.mode == "queued":
        say_queued(dispatcher, outcome)
    else:
        dispatcher.utter_message(response="utter_handoff_priority", code=ticket.code)
    return [SlotSet("offered_human", False)]


def say_queued(dispatcher, outcome) -> None:
    """A person takes the chat: who, when routing chose them at once; otherwise the place in the queue."""
    if outcome.agent_name:
        dispatcher.utter_message(response="utter_handoff_assigned", code=outcome.ticket.code, agent=outcome.agent_name)
    else:
        dispatcher.utter_message(response="utter_handoff_queued", code=outcome.ticket.code,
                                 position=outcome.queue_position)


class ActionCancelForm(Action):
    """After cancel (or goodbye) inside a form: say nothing was filed and forget the answers."""

    def name(self) -> Text:
        return "action_cancel_form"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        dispatcher.utter_message(response="utter_complaint_cancelled")
        return reset_form_events() + [SlotSet("ticket_code", None), SlotSet("ticket_contact", None)]
