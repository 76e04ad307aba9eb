"""The staff JSON API (`/api`), used by the desk page and by other tools.

Two ways in: a bearer token (`python -m bot staff token NAME`) for tools, or the
desk's login cookie. A cookie is sent by the browser whatever page asks, so
requests that change something with a cookie must also carry the session's
CSRF token in the X-CSRF-Token header. Each route needs a permission of the
caller's roles (bot/services/roles.py; 403 otherwise). Conversation ids are the
REST `sender`. docs/openapi.yaml describes every route.
"""
from __future__ import annotations

import asyncio
import hmac
from datetime import datetime
from typing import Any, Optional

from aiohttp import web

from bot.categories import CATEGORIES, LABELS
from bot.conversation.core import Actor, ConversationCore
from bot.conversation.guard import text_problem
from bot.gateway import attachments
from bot.gateway.desk_live_api import script_progress
from bot.gateway.inputs import BadInput, credential, path_id, read_object
from bot.services import roles
from bot.services.conversations import OWNERS, ConversationService, Ownership
from bot.services.customers import CustomerService
from bot.services.routing import (AVAILABILITIES, CHANNEL_LABELS, CHANNELS, DEFAULT_CAPACITY, LANGUAGE_LABELS,
                                  LANGUAGES, Skills, parse_capacity)
from bot.services.queue_view import QueueViewService
from bot.services.staff import NoSuchStaff, StaffError, StaffService, csrf_token, skills_from
from bot.services.tickets import STATUSES, TicketError, TicketService, TicketView

CORE = web.AppKey("api_core", ConversationCore)
CONVERSATIONS = web.AppKey("api_conversations", ConversationService)
STAFF = web.AppKey("staff", StaffService)
TICKETS = web.AppKey("tickets", TicketService)
CUSTOMERS = web.AppKey("customers", CustomerService)
QUEUE_VIEW = web.AppKey("queue_view", QueueViewService)
SESSION_COOKIE = "hotro_desk"
MAX_TEXT = 10000  # a long explanation fits; Telegram splits it, the widget wraps it
PUBLIC_PATHS = ("/api/openapi.yaml",)
# The permission each route needs, by path prefix, first match wins. A route under /api/ that matches
# none needs an admin (closed by default); a unit test checks that every route has its own line.
ROUTE_PERMISSIONS = (
    ("/api/me", None),  # anyone logged in: the desk learns the person's roles from it
    ("/api/staff/accounts", roles.ACCOUNTS),
    ("/api/staff", roles.CONVERSATIONS),  # colleagues to assign conversations and tickets to
    ("/api/conversations", roles.CONVERSATIONS),
    ("/api/events", roles.CONVERSATIONS),  # what happened in conversations, pushed to the desk
    ("/api/tickets", roles.TICKETS),
    ("/api/kpis", roles.FIGURES),
    ("/api/charts", roles.FIGURES),
    ("/api/faq", roles.FAQ),
)


def _iso(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() + "Z" if value else None


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _actor(request: web.Request) -> Actor:
    staff = request["staff"]
    return Actor(staff.name, staff.display_name)


def _taken(outcome: Ownership) -> web.Response:
    return _error(409, f"{outcome.agent} is handling this conversation")


@web.middleware
async def require_staff(request: web.Request, handler):
    if not request.path.startswith("/api/") or request.path in PUBLIC_PATHS:
        return await handler(request)
    staff_service: StaffService = request.app[STAFF]
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        staff = await asyncio.to_thread(staff_service.by_token, credential(header[7:]))
    else:
        session = session_cookie(request)
        staff = await asyncio.to_thread(staff_service.by_session, session)
        if staff is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
            sent = credential(request.headers.get("X-CSRF-Token"))
            if sent is None or not hmac.compare_digest(sent, csrf_token(session)):
                return _error(403, "missing or wrong X-CSRF-Token")
    if staff is None:
        return _error(401, "log in to the desk or send a staff token (Authorization: Bearer …)")
    resource = request.match_info.route.resource  # None when no route matched: that stays a 404 or 405
    permission = route_permission(resource.canonical) if resource is not None else None
    if permission is not None and not staff.can(permission):
        return _error(403, f"your roles ({', '.join(staff.roles) or 'none'}) do not allow this: it needs {permission}")
    request["staff"] = staff
    return await handler(request)


def route_permission(path: str) -> Optional[str]:
    for prefix, permission in ROUTE_PERMISSIONS:
        if path == prefix or path.startswith(prefix + "/"):
            return permission
    return roles.ACCOUNTS


def session_cookie(request: web.Request) -> Optional[str]:
    """The desk session's token from its cookie; None when there is none (or it is nothing we issue)."""
    return credential(request.cookies.get(SESSION_COOKIE))


async def _run(fn, *args, **kwargs) -> Any:
    return await asyncio.to_thread(fn, *args, **kwargs)


def _text_from(body: dict) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise BadInput(f"'text' must be a non-empty string of at most {MAX_TEXT} characters")
    problem = text_problem(text, "text")
    if problem:
        raise BadInput(problem)
    return text.strip()


async def _staff_member(request: web.Request, name: object):
    """The staff member a body names (by any JSON value, as text); BadInput when there is none."""
    name = str(name)
    member = None if text_problem(name, "name") else await _run(request.app[STAFF].get, name)
    if member is None:
        raise BadInput("no staff member with that name")
    return member


def _conversation_id(request: web.Request) -> str:
    return path_id(request, "id", "conversation")


async def me(request: web.Request) -> web.Response:
    staff = request["staff"]
    return web.json_response({"name": staff.name, "display_name": staff.display_name, "roles": list(staff.roles)})


def _account(account) -> dict:
    return {"name": account.name, "display_name": account.display_name, "roles": list(account.roles),
            "disabled": account.disabled, "telegram_linked": account.telegram_linked,
            "created_at": _iso(account.created_at), "skills": account.skills.as_dict(), "capacity": account.capacity,
            "chosen_availability": account.chosen_availability, "availability": account.availability,
            "seen_at": _iso(account.seen_at)}


def _skills(body: dict):
    """Skills from a body's {"skills": {"categories": [...], "languages": [...], "channels": [...]}}; None: unchanged."""
    if "skills" not in body:
        return None
    skills = body["skills"]
    if not isinstance(skills, dict) or set(skills) - {"categories", "languages", "channels"}:
        raise StaffError('skills are {"categories": [...], "languages": [...], "channels": [...]}; empty means any')
    return skills_from(skills.get("categories"), skills.get("languages"), skills.get("channels"))


def _optional_text(body: dict, key: str) -> Optional[str]:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or text_problem(value, key):
        raise StaffError(f"'{key}' must be text")
    return value


def _checked(parse, value):
    try:
        return parse(value)
    except ValueError as exc:  # RoutingError, RoleError
        raise StaffError(str(exc)) from exc


async def _account_change(request: web.Request, fn, *args, **kwargs) -> web.Response:
    """Run a change to an account; its new state, 404 for no such person, 400 for a value that does not fit.

    Then routing looks at the waiting chats: the change may have made someone able to take one.
    """
    try:
        result = await _run(fn, *args, **kwargs)
    except NoSuchStaff as exc:
        return _error(404, str(exc))
    except StaffError as exc:
        return _error(400, str(exc))
    core: ConversationCore = request.app[CORE]
    if request.get("requeued"):  # a disabled person's chats went back to the queue: open desks read the lists again
        await core.events.publish({"type": "resync"})
    await core.assign_waiting()
    return web.json_response(result if isinstance(result, dict) else _account(result))


async def add_account(request: web.Request) -> web.Response:
    """{"name", "password", "display_name"?, "roles"?, "skills"?, "capacity"?}: a new staff member (admins)."""
    body = await read_object(request)
    staff: StaffService = request.app[STAFF]

    def add() -> Any:
        name, password = body.get("name"), body.get("password")
        if not isinstance(name, str) or not isinstance(password, str):
            raise StaffError('send {"name": ..., "password": ...} (and display_name, roles, skills, capacity)')
        staff.add(name, password, _optional_text(body, "display_name"), body.get("roles", "agent"),
                  _skills(body) or Skills(), body.get("capacity", DEFAULT_CAPACITY))
        return staff.account(name)

    response = await _account_change(request, add)
    if response.status == 200:
        response.set_status(201)
    return response


async def update_account(request: web.Request) -> web.Response:
    """{"display_name"?, "roles"?, "skills"?, "capacity"?, "disabled"?}: change an account (admins)."""
    name = path_id(request, "name", "staff member")
    body = await read_object(request)
    known = {"display_name", "roles", "skills", "capacity", "disabled"}
    if not body or set(body) - known:
        return _error(400, f"send one or more of: {', '.join(sorted(known))}")
    if "disabled" in body and not isinstance(body["disabled"], bool):
        return _error(400, "'disabled' is true or false")
    if body.get("disabled") and name == request["staff"].name:
        return _error(400, "you cannot disable your own account")
    staff: StaffService = request.app[STAFF]

    def update() -> Any:
        # Everything is checked before anything changes: a wrong capacity must not leave new roles behind.
        display_name, skills = _optional_text(body, "display_name"), _skills(body)
        capacity = None if body.get("capacity") is None else _checked(parse_capacity, body["capacity"])
        if "roles" in body:
            _checked(roles.parse_roles, body["roles"])
            staff.set_roles(name, body["roles"])
        staff.set_profile(name, display_name, skills, capacity)
        if body.get("disabled") is True:
            staff.disable(name)
            request["requeued"] = request.app[CONVERSATIONS].requeue_chats_of(name, f"{name} disabled")
        elif body.get("disabled") is False:
            staff.enable(name)
        return staff.account(name)

    return await _account_change(request, update)


async def reset_password(request: web.Request) -> web.Response:
    """{"password": ...}: an admin sets a new password; the person's desk sessions end."""
    name = path_id(request, "name", "staff member")
    body = await read_object(request)
    if not isinstance(body.get("password"), str):
        return _error(400, 'send {"password": "..."}')
    staff: StaffService = request.app[STAFF]
    return await _account_change(
        request, lambda: {"name": name, "sessions_ended": staff.reset_password(name, body["password"])})


async def set_my_availability(request: web.Request) -> web.Response:
    """{"availability": "online" | "away" | "offline"}: whether routing gives the caller new chats."""
    body = await read_object(request)
    return await _account_change(request, request.app[STAFF].set_availability, request["staff"].name,
                                 body.get("availability"))


async def skill_options(request: web.Request) -> web.Response:
    """What skills can be: complaint categories with their labels, languages, channels (for the desk's forms)."""
    language = "en" if request.query.get("lang") == "en" else "vi"
    return web.json_response({
        "categories": [{"code": code, "label": LABELS[language][code]} for code in CATEGORIES],
        "languages": [{"code": code, "label": LANGUAGE_LABELS[code]} for code in LANGUAGES],
        "channels": [{"code": code, "label": CHANNEL_LABELS[code]} for code in CHANNELS],
        "availabilities": list(AVAILABILITIES),
    })


async def my_account(request: web.Request) -> web.Response:
    """The caller's skills, capacity and availability."""
    return web.json_response(_account(await _run(request.app[STAFF].account, request["staff"].name)))


async def list_accounts(request: web.Request) -> web.Response:
    """Every account with its roles, disabled ones too (admins)."""
    accounts = await _run(request.app[STAFF].accounts)
    return web.json_response([_account(a) for a in accounts])


async def set_account_roles(request: web.Request) -> web.Response:
    name = path_id(request, "name", "staff member")
    body = await read_object(request)
    if "roles" not in body:
        return _error(400, 'send {"roles": ["agent", "editor", "admin"]} (one or more)')
    return await _account_change(request, request.app[STAFF].set_roles, name, body["roles"])


async def list_staff(request: web.Request) -> web.Response:
    """Who a conversation or ticket can be assigned to."""
    members = await _run(request.app[STAFF].all)
    return web.json_response([{"name": m.name, "display_name": m.display_name} for m in members])


async def list_conversations(request: web.Request) -> web.Response:
    owner = request.query.get("owner")
    if owner and owner not in OWNERS:
        return _error(400, f"owner must be one of {', '.join(OWNERS)}")
    rows = await _run(request.app[CONVERSATIONS].list, owner)
    # Who the customer is and their open ticket's category, priority and deadline: a queue of people, not ids.
    cards = await _run(request.app[QUEUE_VIEW].cards, [r.id for r in rows])
    now = datetime.utcnow()
    return web.json_response([
        {"id": r.id, "channel": r.channel, "owner": r.owner, "agent": r.agent, "owner_since": _iso(r.owner_since),
         "waiting_seconds": int((now - r.owner_since).total_seconds()) if r.owner == "queued" and r.owner_since else None,
         "last_message": r.last_message, "last_message_at": _iso(r.last_message_at),
         **(cards[r.id].as_dict(now) if r.id in cards else {})}
        for r in rows
    ])


async def get_conversation(request: web.Request) -> web.Response:
    conversations: ConversationService = request.app[CONVERSATIONS]
    sender = _conversation_id(request)
    summary = await _run(conversations.summary, sender)
    if summary is None:
        return _error(404, "no such conversation")
    transcript = await _run(conversations.transcript, sender, True)
    history = await _run(request.app[CUSTOMERS].history, sender)
    slots = await request.app[CORE].collected_slots(sender)
    own_tickets = [t for t in history.tickets if t.sender_id == sender]
    attachment_urls = attachments.attachment_urls(sender, transcript)
    return web.json_response({
        "id": sender,
        "channel": summary.channel,
        "owner": summary.owner,
        "agent": summary.agent,
        "owner_since": _iso(summary.owner_since),
        "transcript": [
            {"author": line.author_type, "name": line.author_name, "text": line.text, "data": line.data,
             "at": _iso(line.created_at), "attachment_url": url}
            for line, url in zip(transcript, attachment_urls)
        ],
        "slots": slots,
        "tickets": [t.as_dict() for t in own_tickets],
        "customer": {
            "records": [vars(c) for c in history.customers],
            "contacts": history.contacts,
            "conversations": [
                {"id": c.id, "channel": c.channel, "owner": c.owner, "created_at": _iso(c.created_at)}
                for c in history.conversations if c.id != sender
            ],
            "tickets": [t.as_dict() for t in history.tickets if t.sender_id != sender],
        },
    })


async def claim(request: web.Request) -> web.Response:
    """Take the conversation, or with {"agent": NAME} assign it to a colleague.

    A conversation another staff member holds is refused (409): only its holder passes it on.
    """
    sender = _conversation_id(request)
    body = await read_object(request) if request.can_read_body else {}
    actor, assignee = _actor(request), None
    if body.get("agent") and body["agent"] != actor.name:
        member = await _staff_member(request, body["agent"])
        assignee = Actor(member.name, member.display_name)
    outcome = await request.app[CORE].claim(sender, actor, assignee)
    if outcome is None:
        return _error(404, "no such conversation")
    if outcome.refused:
        return _taken(outcome)
    return web.json_response({"id": sender, "owner": outcome.owner, "agent": outcome.agent})


async def get_attachment(request: web.Request) -> web.StreamResponse:
    """A photo or file the customer sent (Telegram), by its place among the conversation's attachments."""
    try:
        return await attachments.serve(request.app, request.app[CONVERSATIONS], _conversation_id(request),
                                       request.match_info["n"])
    except attachments.Refused as exc:
        return _error(exc.status, str(exc))


async def post_message(request: web.Request) -> web.Response:
    sender = _conversation_id(request)
    text = _text_from(await read_object(request))
    core: ConversationCore = request.app[CORE]
    outcome, delivered = await core.staff_reply(sender, _actor(request), text)
    if outcome is None or outcome.refused:
        return _error(409, "claim the conversation before replying")
    return web.json_response({"ok": True, "delivered_live": delivered > 0}, status=201)


async def post_note(request: web.Request) -> web.Response:
    """An internal note: in the desk's transcript, never shown to the customer."""
    sender = _conversation_id(request)
    text = _text_from(await read_object(request))
    if not await request.app[CORE].note(sender, _actor(request), text):
        return _error(404, "no such conversation")
    return web.json_response({"ok": True}, status=201)


async def release(request: web.Request) -> web.Response:
    sender = _conversation_id(request)
    outcome = await request.app[CORE].release(sender, _actor(request))
    if outcome is None:
        return _error(404, "no such conversation")
    if outcome.refused:
        return _taken(outcome)
    return web.json_response({"id": sender, "owner": "bot"})


def _matches(ticket: TicketView, query, now: datetime) -> bool:
    for key in ("status", "priority", "category", "assignee"):
        if query.get(key) and getattr(ticket, key) != query[key]:
            return False
    if query.get("overdue") in ("1", "true", "yes"):
        return ticket.is_overdue(now)
    return True


async def list_tickets(request: web.Request) -> web.Response:
    now = datetime.utcnow()
    tickets = [t for t in await _run(request.app[TICKETS].list) if _matches(t, request.query, now)]
    steps = await script_progress(request.app, tickets)  # how far staff are through each one's action script
    return web.json_response([{**t.as_dict(), "overdue": t.is_overdue(now), "steps": steps.get(t.id)} for t in tickets])


async def patch_ticket(request: web.Request) -> web.Response:
    """{"status": ..., "assignee": ..., "note": ...}; resolving hands a person's conversation back to the bot."""
    code = path_id(request, "code", "ticket")
    body = await read_object(request)
    status, assignee, note = body.get("status"), body.get("assignee", ...), body.get("note") or ""
    if status is None and assignee is ...:
        return _error(400, "send a status, an assignee or both")
    if status is not None and status not in STATUSES:
        return _error(400, f"status must be one of {', '.join(STATUSES)}")
    problem = text_problem(note, "note")
    if problem:
        return _error(400, problem)
    if assignee not in (..., None):
        assignee = (await _staff_member(request, assignee)).name
    tickets: TicketService = request.app[TICKETS]
    author = request["staff"].name
    try:
        if assignee is not ...:
            ticket = await _run(tickets.assign, code, assignee)
        if status is not None:
            ticket = await _run(tickets.set_status, code, status, author, note)
    except TicketError as exc:
        return _error(404, str(exc))
    if status in ("resolved", "closed"):
        # The case is closed: the chat goes back to the bot, which asks for a rating.
        await request.app[CORE].release(ticket.sender_id, _actor(request), case_closed=True)
    return web.json_response(ticket.as_dict())


async def openapi(_request: web.Request) -> web.Response:
    from bot.config import ROOT

    return web.FileResponse(ROOT / "docs" / "openapi.yaml", headers={"Content-Type": "application/yaml"})


def add_api(app: web.Application, core: ConversationCore, staff: StaffService, tickets: TicketService,
            customers: CustomerService, queue_view: QueueViewService) -> None:
    app[CORE] = core
    app[CONVERSATIONS] = core.conversations
    app[STAFF] = staff
    app[TICKETS] = tickets
    app[CUSTOMERS] = customers
    app[QUEUE_VIEW] = queue_view
    app.middlewares.append(require_staff)
    app.router.add_get("/api/openapi.yaml", openapi)
    app.router.add_get("/api/me", me)
    app.router.add_get("/api/staff", list_staff)
    app.router.add_get("/api/me/account", my_account)
    app.router.add_put("/api/me/availability", set_my_availability)
    app.router.add_get("/api/staff/skills", skill_options)
    app.router.add_get("/api/staff/accounts", list_accounts)
    app.router.add_post("/api/staff/accounts", add_account)
    app.router.add_patch("/api/staff/accounts/{name}", update_account)
    app.router.add_put("/api/staff/accounts/{name}/roles", set_account_roles)
    app.router.add_post("/api/staff/accounts/{name}/password", reset_password)
    app.router.add_get("/api/conversations", list_conversations)
    app.router.add_get("/api/conversations/{id}", get_conversation)
    app.router.add_get("/api/conversations/{id}/attachments/{n}", get_attachment)
    app.router.add_post("/api/conversations/{id}/claim", claim)
    app.router.add_post("/api/conversations/{id}/messages", post_message)
    app.router.add_post("/api/conversations/{id}/notes", post_note)
    app.router.add_post("/api/conversations/{id}/release", release)
    app.router.add_get("/api/tickets", list_tickets)
    app.router.add_patch("/api/tickets/{code}", patch_ticket)
