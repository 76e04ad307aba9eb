"""The staff JSON API (`/api`), authenticated with a bearer token (`python -m bot staff token NAME`).

Conversation ids are the REST `sender`. The support desk page will use the same API.
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Optional

from aiohttp import web

from bot.gateway.hub import HUB
from bot.services.conversations import OWNERS, ConversationService
from bot.services.staff import StaffService
from bot.services.tickets import STATUSES, TicketError, TicketService, TicketView


CONVERSATIONS = web.AppKey("api_conversations", ConversationService)
STAFF = web.AppKey("staff", StaffService)
TICKETS = web.AppKey("tickets", TicketService)


def _iso(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() + "Z" if value else None


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def require_token(request: web.Request, handler):
    if not request.path.startswith("/api/"):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    staff = await asyncio.to_thread(request.app[STAFF].by_token, token)
    if staff is None:
        return _error(401, "a valid staff token is required (Authorization: Bearer …)")
    request["staff"] = staff
    return await handler(request)


async def _run(fn, *args, **kwargs) -> Any:
    return await asyncio.to_thread(fn, *args, **kwargs)


async def list_conversations(request: web.Request) -> web.Response:
    owner = request.query.get("owner")
    if owner and owner not in OWNERS:
        return _error(400, f"owner must be one of {', '.join(OWNERS)}")
    rows = await _run(request.app[CONVERSATIONS].list, owner)
    return web.json_response([
        {"id": r.id, "channel": r.channel, "owner": r.owner, "agent": r.agent, "owner_since": _iso(r.owner_since),
         "last_message": r.last_message, "last_message_at": _iso(r.last_message_at)}
        for r in rows
    ])


async def get_conversation(request: web.Request) -> web.Response:
    conversations: ConversationService = request.app[CONVERSATIONS]
    sender = request.match_info["id"]
    summary = await _run(conversations.summary, sender)
    if summary is None:
        return _error(404, "no such conversation")
    transcript = await _run(conversations.transcript, sender)
    tickets = await _run(request.app[TICKETS].for_sender, sender)
    return web.json_response({
        "id": sender,
        "owner": summary.owner,
        "transcript": [
            {"author": line.author_type, "name": line.author_name, "text": line.text, "data": line.data,
             "at": _iso(line.created_at)}
            for line in transcript
        ],
        "tickets": [t.as_dict() for t in tickets],
    })


async def claim(request: web.Request) -> web.Response:
    staff = request["staff"]
    sender = request.match_info["id"]
    conversations: ConversationService = request.app[CONVERSATIONS]
    if await _run(conversations.summary, sender) is None:
        return _error(404, "no such conversation")
    await _run(conversations.set_owner, sender, "agent", staff.name)
    await _run(conversations.record, sender, "system", f"{staff.display_name} joined the conversation")
    return web.json_response({"id": sender, "owner": "agent", "agent": staff.name})


async def post_message(request: web.Request) -> web.Response:
    staff = request["staff"]
    sender = request.match_info["id"]
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "the body must be JSON")
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return _error(400, "'text' must be a non-empty string")
    conversations: ConversationService = request.app[CONVERSATIONS]
    summary = await _run(conversations.summary, sender)
    if summary is None or summary.owner != "agent" or summary.agent != staff.name:
        return _error(409, "claim the conversation before replying")
    await _run(conversations.record, sender, "staff", text.strip(), "rest", staff.display_name)
    delivered = await request.app[HUB].deliver(
        sender, {"type": "message", "author": "staff", "name": staff.display_name, "text": text.strip(), "buttons": []}
    )
    return web.json_response({"ok": True, "delivered_live": delivered > 0}, status=201)


async def release(request: web.Request) -> web.Response:
    sender = request.match_info["id"]
    conversations: ConversationService = request.app[CONVERSATIONS]
    if await _run(conversations.summary, sender) is None:
        return _error(404, "no such conversation")
    await _run(conversations.set_owner, sender, "bot")
    await _run(conversations.record, sender, "system", f"{request['staff'].display_name} returned the conversation to the bot")
    # The bot says it is back and asks for a 1-5 rating, on the customer's open socket.
    from bot.gateway.app import handback

    await handback(request.app, sender)
    return web.json_response({"id": sender, "owner": "bot"})


def _matches(ticket: TicketView, query, now: datetime) -> bool:
    for key in ("status", "priority", "category"):
        if query.get(key) and getattr(ticket, key) != query[key]:
            return False
    if query.get("overdue") in ("1", "true", "yes"):
        open_ = ticket.status not in ("resolved", "closed")
        late_ack = ticket.acknowledged_at is None and ticket.acknowledge_due_at < now
        return open_ and (late_ack or ticket.resolve_due_at < now)
    return True


async def list_tickets(request: web.Request) -> web.Response:
    tickets = await _run(request.app[TICKETS].list)
    now = datetime.utcnow()
    return web.json_response([t.as_dict() for t in tickets if _matches(t, request.query, now)])


async def patch_ticket(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "the body must be JSON")
    status = body.get("status") if isinstance(body, dict) else None
    if status not in STATUSES:
        return _error(400, f"status must be one of {', '.join(STATUSES)}")
    try:
        ticket = await _run(
            request.app[TICKETS].set_status, request.match_info["code"], status, request["staff"].name,
            str(body.get("note") or ""),
        )
    except TicketError as exc:
        return _error(404, str(exc))
    return web.json_response(ticket.as_dict())


def add_api(app: web.Application, conversations: ConversationService, staff: StaffService, tickets: TicketService) -> None:
    app[CONVERSATIONS] = conversations
    app[STAFF] = staff
    app[TICKETS] = tickets
    app.middlewares.append(require_token)
    app.router.add_get("/api/conversations", list_conversations)
    app.router.add_get("/api/conversations/{id}", get_conversation)
    app.router.add_post("/api/conversations/{id}/claim", claim)
    app.router.add_post("/api/conversations/{id}/messages", post_message)
    app.router.add_post("/api/conversations/{id}/release", release)
    app.router.add_get("/api/tickets", list_tickets)
    app.router.add_patch("/api/tickets/{code}", patch_ticket)
