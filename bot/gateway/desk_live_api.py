"""The desk's live side in the staff API: pushed events, and each ticket's action script.

- GET /api/events: server-sent events (text/event-stream) telling an open desk
  that something happened in a conversation (bot/conversation/desk_events.py);
  the desk then reads what it needs through the other routes. Authenticated
  like the rest of /api (the middleware in api.py). A stream ends after
  STREAM_SECONDS, and the browser's EventSource reconnects: that checks the
  session again, so an expired or disabled account stops receiving.
- GET /api/tickets/{code}/script: the steps of the ticket's category with what
  was ticked, and the saved replies with the ticket's values filled in.
- PUT /api/tickets/{code}/steps/{step} {"done": true|false}: tick or untick.
"""
from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web

from bot.action_scripts import ScriptError
from bot.conversation.core import ConversationCore
from bot.gateway.inputs import json_error, path_id, read_object
from bot.services.action_scripts import ActionScriptService, StepError
from bot.services.tickets import TicketError

logger = logging.getLogger(__name__)

SCRIPTS = web.AppKey("action_scripts", ActionScriptService)
EVENTS_CORE = web.AppKey("events_core", ConversationCore)
KEEPALIVE_SECONDS = 20  # a comment line this often keeps proxies from closing an idle stream
STREAM_SECONDS = 300
RETRY_MS = 2000  # how soon the browser reconnects after a stream ends
MAX_STREAMS_PER_PERSON = 8  # a few tabs and a phone each; more is a leak or an attack
OPEN_STREAMS = web.AppKey("open_event_streams", dict)  # staff name -> their streams' queues, oldest first


async def events(request: web.Request) -> web.StreamResponse:
    bus = request.app[EVENTS_CORE].events
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",  # nginx: pass each event on at once
    })
    await response.prepare(request)
    queue = bus.subscribe()
    # Each stream holds a connection and a queue: one account (or a stolen token) may not pile up hundreds.
    # Past the cap the person's oldest stream ends rather than the new one being refused: a closed tab's
    # stream lingers until its next keep-alive write fails, and the desk just opened must work.
    mine = request.app[OPEN_STREAMS].setdefault(request["staff"].name, [])
    mine.append(queue)
    while len(mine) > MAX_STREAMS_PER_PERSON:
        bus.end(mine.pop(0))
    loop = asyncio.get_running_loop()
    ends = loop.time() + STREAM_SECONDS
    try:
        # `ready` tells the desk the stream is open: anything it may have missed before is read again then.
        await response.write(f"retry: {RETRY_MS}\nevent: ready\ndata: {{}}\n\n".encode())
        while loop.time() < ends:
            try:
                event = await asyncio.wait_for(queue.get(), timeout=min(KEEPALIVE_SECONDS, ends - loop.time()))
            except asyncio.TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            if event is None:  # the gateway is stopping, or this person opened too many streams
                break
            await response.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
    finally:
        bus.unsubscribe(queue)
        if queue in mine:
            mine.remove(queue)
        if not mine and request.app[OPEN_STREAMS].get(request["staff"].name) is mine:
            del request.app[OPEN_STREAMS][request["staff"].name]
    return response


def _code(request: web.Request) -> str:
    return path_id(request, "code", "ticket")


async def get_script(request: web.Request) -> web.Response:
    try:
        script = await asyncio.to_thread(request.app[SCRIPTS].for_ticket, _code(request))
    except TicketError as exc:
        return json_error(404, str(exc))
    except ScriptError as exc:
        logger.error("action scripts unusable: %s", exc)
        return json_error(503, "the action scripts (scripts/*.yml) have errors: run python -m bot.action_scripts check")
    return web.json_response(script)


async def put_step(request: web.Request) -> web.Response:
    code, step = _code(request), path_id(request, "step", "step")
    body = await read_object(request)
    if not isinstance(body.get("done"), bool):
        return json_error(400, 'send {"done": true} to tick the step or {"done": false} to untick it')
    try:
        mark = await asyncio.to_thread(request.app[SCRIPTS].mark, code, step, body["done"], request["staff"].name)
    except TicketError as exc:
        return json_error(404, str(exc))
    except StepError as exc:
        return json_error(400, str(exc))
    except ScriptError:
        return json_error(503, "the action scripts (scripts/*.yml) have errors: run python -m bot.action_scripts check")
    return web.json_response({"ticket": code, "step": mark.step, "done": mark.done, "by": mark.author,
                              "at": mark.updated_at.isoformat() + "Z"})


async def script_progress(app: web.Application, tickets) -> dict:
    """{ticket id: {"done": n, "total": m}} of the tickets' action scripts; {} while the script files have errors
    (the ticket list still works)."""
    try:
        return await asyncio.to_thread(app[SCRIPTS].progress, [(t.id, t.category) for t in tickets])
    except ScriptError as exc:
        logger.error("action scripts unusable: %s", exc)
        return {}


def add_desk_live_api(app: web.Application, core: ConversationCore, scripts: ActionScriptService) -> None:
    app[EVENTS_CORE] = core
    app[SCRIPTS] = scripts
    app[OPEN_STREAMS] = {}

    async def end_streams(_app: web.Application) -> None:
        core.events.close()

    app.on_shutdown.append(end_streams)
    app.router.add_get("/api/events", events)
    app.router.add_get("/api/tickets/{code}/script", get_script)
    app.router.add_put("/api/tickets/{code}/steps/{step}", put_step)
