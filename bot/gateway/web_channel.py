"""Customers on the web: Rasa's REST contract, and the website widget's conversations.

POST /webhooks/rest/webhook takes and returns exactly what Rasa's REST channel
does, so any REST client can chat through the gateway. A REST client names its
own conversation ids; it cannot use another channel's (tg-…), nor write into a
website conversation without that conversation's secret.

The widget starts with POST /conversations, which gives it an id nobody can
guess and a secret; GET /ws is its connection, opened by sending both in the
first frame ({"type": "open", "sender": ..., "secret": ...}). Then the server
sends {"type": "history", "messages": [...]} and {"type": "message", "author":
"bot" | "staff" | "system", ...}; the client sends {"type": "message", "text":
..., "metadata": {"language": "vi" | "en"}, "ref": ...}.

Every customer message counts against its client's limits (bot/gateway/limits.py).
Over them, REST gets 429 and the socket {"type": "error", "code":
"rate_limited", "error": ..., "retry_after": seconds, "ref": the frame's ref};
the message is not recorded, the client sends it again, and the socket stays open.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Dict, FrozenSet, Optional

import aiohttp
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.common import attachment_caption
from bot.conversation.core import ConversationCore, bot_message
from bot.conversation.guard import needs_secret, sender_problem, text_problem
from bot.gateway.inputs import BadInput, content_type, json_error, parse_json, read_form, read_json
from bot.gateway.limits import GatewayLimits, request_language
from bot.gateway.origins import cors_headers, origin_allowed
from bot.ratelimit import refusal
from bot.text import nfc

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Conversation-Secret"
OPEN_TIMEOUT = 10  # seconds a new socket has to say which conversation it opens
MAX_FRAME = 1024 * 1024  # a long message still arrives, to be refused politely and kept for staff
REF = re.compile(r"[\w-]{1,64}")  # the widget's own id for a message or an upload, given back with its answer
NOT_JSON = object()


def read_message(body: Any, sender_key: str = "sender", text_key: str = "message"):
    """(sender, NFC text, metadata, error) from a REST-shaped body; error is a sentence for a 400."""
    if not isinstance(body, dict):
        return None, None, None, "the body must be a JSON object"
    sender, text = body.get(sender_key), body.get(text_key)
    problem = sender_problem(sender) or text_problem(text, "message")
    if problem:
        return None, None, None, problem
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
    return sender, nfc(text), metadata, None


def widget_line(line) -> Dict[str, Any]:
    """A transcript line as the widget shows it: an attachment by its kind and name (never its storage id)."""
    data = line.data or {}
    attachment = data.get("attachment") if line.author_type == "customer" else None
    if not isinstance(attachment, dict):
        return {"author": line.author_type, "name": line.author_name, "text": line.text,
                "buttons": data.get("buttons", [])}
    return {"author": "customer", "name": None, "text": attachment_caption(line.text, attachment), "buttons": [],
            "attachment": {"kind": attachment.get("kind"), "file_name": attachment.get("file_name")}}


class WebChannel:
    def __init__(self, core: ConversationCore, allowed_origins: FrozenSet[str] = frozenset(),
                 limits: Optional[GatewayLimits] = None):
        self.core = core
        self.allowed_origins = allowed_origins
        self.limits = limits or GatewayLimits()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/webhooks/rest/webhook", self.rest_webhook)
        app.router.add_post("/conversations", self.new_conversation)
        app.router.add_get("/ws", self.websocket)

    async def may_write(self, sender: str, secret: Optional[str]) -> bool:
        """A website conversation needs its secret; others (REST clients' own ids) need none."""
        if not needs_secret(sender):
            return True
        return await self.core.may_open(sender, secret)

    async def rest_webhook(self, request: web.Request) -> web.Response:
        sender, text, metadata, error = read_message(await read_json(request))
        if error:
            return json_error(400, error)
        client, language = self.limits.client(request), (metadata or {}).get("language")
        refused = await self.limits.refusal(request, client, "messages", language)
        if refused is not None:
            return refused
        try:
            allowed = await self.may_write(sender, request.headers.get(SECRET_HEADER))
        except SQLAlchemyError:
            return json_error(503, "the chat is unavailable for a moment; please try again", {"Retry-After": "5"})
        if not allowed:
            return json_error(403, "ids starting with web- belong to website chats: send the chat's secret in "
                                   f"{SECRET_HEADER}, or use another id")
        # A REST client names its own ids: each new one is a new conversation, limited like the widget's.
        if not needs_secret(sender) and await self.core.is_new(sender):
            refused = await self.limits.refusal(request, client, "conversations", language)
            if refused is not None:
                return refused
        return web.json_response(await self.core.customer_message(sender, text, "rest", metadata, client=client))

    async def new_conversation(self, request: web.Request) -> web.Response:
        """A new website conversation: {"sender": id, "secret": secret}. The secret is shown this once."""
        headers = cors_headers(request, self.allowed_origins)
        if not origin_allowed(request, self.allowed_origins):
            return json_error(403, "this site may not open chats here (HOTRO_ALLOWED_ORIGINS)")
        language, kind = None, content_type(request)
        try:
            if kind == "application/x-www-form-urlencoded":  # no CORS preflight from the widget
                language = (await read_form(request)).get("language")
            elif kind == "application/json":
                body = await read_json(request)
                language = body.get("language") if isinstance(body, dict) else None
        except BadInput as exc:
            return json_error(400, exc.message, headers)
        refused = await self.limits.refusal(request, self.limits.client(request), "conversations", language, headers)
        if refused is not None:
            return refused
        language = "en" if language == "en" else "vi"
        sender, secret = await self.core.open_web_conversation(language)
        return web.json_response({"sender": sender, "secret": secret}, status=201, headers=headers)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if not origin_allowed(request, self.allowed_origins):
            return json_error(403, "this site may not open chats here (HOTRO_ALLOWED_ORIGINS)")
        socket = web.WebSocketResponse(heartbeat=25, max_msg_size=MAX_FRAME)
        await socket.prepare(request)
        sender = await self._opened(socket)
        if sender is None:
            await socket.close(code=aiohttp.WSCloseCode.POLICY_VIOLATION, message=b"open the conversation first")
            return socket
        hub = self.core.hub
        hub.join(sender, socket)
        client, language = self.limits.client(request), request_language(request)
        try:
            try:
                history = await self.core.transcript(sender)
            except SQLAlchemyError as exc:  # the chat still works; the earlier messages come back with the database
                logger.error("database unavailable for the history of %s: %s", sender[:8], type(exc).__name__)
                history = []
            await socket.send_json({"type": "history", "sender": sender,
                                    "messages": [widget_line(line) for line in history]})
            async for frame in socket:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    await self._on_frame(socket, sender, frame.data, client, language)
        finally:
            hub.leave(sender, socket)
        return socket

    async def _opened(self, socket: web.WebSocketResponse) -> Optional[str]:
        """The conversation the socket's first frame opens with its secret; None (and an error frame) otherwise."""
        try:
            frame = await socket.receive(timeout=OPEN_TIMEOUT)
        except asyncio.TimeoutError:
            return None
        if frame.type != aiohttp.WSMsgType.TEXT:
            return None
        try:
            hello = parse_json(frame.data)
        except ValueError:
            hello = None
        if not isinstance(hello, dict) or hello.get("type") != "open":
            await socket.send_json({"type": "error", "error": "send {\"type\": \"open\", \"sender\": ..., \"secret\": ...} first"})
            return None
        sender, secret = hello.get("sender"), hello.get("secret")
        try:
            opened = not sender_problem(sender) and isinstance(secret, str) and await self.core.may_open(sender, secret)
        except SQLAlchemyError:  # the database is down: the widget tries again, keeping its chat
            await socket.send_json({"type": "error", "error": "unavailable for a moment", "code": "unavailable"})
            return None
        if not opened:
            # One answer for an unknown id and a wrong secret: ids cannot be probed.
            await socket.send_json({"type": "error", "error": "unknown conversation or wrong secret",
                                    "code": "forbidden"})
            return None
        return sender

    async def _on_frame(self, socket: web.WebSocketResponse, sender: str, data: str, client: str,
                        language: str) -> None:
        """`language`: the browser's, for a refusal when the frame does not say."""
        try:
            incoming = parse_json(data)
        except ValueError:
            incoming = NOT_JSON
        # Every frame counts, a malformed one too: each costs the gateway some work.
        verdict = await self.limits.check(client, "messages")
        if not verdict.allowed:
            await socket.send_json(rate_limited_frame(incoming, language, verdict.retry_after))
            return
        if incoming is NOT_JSON:
            await socket.send_json({"type": "error", "error": "messages must be JSON"})
            return
        incoming = incoming if isinstance(incoming, dict) else {}
        _, text, metadata, error = read_message(
            {"sender": sender, "message": incoming.get("text"), "metadata": incoming.get("metadata")})
        if error:
            await socket.send_json({"type": "error", "error": error})
            return
        hub = self.core.hub
        await hub.echo(sender, {"type": "message", "author": "customer", "text": text, "buttons": []}, socket)
        for reply in await self.core.customer_message(sender, text, "web", metadata, client=client):
            await hub.deliver(sender, bot_message(reply))


def rate_limited_frame(incoming: Any, language: str, retry_after: int) -> Dict[str, Any]:
    """The refusal of a frame over the message limit: in the frame's language, naming the frame by its ref."""
    incoming = incoming if isinstance(incoming, dict) else {}
    metadata = incoming.get("metadata") if isinstance(incoming.get("metadata"), dict) else {}
    if metadata.get("language") in ("vi", "en"):
        language = metadata["language"]
    frame = {"type": "error", "code": "rate_limited", "error": refusal("messages", language, retry_after),
             "retry_after": retry_after}
    ref = incoming.get("ref")
    if isinstance(ref, str) and REF.fullmatch(ref):
        frame["ref"] = ref
    return frame
