"""Rasa's REST channel, hardened at the edge.

Same URL (/webhooks/rest/webhook), request and response as Rasa's own, plus:
- text is NFC-normalised before NLU (the same word typed in NFD would otherwise
  become different tokens);
- a customer never gets an empty reply: when the action server or the database
  is down and the bot produced nothing, they get an apology and can retry;
- failures are logged without the customer's text (it may hold phones, emails);
- only the gateway may post: without its secret (header X-Hotro-Gateway-Secret equal to
  HOTRO_GATEWAY_SECRET) a request gets 403, so nobody who reaches the port can speak as
  another channel's conversation (bot/internal_auth.py).
"""
from __future__ import annotations

import logging
from asyncio import CancelledError
from typing import Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot import rasa_speedups
from bot.channels.common import APOLOGY, read_rest_body
from bot.conversation.guard import SILENT_COMMANDS
from bot.internal_auth import GATEWAY_SECRET_ENV, GATEWAY_SECRET_HEADER, required_secret, secret_ok

rasa_speedups.apply()

logger = logging.getLogger(__name__)


class HotroRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)
        secret = required_secret(GATEWAY_SECRET_ENV, "Rasa's REST channel")

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request):
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            if not secret_ok(secret, request.headers.get(GATEWAY_SECRET_HEADER)):
                return response.json({"error": "only the gateway may post here"}, status=403)
            sender, text, metadata, error = read_rest_body(request.json)
            if error:
                return response.json({"error": error}, status=400)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text, collector, sender, input_channel=self.name(), metadata=metadata
                    )
                )
            except CancelledError:
                logger.error("message from %s timed out", sender[:8])
            except Exception:
                logger.exception("message from %s failed", sender[:8])
            messages = collector.messages
            if not messages and not text.strip().startswith(SILENT_COMMANDS):
                messages = [{"recipient_id": sender, "text": APOLOGY}]
            return response.json(messages)

        return webhook
