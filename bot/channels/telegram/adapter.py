"""Customers on Telegram: updates in (long polling or webhook), replies out through the gateway's hub.

Every customer message goes through the conversation core, exactly like the
website's, so ownership, transcript and handoff behave the same; every reply
(bot, staff, handback) reaches Telegram through the hub's outlet for "tg-"
conversations.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
from collections import OrderedDict
from datetime import timedelta
from typing import Dict, List, Optional, Set

from aiohttp import web
from sqlalchemy.orm import sessionmaker
from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from bot.channels.common import APOLOGY
from bot.channels.telegram.files import TelegramFiles
from bot.channels.telegram.messages import (
    BUTTON_EXPIRED, CHANNEL, UNSUPPORTED, Incoming, chat_for_sender, incoming_from_button,
    sender_for_chat,
    incoming_from_update, payload_from_callback_data, render,
)
from bot.channels.telegram.outbox import BLOCKED, REFUSED, UNREACHABLE, Outbox, backoff_delays
from bot.channels.telegram.outbox_store import OutboxStore
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.store import TelegramStore
from bot.conversation.core import ConversationCore, bot_message
from bot.gateway.inputs import credential, read_json
from bot.services.customer_links import link_telegram_user

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
MAX_ATTEMPTS = 5  # an update that fails this often is given up on (with an apology), not retried forever
WEBHOOK_TAKE_OVER = timedelta(seconds=90)


def make_bot(settings: TelegramSettings) -> Bot:
    return Bot(
        settings.bot_token,
        base_url=f"{settings.api_url}/bot",
        base_file_url=f"{settings.api_url}/file/bot",
        # Sends to many chats happen at once; the default pool would make them queue and time out.
        request=HTTPXRequest(connection_pool_size=32, connect_timeout=5, read_timeout=15, write_timeout=15),
        get_updates_request=HTTPXRequest(connection_pool_size=2, connect_timeout=5, read_timeout=10),
    )


UNDELIVERED = {
    BLOCKED: "Not delivered on Telegram: the customer has blocked the bot. Reach them another way "
             "(the ticket's phone or email).",
    REFUSED: "Not delivered on Telegram: Telegram refused the message.",
    UNREACHABLE: "Not delivered on Telegram: Telegram could not be reached for a day. Reach the customer "
                 "another way.",
}


class TelegramChannel:
    def __init__(self, core: ConversationCore, settings: TelegramSettings, factory: sessionmaker, bot: Bot = None):
        self.core = core
        self.settings = settings
        self.factory = factory
        self.store = TelegramStore(factory)
        self.bot = bot or make_bot(settings)
        self.outbox = Outbox(OutboxStore(factory), self.bot)
        self.outbox.on_failed = self._undelivered
        self.files = TelegramFiles(self.bot)  # customers' photos and documents, for the desk
        self.ready = asyncio.Event()
        self.staff = None
        if settings.staff_chat_id is not None:
            from bot.channels.telegram.staff_group import StaffGroup

            self.staff = StaffGroup(self)
        self._tasks: List[asyncio.Task] = []
        self._linked: Set[str] = set()  # conversations whose customer record is linked (this process)
        self._payloads: "OrderedDict[str, str]" = OrderedDict()  # long button payloads, most recent last
        self._attempts: Dict[int, int] = {}

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, _app: web.Application = None) -> None:
        self._tasks.append(asyncio.create_task(self._run()))

    async def stop(self, _app: web.Application = None) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.outbox.flush(timeout=5)
        await self.outbox.close()
        try:
            await self.bot.shutdown()
        except Exception:  # already closed, or never opened
            pass

    async def _run(self) -> None:
        await self._connect()
        self.outbox.start()  # resumes what an earlier run (or a stopped gateway) left pending
        await asyncio.to_thread(self.store.forget_old_updates)
        if self.staff is not None:
            self._tasks.append(asyncio.create_task(self.staff.scan_forever()))
        if self.settings.receive_updates and not self.settings.webhook_url:
            await self._poll()

    async def _connect(self) -> None:
        """getMe and webhook registration, retried: Telegram may be unreachable when the gateway starts."""
        delays = backoff_delays(attempts=10_000)
        while True:
            try:
                await self.bot.initialize()
                if not self.settings.receive_updates:
                    pass  # another instance receives; deleting its webhook would cut it off
                elif self.settings.webhook_url:
                    await self.bot.set_webhook(self.settings.webhook_url, secret_token=self.settings.webhook_secret,
                                               allowed_updates=ALLOWED_UPDATES)
                else:
                    # getUpdates is refused while a webhook is set.
                    await self.bot.delete_webhook()
                logger.info("Telegram: connected as @%s (%s)", self.bot.username, self.settings.mode)
                self.ready.set()
                return
            except InvalidToken:
                logger.error("Telegram refused TELEGRAM_BOT_TOKEN; check it with @BotFather. Telegram stays off.")
                raise
            except TelegramError as exc:
                delay = next(delays)
                logger.warning("Telegram not reachable (%s); retrying in %.0fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)

    # -- receiving ---------------------------------------------------------------------

    async def _poll(self) -> None:
        offset: Optional[int] = None
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=self.settings.poll_timeout,
                                                     allowed_updates=ALLOWED_UPDATES)
                failures = 0
            except InvalidToken:
                logger.error("Telegram refused TELEGRAM_BOT_TOKEN while polling; Telegram stops.")
                return
            except (Conflict, TelegramError) as exc:
                # Network drop, Telegram 5xx, or another poller (Conflict): wait and carry on.
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                logger.warning("Telegram getUpdates failed (%s); retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            if updates:
                offset = await self.handle_batch(updates)

    async def handle_batch(self, updates) -> int:
        """Handle updates (each chat in order, chats in parallel); the offset to confirm next.

        The offset stops at the first update that failed, so Telegram sends it
        again; updates after it that did succeed are skipped then, being claimed.
        """
        by_chat: Dict[object, list] = {}
        for update in updates:
            chat = update.effective_chat
            by_chat.setdefault(chat.id if chat else update.update_id, []).append(update)
        failed = await asyncio.gather(*(self._handle_in_order(chat_updates) for chat_updates in by_chat.values()))
        failed_ids = [update_id for update_id in failed if update_id is not None]
        if failed_ids:
            await asyncio.sleep(1)  # the database or Rasa is struggling; give it a moment
            return min(failed_ids)
        return max(update.update_id for update in updates) + 1

    async def _handle_in_order(self, updates) -> Optional[int]:
        for update in updates:
            try:
                await self.process(update)
                self._attempts.pop(update.update_id, None)
            except Exception:
                attempts = self._attempts.get(update.update_id, 0) + 1
                self._attempts[update.update_id] = attempts
                logger.exception("Telegram update %s failed (attempt %s)", update.update_id, attempts)
                if attempts < MAX_ATTEMPTS:
                    return update.update_id
                self._attempts.pop(update.update_id, None)
                await self._give_up(update)
        return None

    async def _give_up(self, update: Update) -> None:
        try:
            await asyncio.to_thread(self.store.claim_update, update.update_id)
            await asyncio.to_thread(self.store.finish_update, update.update_id)
        except Exception:
            pass
        chat = update.effective_chat
        if chat is not None and chat.type == "private":
            try:
                await self.outbox.put(chat.id, "send_message", "apology", text=APOLOGY)
            except Exception:  # polling must carry on
                logger.exception("could not queue the apology for Telegram update %s", update.update_id)

    async def webhook(self, request: web.Request) -> web.Response:
        """Telegram's push (webhook mode); the secret header proves it comes from Telegram."""
        given = credential(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))  # non-ASCII: encode() raised
        if given is None or not hmac.compare_digest(given.encode(), self.settings.webhook_secret.encode()):
            return web.json_response({"error": "forbidden"}, status=403)
        if not self.ready.is_set():
            return web.json_response({"error": "starting"}, status=503)  # Telegram retries
        try:
            update = Update.de_json(await read_json(request), self.bot)
        except (ValueError, TypeError, KeyError):
            return web.json_response({"error": "not a Telegram update"}, status=400)
        try:
            await self.process(update)
        except Exception:
            logger.exception("Telegram update %s failed", update.update_id)
            return web.json_response({"error": "failed, please retry"}, status=500)  # Telegram re-sends it
        return web.json_response({"ok": True})

    async def process(self, update: Update) -> None:
        """Handle one update once: a repeated update_id is skipped; a failed one can be handled again, and so
        can one whose gateway died before finishing it (else that customer would never get an answer)."""
        if not await asyncio.to_thread(self.store.claim_update, update.update_id, self._take_over_after()):
            return
        try:
            await self._dispatch(update)
        except BaseException:
            try:
                await asyncio.to_thread(self.store.release_update, update.update_id)
            except Exception:
                logger.exception("could not release Telegram update %s", update.update_id)
            raise
        try:
            await asyncio.to_thread(self.store.finish_update, update.update_id)
        except Exception:  # the offset is confirmed all the same, so Telegram does not send it again
            logger.exception("could not mark Telegram update %s handled", update.update_id)

    def _take_over_after(self) -> timedelta:
        """How old an unfinished claim must be before it is someone else's to finish.

        A long poller handles each batch to the end before asking for the next, and Telegram allows one
        poller per bot: an unfinished claim it receives again was its predecessor's, who died. Webhook
        calls arrive at any instance at any time: wait out the longest a live one may take (Rasa's 30 s).
        """
        return WEBHOOK_TAKE_OVER if self.settings.webhook_url else timedelta(0)

    async def _dispatch(self, update: Update) -> None:
        staff_chat = self.settings.staff_chat_id
        if update.callback_query is not None:
            query = update.callback_query
            if self.staff is not None and query.message is not None and query.message.chat.id == staff_chat:
                await self.staff.on_button(query)
            else:
                await self._on_customer_button(update)
            return
        message = update.message or update.edited_message
        if message is None:
            return
        if self.staff is not None and message.chat.id == staff_chat:
            if update.message is not None:
                await self.staff.on_message(message)
            return
        incoming = incoming_from_update(update)
        if incoming is not None:
            await self.on_customer(incoming)

    async def _on_customer_button(self, update: Update) -> None:
        query = update.callback_query
        # Answer first: the customer's app shows a spinner on the button until then.
        self.outbox.answer_callback(query.id)
        payload = payload_from_callback_data(query.data or "", self._payloads)
        if payload is None and (query.data or "").startswith("h"):
            payload = await asyncio.to_thread(self.store.callback_payload, query.data)
        incoming = incoming_from_button(update, payload or "")
        if incoming is None:
            return
        if payload is None:
            await self.send_text(incoming.chat_id, BUTTON_EXPIRED[incoming.language])
            return
        await self.on_customer(incoming)

    async def on_customer(self, incoming: Incoming) -> None:
        await self._link_customer(incoming)
        core, sender, metadata = self.core, incoming.sender, incoming.metadata
        if incoming.kind == "text":
            replies = await core.customer_message(sender, incoming.text, CHANNEL, metadata)
        elif incoming.kind == "start":
            # The greeting in the language of the customer's Telegram app (Rasa's greet, with its buttons).
            replies = await core.customer_message(sender, "/greet", CHANNEL, metadata, command="/greet")
        elif incoming.kind == "restart":
            await core.customer_message(sender, "/restart", CHANNEL, metadata, command="/restart")
            replies = await core.customer_message(sender, "/greet", CHANNEL, metadata, command="/greet")
        elif incoming.kind == "attachment":
            replies = await core.customer_attachment(sender, incoming.attachment.as_data()["attachment"],
                                                     incoming.text, incoming.language, CHANNEL)
        else:
            answer = UNSUPPORTED[incoming.language]
            await core.record(sender, CHANNEL, [("customer", "[unsupported message]", None, None),
                                                ("bot", answer, None, None)])
            replies = [{"text": answer}]
        for reply in replies:
            await core.deliver(sender, bot_message(reply))

    async def _link_customer(self, incoming: Incoming) -> None:
        if incoming.user_id is None or incoming.sender in self._linked:
            return
        try:
            await asyncio.to_thread(link_telegram_user, self.factory, incoming.sender, incoming.user_id,
                                    incoming.user_name, CHANNEL, incoming.language)
            self._linked.add(incoming.sender)
        except Exception:  # the conversation still works; linking is retried on the next message
            logger.exception("could not link the Telegram customer of %s", incoming.sender[:8])

    # -- sending -----------------------------------------------------------------------

    async def outlet(self, sender: str, message: dict) -> bool:
        """The hub's outlet for "tg-" conversations: bot, staff and system messages to the customer's chat."""
        chat_id = chat_for_sender(sender)
        if chat_id is None or message.get("type", "message") != "message":
            return False
        pieces, to_store = render(message)
        if to_store:
            self._remember(to_store)
            try:
                await asyncio.to_thread(self.store.save_callbacks, to_store)
            except Exception:  # the in-memory copy still serves the buttons until a restart
                logger.exception("could not store Telegram button payloads")
        for piece in pieces:
            await self.outbox.put(chat_id, "send_message", text=piece.text, reply_markup=piece.markup())
        return bool(pieces)

    async def _undelivered(self, chat_id: int, why: str) -> None:
        """A line in the customer's transcript, so the staff member who wrote knows it never arrived."""
        if chat_id == self.settings.staff_chat_id:
            return  # a card the group missed: the log says so, and the desk shows the conversation anyway
        await self.core.system_line(sender_for_chat(chat_id), UNDELIVERED[why], CHANNEL)

    async def send_text(self, chat_id: int, text: str) -> None:
        await self.outbox.put(chat_id, "send_message", text=text)

    def _remember(self, payloads: Dict[str, str], keep: int = 5000) -> None:
        for key, payload in payloads.items():
            self._payloads[key] = payload
            self._payloads.move_to_end(key)
        while len(self._payloads) > keep:
            self._payloads.popitem(last=False)
