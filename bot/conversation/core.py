"""The conversation core: one object, built once, handed to every channel and to the staff side.

It owns what must behave the same whoever calls it:
- recording transcript lines (and keeping them through a database outage);
- who owns a conversation, changed in one transaction each (two claims at once: one winner);
- asking Rasa, and what of the customer's input Rasa may see;
- staff replies, notes, claim, release and the hand-back to the bot.

Channels (website, REST, uploads, Telegram customers, the Telegram staff group)
and the staff API turn their own requests into calls here; they never talk to
Rasa or change an owner themselves. Dependencies point one way:
channels/api → core → services → store.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Set, Tuple

from sqlalchemy.exc import SQLAlchemyError

from bot.channels.common import attachment_received, attachment_text
from bot.conversation.backlog import TranscriptBacklog
from bot.conversation.desk_events import DeskEvents
from bot.conversation.guard import (INTENT_PREFIX, Limits, as_rasa_text, is_token, new_conversation_id,
                                   new_conversation_secret, too_long_answer)
from bot.conversation.hub import Hub
from bot.conversation.rasa import RasaClient
from bot.conversation.transcript_writer import TranscriptWriter
from bot.conversation.turns import ConversationTurns
from bot.services.conversations import ConversationService, Ownership
from bot.services.handoff_quota import METADATA_KEY as CLIENT_KEY

logger = logging.getLogger(__name__)

Reply = Dict[str, Any]
# What the bot learned, for the desk. Read from the tracker's events rather than its current slots:
# the form's slots are cleared when it hands over, and staff need exactly those values.
COLLECTED_SLOTS = ("language", "order_number", "order_verified", "complaint_category", "complaint_description",
                   "contact", "last_ticket_code")
# What a channel may tell Rasa about a message; the channel itself is set here, never taken from a client.
CLIENT_METADATA = {"language": ("vi", "en")}


@dataclass(frozen=True)
class Actor:
    """A staff member acting on a conversation (the desk, the API or the Telegram staff group)."""

    name: str
    display_name: str


def bot_message(reply: Reply) -> Dict[str, Any]:
    return {"type": "message", "author": "bot", "text": reply.get("text") or "", "buttons": reply.get("buttons") or []}


def staff_message(actor: Actor, text: str) -> Dict[str, Any]:
    return {"type": "message", "author": "staff", "name": actor.display_name, "text": text, "buttons": []}


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ConversationCore:
    def __init__(self, conversations: ConversationService, rasa: RasaClient, hub: Optional[Hub] = None,
                 limits: Limits = Limits(), events: Optional[DeskEvents] = None):
        self.conversations = conversations
        self.rasa = rasa
        self.hub = hub or Hub()
        self.events = events or DeskEvents()  # what open desks are told (GET /api/events)
        self.limits = limits
        self.backlog = TranscriptBacklog(conversations)
        self.writer = TranscriptWriter(conversations)  # many conversations' lines per transaction under load
        self.turns = ConversationTurns()  # a conversation's next message waits for the answer to the last one
        # A RoutingService (bot/services/routing.py) when HOTRO_AUTO_ASSIGN is on; the gateway sets it.
        self.routing = None
        # Payloads of the buttons the bot showed lately, per conversation: the fast path of the payload check
        # (and the only one while the database is down).
        self._offered: "OrderedDict[str, Set[str]]" = OrderedDict()
        # Conversations known to exist (recorded here, or found): a REST message of one of them needs no
        # query to learn it is not new. A conversation only stops existing when its customer's data is
        # erased (`python -m bot privacy`), and then its next message is simply not counted as a new chat.
        self._known: "OrderedDict[str, None]" = OrderedDict()

    async def start(self) -> None:
        await self.rasa.start()

    async def close(self) -> None:
        await self.rasa.close()
        await self.writer.close()
        await self.backlog.close()

    async def _db(self, fn, *args, **kwargs):
        # The database is synchronous: keep it off the event loop.
        return await asyncio.to_thread(fn, *args, **kwargs)

    # -- customers ---------------------------------------------------------------------------

    async def customer_message(self, sender: str, text: str, channel: str, metadata: Optional[Dict[str, Any]] = None,
                               command: Optional[str] = None, client: Optional[str] = None) -> List[Reply]:
        """Record what the customer said; while the bot owns the conversation, its answers (recorded too).

        `command`: a payload the channel itself means, not typed by anyone (Telegram's /start is "/greet").
        `client`: the gateway's key for who sent it (GatewayLimits.client); without it the action server
        counts handoffs per conversation.
        A message over the size limit is kept whole for staff but never reaches Rasa.
        """
        async with self.turns.turn(sender):
            return await self._customer_turn(sender, text, channel, metadata, command, client)

    async def _customer_turn(self, sender: str, text: str, channel: str, metadata: Optional[Dict[str, Any]],
                             command: Optional[str], client: Optional[str]) -> List[Reply]:
        owner = await self.record(sender, channel, [("customer", text, None, None)])
        if owner != "bot":
            await self.events.publish({"type": "customer_message", "conversation": sender, "owner": owner})
            return []  # a person answers; their replies reach the customer through the channel
        language = (metadata or {}).get("language")
        if command is None and self.limits.too_long(text):
            replies = [{"recipient_id": sender, "text": too_long_answer(text, language, self.limits.max_message_chars)}]
        else:
            # Only text that reads as a payload needs the offered buttons (a database query).
            offered = await self._offered_payloads(sender) if text.lstrip().startswith(INTENT_PREFIX) else set()
            rasa_text = command or as_rasa_text(text, offered)
            replies = await self.rasa.ask(sender, rasa_text, self._metadata(metadata, channel, client))
        owner = await self._record_bot_replies(sender, replies, channel)
        if owner not in (None, "bot"):  # the bot's handoff action just queued it for (or gave it to) a person
            await self.events.publish({"type": "handoff", "conversation": sender, "owner": owner})
        return replies

    async def customer_attachment(self, sender: str, attachment: Dict[str, Any], caption: str, language: str,
                                  channel: str) -> List[Reply]:
        """Record a customer's photo or file and acknowledge it; the acknowledgement to deliver.

        Rasa only reads text, so the file (and its caption) never reaches it: staff see it in the desk.
        """
        answer = attachment_received(language, attachment["kind"])
        async with self.turns.turn(sender):
            owner = await self.record(sender, channel, [
                ("customer", attachment_text(caption, attachment["kind"], attachment.get("file_name")), None,
                 {"attachment": attachment}),
                ("bot", answer, None, None),
            ])
        if owner != "bot":
            await self.events.publish({"type": "customer_message", "conversation": sender, "owner": owner})
        return [{"text": answer}]

    async def record(self, sender: str, channel: str, lines: List[tuple]) -> str:
        """Write (author, text, name, data) lines; the conversation's owner. With the database down they wait."""
        if not self.backlog.has(sender):  # lines already waiting go first: the transcript stays in order
            try:
                owner = await self.writer.record(sender, lines, channel)
                self._remember(self._known, sender, None)
                return owner
            except SQLAlchemyError as exc:
                logger.error("database unavailable for conversation %s: %s", sender[:8], type(exc).__name__)
        self.backlog.add(sender, channel, lines)
        # Who owns the conversation is unknown; staff cannot use the desk without the database either,
        # so the bot answering beats silence.
        return "bot"

    async def deliver(self, sender: str, message: Dict[str, Any]) -> int:
        """To every open tab of the conversation and its channel's outlet (hub.deliver)."""
        return await self.hub.deliver(sender, message)

    async def transcript(self, sender: str, for_staff: bool = False):
        return await self._db(self.conversations.transcript, sender, for_staff)

    def _metadata(self, metadata: Optional[Dict[str, Any]], channel: str, client: Optional[str] = None) -> Dict[str, Any]:
        kept = {k: v for k, v in (metadata or {}).items() if CLIENT_METADATA.get(k) and v in CLIENT_METADATA[k]}
        kept["channel"] = channel
        if client:  # set here only: the action server's handoff quota counts per client by it
            kept[CLIENT_KEY] = client
        return kept

    async def _record_bot_replies(self, sender: str, replies: List[Reply], channel: str) -> Optional[str]:
        """Record the bot's replies; the conversation's owner after them (None when there were none)."""
        lines = [
            ("bot", reply.get("text") or "",
             None, {k: v for k, v in reply.items() if k not in ("recipient_id", "text")} or None)
            for reply in replies
        ]
        self._remember_offers(sender, replies)
        return await self.record(sender, channel, lines) if lines else None

    def _remember_offers(self, sender: str, replies: List[Reply], keep: int = 10000) -> None:
        payloads = {b.get("payload") for r in replies for b in (r.get("buttons") or []) if isinstance(b, dict)}
        payloads.discard(None)
        if not payloads:
            return
        self._offered.setdefault(sender, set()).update(p for p in payloads if isinstance(p, str))
        self._offered.move_to_end(sender)
        while len(self._offered) > keep:
            self._offered.popitem(last=False)

    async def _offered_payloads(self, sender: str) -> Set[str]:
        offered = set(self._offered.get(sender, ()))
        try:  # another gateway instance may have shown the buttons
            offered |= await self._db(self.conversations.offered_payloads, sender)
        except SQLAlchemyError:
            pass
        return offered

    # -- website conversations: an id and a secret -------------------------------------------

    async def open_web_conversation(self, language: str = "vi") -> Tuple[str, str]:
        """A new website conversation: its id and the secret that alone lets a browser read or write it."""
        sender, secret = new_conversation_id(), new_conversation_secret()
        await self._db(self.conversations.create_protected, sender, secret_hash(secret), "web", language)
        return sender, secret

    async def is_new(self, sender: str) -> bool:
        """Whether no conversation `sender` exists yet; False while the database cannot tell (chats go on)."""
        if sender in self._known:
            self._known.move_to_end(sender)
            return False
        try:
            exists = await self._db(self.conversations.exists, sender)
        except SQLAlchemyError:
            return False
        if exists:
            self._remember(self._known, sender, None)
        return not exists

    @staticmethod
    def _remember(cache: "OrderedDict", key: str, value, keep: int = 10000) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > keep:
            cache.popitem(last=False)

    async def may_open(self, sender: str, secret: Optional[str]) -> bool:
        """Whether `secret` opens `sender` for reading and writing (over the widget's socket or uploads)."""
        if not is_token(secret):  # never issued, so it opens nothing; hashing a lone surrogate would raise
            return False
        stored = await self._db(self.conversations.secret_hash, sender)
        return bool(stored and secret and hmac.compare_digest(stored, secret_hash(secret)))

    # -- staff ---------------------------------------------------------------------------------

    async def claim(self, sender: str, actor: Actor, assignee: Optional[Actor] = None) -> Optional[Ownership]:
        """`actor` takes the conversation, or gives it to `assignee`.

        Anyone may take a chat nobody holds; a chat held by someone else is
        refused (Ownership.refused, with the holder), except that the holder
        may pass it on. None when there is no such conversation.
        """
        target = assignee or actor
        note = (f"{target.display_name} joined the conversation" if target.name == actor.name
                else f"{actor.display_name} assigned the conversation to {target.display_name}")
        outcome = await self._db(
            self.conversations.change_owner, sender, "agent", target.name,
            allowed=lambda owner, agent: owner != "agent" or agent == actor.name, note=note, create=False,
            reason="claimed" if target.name == actor.name else f"assigned by {actor.name}",
        )
        await self.owner_changed(sender, outcome, actor)
        if outcome is not None and outcome.changed and target.name != actor.name:
            await self.assign_waiting()  # passing a chat on may have freed a place of the one who held it
        return outcome

    async def owner_changed(self, sender: str, outcome: Optional[Ownership], actor: Optional[Actor] = None) -> None:
        """Tell the open desks a conversation changed hands (any change of owner made through the core)."""
        if outcome is not None and outcome.changed:
            await self.events.publish({"type": "owner", "conversation": sender, "owner": outcome.owner,
                                       "agent": outcome.agent, "by": actor.name if actor else None})

    async def release(self, sender: str, actor: Actor, case_closed: bool = False) -> Optional[Ownership]:
        """Give the conversation back to the bot, which says so and asks for a rating.

        Refused while another staff member holds it, unless the case is closed
        (its ticket resolved): then nobody has anything left to say in it.
        None when there is no such conversation.
        """
        outcome = await self._db(
            self.conversations.change_owner, sender, "bot",
            allowed=lambda owner, agent: case_closed or owner != "agent" or agent == actor.name,
            note=f"{actor.display_name} returned the conversation to the bot", create=False,
            reason=f"returned by {actor.name}",
        )
        await self.owner_changed(sender, outcome, actor)
        if outcome is not None and outcome.changed:
            await self._hand_back(sender, outcome.channel)
            await self.assign_waiting()  # a place came free
        return outcome

    async def assign_waiting(self) -> int:
        """Routing serves the waiting chats and tickets now (someone freed a place or came online); how many.

        Nothing when auto-assignment is off. A failure is logged, never raised: the periodic sweep tries again.
        """
        if self.routing is None:
            return 0
        try:
            assigned = await self._db(self.routing.sweep)
        except Exception:  # noqa: BLE001 - the caller's own action succeeded; routing catches up on its sweep
            logger.exception("routing the waiting conversations failed")
            return 0
        for assignment in assigned:
            if assignment.kind == "chat":  # open desks hear of it at once (a ticket alone changes no chat's owner)
                await self.events.publish({"type": "owner", "conversation": assignment.sender_id, "owner": "agent",
                                           "agent": assignment.agent, "by": None})
        return len(assigned)

    async def _hand_back(self, sender: str, channel: str) -> None:
        """Tell Rasa a person handed the conversation back (intent `handback`); deliver and record its replies."""
        async with self.turns.turn(sender):  # not in the middle of the customer's own message
            replies = await self.rasa.trigger_intent(sender, "handback")
            await self._record_bot_replies(sender, replies, channel)
        for reply in replies:
            await self.deliver(sender, bot_message(reply))

    async def staff_reply(self, sender: str, actor: Actor, text: str,
                          claim: bool = False) -> Tuple[Optional[Ownership], int]:
        """Send a staff member's words to the customer, on the customer's channel.

        Only the staff member holding the conversation may reply; with `claim`
        (a reply in the Telegram staff group) they take it first if nobody
        holds it. Returns the ownership the reply was judged against (refused
        when it is not theirs; None when there is no such conversation) and
        how many tabs or outlets here took it at once.
        """
        if claim:
            outcome = await self.claim(sender, actor)
            if outcome is None or outcome.refused:
                return outcome, 0
        outcome = await self._db(self.conversations.record_if_agent, sender, actor.name, "staff", text,
                                 actor.display_name)
        if outcome is None or outcome.refused:
            return outcome, 0
        await self.events.publish({"type": "staff_message", "conversation": sender, "owner": outcome.owner,
                                   "agent": outcome.agent})
        return outcome, await self.deliver(sender, staff_message(actor, text))

    async def note(self, sender: str, actor: Actor, text: str) -> bool:
        """An internal note: in the desk's transcript, never shown to the customer. False: no such conversation."""
        if await self._db(self.conversations.summary, sender) is None:
            return False
        await self.record(sender, "rest", [("note", text, actor.display_name, None)])
        await self.events.publish({"type": "note", "conversation": sender})
        return True

    async def system_line(self, sender: str, text: str, channel: str) -> None:
        await self.record(sender, channel, [("system", text, None, None)])

    async def collected_slots(self, sender: str) -> Dict[str, Any]:
        """The last value the bot set for each slot worth showing to staff; {} when Rasa cannot be asked."""
        tracker = await self.rasa.tracker(sender)
        slots: Dict[str, Any] = {}
        for event in (tracker or {}).get("events") or []:
            if event.get("event") == "slot" and event.get("name") in COLLECTED_SLOTS and event.get("value") not in (None, ""):
                slots[event["name"]] = event["value"]
        return slots
