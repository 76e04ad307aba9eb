"""The gateway's HTTP service (aiohttp, which Rasa already brings).

POST /webhooks/rest/webhook takes and returns exactly what Rasa's REST channel
does, so any REST client can chat through it. Every message, both directions,
goes to the transcript; while a person owns the conversation (owner "queued"
or "agent"), the customer's messages are kept for them and never reach Rasa.
GET /ws is the website widget's connection; POST /upload (bot/gateway/uploads.py)
takes the photos and PDFs it attaches.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from urllib.parse import quote
from typing import Any, Dict, List, Optional

import aiohttp
from aiohttp import web

from sqlalchemy.exc import SQLAlchemyError

from bot.channels.common import (
    APOLOGY, RESERVED_SENDER_PREFIXES, SILENT_COMMANDS, attachment_caption, attachment_received, attachment_text,
    read_rest_body,
)
from bot.config import Settings
from bot.gateway.backlog import TranscriptBacklog
from bot.gateway.hub import HUB, Hub
from bot.services.conversations import ConversationService

logger = logging.getLogger(__name__)

RASA_TIMEOUT = aiohttp.ClientTimeout(total=30)
STATIC = Path(__file__).resolve().parent / "static"
CONVERSATIONS = web.AppKey("conversations", ConversationService)
RASA_URL = web.AppKey("rasa_url", str)
HTTP = web.AppKey("http", aiohttp.ClientSession)
BACKLOG = web.AppKey("backlog", TranscriptBacklog)


def create_app(conversations: ConversationService, rasa_url: str, factory=None,
               redis_url: Optional[str] = None, upload_dir: Optional[Path] = None) -> web.Application:
    """`factory`: the database, for the staff API and desk; `redis_url`: share deliveries with other instances;
    `upload_dir`: where customers' files go (HOTRO_UPLOAD_DIR by default)."""
    from bot.gateway.security_headers import add_security_headers
    from bot.gateway.uploads import add_uploads
    from bot.services.uploads import UploadStore

    app = web.Application(client_max_size=1024 * 1024)  # /upload streams its multipart body with its own limit
    add_security_headers(app)
    app[HUB] = Hub()
    if redis_url:
        _add_fanout(app, redis_url)
    if factory is not None:
        from bot.gateway.api import add_api
        from bot.gateway.desk import add_desk
        from bot.gateway.kpi_api import add_kpi_api
        from bot.services.kpis import KpiService
        from bot.services.customers import CustomerService
        from bot.services.staff import StaffService
        from bot.services.tickets import TicketService

        add_api(app, conversations, StaffService(factory), TicketService(factory), CustomerService(factory))
        add_kpi_api(app, KpiService(factory))
        add_desk(app)
    app[CONVERSATIONS] = conversations
    app[BACKLOG] = TranscriptBacklog(conversations)
    app[RASA_URL] = rasa_url.rstrip("/")

    async def start_client(app_: web.Application) -> None:
        app_[HTTP] = aiohttp.ClientSession(timeout=RASA_TIMEOUT)

    async def close_client(app_: web.Application) -> None:
        await app_[HTTP].close()

    async def close_backlog(app_: web.Application) -> None:
        await app_[BACKLOG].close()

    app.on_startup.append(start_client)
    app.on_cleanup.append(close_client)
    app.on_cleanup.append(close_backlog)
    app.router.add_get("/health", health)
    app.router.add_get("/", _file("index.html"))
    app.router.add_get("/widget.js", _file("widget.js"))
    app.router.add_post("/webhooks/rest/webhook", rest_webhook)
    app.router.add_get("/ws", websocket)
    add_uploads(app, UploadStore(upload_dir or Settings.from_env().upload_dir))
    return app


def _add_fanout(app: web.Application, redis_url: str) -> None:
    from bot.gateway.fanout import RedisFanout

    fanout = RedisFanout(redis_url, app[HUB].deliver_local)

    async def start(_app: web.Application) -> None:
        await fanout.start()
        app[HUB].fanout = fanout

    async def stop(_app: web.Application) -> None:
        app[HUB].fanout = None
        await fanout.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


def _file(name: str):
    async def serve(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / name)

    return serve


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def rest_webhook(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "the body must be JSON"}, status=400)
    sender, text, metadata, error = read_public_body(body)
    if error:
        return web.json_response({"error": error}, status=400)
    return web.json_response(await handle_customer_message(request.app, sender, text, metadata, "rest"))


async def handle_customer_message(
    app: web.Application, sender: str, text: str, metadata: Any, channel: str
) -> List[Dict[str, Any]]:
    """Record the message; if the bot owns the conversation, ask Rasa and record its replies."""
    owner = await record_lines(app, sender, channel, [("customer", text, None, None)])
    if owner != "bot":
        return []  # a person answers; their replies reach the customer through the channel
    replies = await _ask_rasa(app, sender, text, metadata)
    await _record_bot_replies(app, sender, replies, channel)
    return replies


async def receive_attachment(app: web.Application, sender: str, attachment: Dict[str, Any], caption: str,
                             language: str, channel: str) -> List[Dict[str, Any]]:
    """Record a customer's photo or file and acknowledge it; returns the acknowledgement to deliver.

    Rasa only reads text, so the file (and its caption) never reaches it: the gateway answers whoever owns the
    conversation, and staff see the file in the desk.
    """
    answer = attachment_received(language, attachment["kind"])
    await record_lines(app, sender, channel, [
        ("customer", attachment_text(caption, attachment["kind"], attachment.get("file_name")), None,
         {"attachment": attachment}),
        ("bot", answer, None, None),
    ])
    return [{"text": answer}]


async def _record_bot_replies(app: web.Application, sender: str, replies: List[Dict[str, Any]], channel: str) -> None:
    lines = [
        ("bot", reply.get("text") or "", None, {k: v for k, v in reply.items() if k not in ("recipient_id", "text")} or None)
        for reply in replies
    ]
    if lines:
        await record_lines(app, sender, channel, lines)


async def record_lines(app: web.Application, sender: str, channel: str, lines: List[tuple]) -> str:
    """Write transcript lines; the conversation's owner. With the database down they wait in the backlog."""
    backlog = app[BACKLOG]
    if not backlog.has(sender):  # lines already waiting go first: the transcript stays in order
        try:
            # The database is synchronous: keep it off the event loop.
            return await asyncio.to_thread(app[CONVERSATIONS].record_many, sender, lines, channel)
        except SQLAlchemyError as exc:
            logger.error("database unavailable for conversation %s: %s", sender[:8], type(exc).__name__)
    backlog.add(sender, channel, lines)
    # Who owns the conversation is unknown; staff cannot use the desk without the database either,
    # so the bot answering beats silence.
    return "bot"


async def handback(app: web.Application, sender: str) -> None:
    """Tell Rasa a person handed the conversation back (intent `handback`); deliver and record its replies."""
    token = os.environ.get("RASA_TOKEN", "")
    url = f"{app[RASA_URL]}/conversations/{quote(sender, safe='')}/trigger_intent"
    try:
        async with app[HTTP].post(url, params={"token": token} if token else None,
                                  json={"name": "handback", "entities": {}}) as response:
            replies = (await response.json()).get("messages", []) if response.status == 200 else []
            if response.status != 200:
                logger.error("Rasa refused the handback for %s: HTTP %s", sender[:8], response.status)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        logger.error("handback for %s failed: %s", sender[:8], type(exc).__name__)
        return
    await _record_bot_replies(app, sender, replies, "web")
    for reply in replies:
        await app[HUB].deliver(sender, bot_message(reply))


# What the bot learned, for the desk. Read from the tracker's events rather than its current slots:
# the form's slots are cleared when it hands over, and staff need exactly those values.
COLLECTED_SLOTS = ("language", "order_number", "order_verified", "complaint_category", "complaint_description",
                   "contact", "last_ticket_code")


async def collected_slots(app: web.Application, sender: str) -> Dict[str, Any]:
    """The last value the bot set for each slot worth showing to staff; {} when Rasa cannot be asked."""
    token = os.environ.get("RASA_TOKEN", "")
    url = f"{app[RASA_URL]}/conversations/{quote(sender, safe='')}/tracker"
    try:
        async with app[HTTP].get(url, params={"token": token} if token else None) as response:
            if response.status != 200:
                logger.warning("Rasa refused the tracker of %s: HTTP %s", sender[:8], response.status)
                return {}
            tracker = await response.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        logger.warning("tracker of %s unavailable: %s", sender[:8], type(exc).__name__)
        return {}
    slots: Dict[str, Any] = {}
    for event in tracker.get("events") or []:
        if event.get("event") == "slot" and event.get("name") in COLLECTED_SLOTS and event.get("value") not in (None, ""):
            slots[event["name"]] = event["value"]
    return slots


def bot_message(reply: Dict[str, Any]) -> Dict[str, Any]:
    return {"type": "message", "author": "bot", "text": reply.get("text") or "", "buttons": reply.get("buttons") or []}


async def websocket(request: web.Request) -> web.StreamResponse:
    """The website widget's connection: history on connect, then messages both ways.

    Client sends {"type": "message", "text": "...", "metadata": {...}}; the server
    sends {"type": "history", "messages": [...]} first, then {"type": "message",
    "author": "bot" | "staff" | "system", "name": ..., "text": ..., "buttons": [...]}.
    """
    sender = request.query.get("sender", "")
    _, _, _, error = read_public_body({"sender": sender, "message": ""})
    if error:
        return _json_error(400, error)
    socket = web.WebSocketResponse(heartbeat=25)
    await socket.prepare(request)
    hub = request.app[HUB]
    hub.join(sender, socket)
    try:
        try:
            history = await asyncio.to_thread(request.app[CONVERSATIONS].transcript, sender)
        except SQLAlchemyError as exc:  # the chat still works; the earlier messages come back with the database
            logger.error("database unavailable for the history of %s: %s", sender[:8], type(exc).__name__)
            history = []
        await socket.send_json({"type": "history", "messages": [widget_line(line) for line in history]})
        async for frame in socket:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                incoming = json.loads(frame.data)
            except ValueError:
                await socket.send_json({"type": "error", "error": "messages must be JSON"})
                continue
            incoming = incoming if isinstance(incoming, dict) else {}
            _, text, metadata, error = read_rest_body(
                {"sender": sender, "message": incoming.get("text"), "metadata": incoming.get("metadata")}
            )
            if error:
                await socket.send_json({"type": "error", "error": error})
                continue
            await hub.echo(sender, {"type": "message", "author": "customer", "text": text, "buttons": []}, socket)
            replies = await handle_customer_message(request.app, sender, text, metadata, "web")
            for reply in replies:
                await hub.deliver(sender, bot_message(reply))
    finally:
        hub.leave(sender, socket)
    return socket


def widget_line(line) -> Dict[str, Any]:
    """A transcript line as the widget shows it: an attachment by its kind and name (never its storage id)."""
    data = line.data or {}
    attachment = data.get("attachment") if line.author_type == "customer" else None
    if not isinstance(attachment, dict):
        return {"author": line.author_type, "name": line.author_name, "text": line.text,
                "buttons": data.get("buttons", [])}
    return {"author": "customer", "name": None, "text": attachment_caption(line.text, attachment), "buttons": [],
            "attachment": {"kind": attachment.get("kind"), "file_name": attachment.get("file_name")}}


def read_public_body(body: Any):
    """read_rest_body for the gateway's public entry points, which may not use another channel's ids."""
    sender, text, metadata, error = read_rest_body(body)
    if not error and sender.startswith(RESERVED_SENDER_PREFIXES):
        error = f"'sender' must not start with {' or '.join(RESERVED_SENDER_PREFIXES)}"
    return sender, text, metadata, error


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _ask_rasa(app: web.Application, sender: str, text: str, metadata: Any) -> List[Dict[str, Any]]:
    payload = {"sender": sender, "message": text}
    if isinstance(metadata, dict):
        payload["metadata"] = metadata
    try:
        async with app[HTTP].post(f"{app[RASA_URL]}/webhooks/rest/webhook", json=payload) as response:
            if response.status == 200:
                replies = await response.json()
                # "/restart" legitimately answers nothing; anything else silent gets the apology.
                if isinstance(replies, list) and (replies or text.strip().startswith(SILENT_COMMANDS)):
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
    app = create_app(ConversationService(factory), rasa_url, factory, os.environ.get("HOTRO_REDIS_URL") or None,
                     registry.settings().upload_dir)
    from bot.channels.telegram.setup import add_telegram

    add_telegram(app, factory)  # when TELEGRAM_BOT_TOKEN is set
    web.run_app(app, host=os.environ.get("GATEWAY_HOST", "0.0.0.0"), port=port, print=None)

