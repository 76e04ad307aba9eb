"""Staff on Telegram: handoff cards in the staff group, Claim / Return to bot, replying to a card.

How the group hears about handoffs: handoffs happen in the action server (a
separate process), and tickets also become urgent or near their deadline with
nobody writing anything. So instead of hooking every code path, the gateway
scans the database every few seconds (TELEGRAM_STAFF_SCAN_SECONDS) for queued
conversations, new handoff tickets, urgent tickets and acknowledgements due
within the hour. Each is announced once (telegram_announcements), which also
holds across restarts; cards map to conversations in telegram_cards, so a
reply to an old card still reaches its customer after a restart.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Optional

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters

from bot.channels.telegram.cards import (
    CLAIM, NOT_AN_AGENT, NOT_LINKED, RETURN, TAKEN, UNKNOWN_CARD, card_text, claimed_note, returned_note,
)
from bot.conversation.core import Actor
from bot.services import roles
from bot.services.conversations import Ownership
from bot.services.staff import StaffMember, StaffService
from bot.text import nfc

logger = logging.getLogger(__name__)

CLAIM_DATA, RETURN_DATA = "sc", "sr"


def card_buttons(card_id: int, claimed: bool = False) -> InlineKeyboardMarkup:
    row = [] if claimed else [InlineKeyboardButton(CLAIM, callback_data=f"{CLAIM_DATA}:{card_id}")]
    row.append(InlineKeyboardButton(RETURN, callback_data=f"{RETURN_DATA}:{card_id}"))
    return InlineKeyboardMarkup([row])


class StaffGroup:
    def __init__(self, channel):
        self.channel = channel
        self.chat_id: int = channel.settings.staff_chat_id
        self.staff = StaffService(channel.factory)

    @property
    def _store(self):
        return self.channel.store

    # -- announcing ----------------------------------------------------------------------

    async def scan_forever(self) -> None:
        while True:
            try:
                await self.scan()
            except Exception:  # the database may be briefly unavailable; try again next round
                logger.exception("scanning for staff-group announcements failed")
            await asyncio.sleep(self.channel.settings.staff_scan_seconds)

    async def scan(self) -> int:
        posted = 0
        for key, kind, ref in await asyncio.to_thread(self._store.due_announcements):
            if await asyncio.to_thread(self._store.announce_once, key):
                posted += await self.post_card(kind, ref)
        return posted

    async def post_card(self, kind: str, ref: int) -> int:
        facts = await asyncio.to_thread(self._store.card_facts, kind, ref)
        if facts is None:
            return 0
        card_id = await asyncio.to_thread(self._store.new_card, self.chat_id, facts.sender, kind)
        # The card learns its message id when the send succeeds (even after a restart): replies to it need it.
        await self.channel.outbox.put(self.chat_id, "send_message", "staff card", card_id=card_id,
                                      text=card_text(facts), reply_markup=card_buttons(card_id))
        return 1

    # -- staff acting ----------------------------------------------------------------------

    async def on_button(self, query: CallbackQuery) -> None:
        kind, _, card_ref = (query.data or "").partition(":")
        staff = await asyncio.to_thread(self.staff.by_telegram_user, query.from_user.id)
        if staff is None:
            await self._answer(query, NOT_LINKED.format(user_id=query.from_user.id), alert=True)
            return
        if not staff.can(roles.CONVERSATIONS):
            await self._answer(query, NOT_AN_AGENT.format(name=staff.name), alert=True)
            return
        await self._seen(staff)
        card = await asyncio.to_thread(self._store.card, int(card_ref)) if card_ref.isdigit() else None
        if card is None or kind not in (CLAIM_DATA, RETURN_DATA):
            await self._answer(query, UNKNOWN_CARD, alert=True)
            return
        sender, _message_id = card
        if kind == CLAIM_DATA:
            refusal = await self.claim(sender, staff)
            if refusal:
                await self._answer(query, refusal, alert=True)
                return
            note, markup = claimed_note(staff.display_name), card_buttons(int(card_ref), claimed=True)
        else:
            refusal = await self.give_back(sender, staff)
            if refusal:
                await self._answer(query, refusal, alert=True)
                return
            note, markup = returned_note(staff.display_name), None
        await self._answer(query, note)
        if query.message is not None:
            text = f"{query.message.text or ''}\n\n{note}"[:4096]
            await self.channel.outbox.put(self.chat_id, "edit_message_text", "card update", text=text,
                                          message_id=query.message.message_id, reply_markup=markup)

    async def on_message(self, message: Message) -> None:
        """A reply to a card goes to that card's customer; anything else in the group is staff chatter."""
        reply_to = message.reply_to_message
        text = nfc(message.text or "").strip()
        if message.from_user is not None:
            # Anyone linked who writes in the group is at work: routing counts them as online.
            member = await asyncio.to_thread(self.staff.by_telegram_user, message.from_user.id)
            if member is not None and member.can(roles.CONVERSATIONS):
                await self._seen(member)
        if reply_to is None or not text or message.from_user is None:
            return
        sender = await asyncio.to_thread(self._store.sender_for_card_message, self.chat_id, reply_to.message_id)
        if sender is None:
            return
        staff = await asyncio.to_thread(self.staff.by_telegram_user, message.from_user.id)
        if staff is None:
            await self._reply(message, NOT_LINKED.format(user_id=message.from_user.id))
            return
        if not staff.can(roles.CONVERSATIONS):
            await self._reply(message, NOT_AN_AGENT.format(name=staff.name))
            return
        refusal = await self.send_to_customer(sender, staff, text)
        if refusal:
            await self._reply(message, refusal)

    async def _seen(self, staff: StaffMember) -> None:
        if await asyncio.to_thread(self.staff.seen_in_telegram, staff.name):
            await self.channel.core.assign_waiting()  # they just came online

    async def claim(self, sender: str, staff: StaffMember) -> Optional[str]:
        """Take the conversation for `staff` (as the desk's Claim does); a refusal text, or None."""
        return _refusal(await self.channel.core.claim(sender, _actor(staff)))

    async def give_back(self, sender: str, staff: StaffMember) -> Optional[str]:
        return _refusal(await self.channel.core.release(sender, _actor(staff)))

    async def send_to_customer(self, sender: str, staff: StaffMember, text: str) -> Optional[str]:
        """Like the desk's reply, taking the conversation first if nobody holds it; a refusal text, or None."""
        outcome, _delivered = await self.channel.core.staff_reply(sender, _actor(staff), text, claim=True)
        return _refusal(outcome)

    async def _answer(self, query: CallbackQuery, text: str, alert: bool = False) -> None:
        self.channel.outbox.answer_callback(query.id, text=text[:200], show_alert=alert)

    async def _reply(self, message: Message, text: str) -> None:
        await self.channel.outbox.put(
            self.chat_id, "send_message", "staff notice", text=text,
            reply_parameters=ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True))


def _actor(staff: StaffMember) -> Actor:
    return Actor(staff.name, staff.display_name)


def _refusal(outcome: Optional[Ownership]) -> Optional[str]:
    if outcome is None:
        return UNKNOWN_CARD
    return TAKEN.format(agent=outcome.agent) if outcome.refused else None
