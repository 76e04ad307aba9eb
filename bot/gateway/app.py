"""The gateway's HTTP service (aiohttp, which Rasa already brings).

POST /webhooks/rest/webhook takes and returns exactly what Rasa's REST channel
does, so any REST client can chat through it. Every message, both directions,
goes to the transcript; while a person owns the conversation (owner "queued"
or "agent"), the customer's messages are kept for them and never reach Rasa.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Dict, List

import aiohttp
from aiohttp import web

from bot.channels.common import APOLOGY, read_rest_body
from bot.services.conversations import ConversationService

logger = logging.getLogger(__name__)

RASA_TIMEOUT = aiohttp.ClientTimeout(total=30)
CONVERSATIONS = web.AppKey("conversations", ConversationService)
RASA_URL = web.AppKey("rasa_url", str)
HTTP = web.AppKey("http", aiohttp.ClientSession)


def create_app(conversations: ConversationService, rasa_url: str, factory=None) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    if factory is not None:
        from bot.gateway.api import add_api
        from bot.services.staff import StaffService
        from bot.services.tickets import TicketService

        add_api(app, conversations, StaffService(factory), TicketService(factory))
    app[CONVERSATIONS] = conversations
    app[RASA_URL] = rasa_url.rstrip("/")

    async def start_client(app_: web.Application) -> None:
        app_[HTTP] = aiohttp.ClientSession(timeout=RASA_TIMEOUT)

    async def close_client(app_: web.Application) -> None:
        await app_[HTTP].close()

    app.on_startup.append(start_client)
    app.on_cleanup.append(close_client)
    app.router.add_get("/health", health)
    app.router.add_post("/webhooks/rest/webhook", rest_webhook)
    return app


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def rest_webhook(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "the body must be JSON"}, status=400)
    sender, text, metadata, error = read_rest_body(body)
    if error:
        return web.json_response({"error": error}, status=400)
    conversations = request.app[CONVERSATIONS]
    # The database is synchronous: keep it off the event loop.
    await asyncio.to_thread(conversations.record, sender, "customer", text)
    owner = await asyncio.to_thread(conversations.owner, sender)
    if owner != "bot":
        # A person answers; their replies reach the customer through the channel.
        return web.json_response([])
    replies = await _ask_rasa(request.app, sender, text, metadata)
    for reply in replies:
        data = {k: v for k, v in reply.items() if k not in ("recipient_id", "text")}
        await asyncio.to_thread(conversations.record, sender, "bot", reply.get("text") or "", "rest", None, data or None)
    return web.json_response(replies)


async def _ask_rasa(app: web.Application, sender: str, text: str, metadata: Any) -> List[Dict[str, Any]]:
    payload = {"sender": sender, "message": text}
    if isinstance(metadata, dict):
        payload["metadata"] = metadata
    try:
        async with app[HTTP].post(f"{app[RASA_URL]}/webhooks/rest/webhook", json=payload) as response:
            if response.status == 200:
                replies = await response.json()
                if isinstance(replies, list) and replies:
                    return replies
            else:
                logger.error("Rasa answered %s for conversation %s", response.status, sender[:8])
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        logger.error("Rasa unreachable for conversation %s: %s", sender[:8], type(exc).__name__)
    return [{"recipient_id": sender, "text": APOLOGY}]


def main() -> None:
    from bot.services import registry
    from bot.store.db import session_factory

    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    port = int(os.environ.get("GATEWAY_PORT", "8000"))
    rasa_url = os.environ.get("RASA_URL") or f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}"
    factory = session_factory(registry.settings().database_url)
    web.run_app(create_app(ConversationService(factory), rasa_url, factory), host=os.environ.get("GATEWAY_HOST", "0.0.0.0"), port=port,
                print=None)


if __name__ == "__main__":
    main()
