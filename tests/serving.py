"""What tests of the gateway share: serving an app on a free port, a stand-in for Rasa, a clock to set.

One copy of each, so that a change to how the gateway is built is made once.
"""
from __future__ import annotations

import inspect
from datetime import datetime, timedelta
from contextlib import asynccontextmanager
from typing import Callable, List, Optional

from aiohttp import web

from bot.conversation.rasa import SECRET_HEADER
from bot.gateway.app import build_core, create_app
from bot.runner import free_port
from bot.services.conversations import ConversationService

UNREACHABLE_RASA = "http://127.0.0.1:9"  # nothing listens there: the gateway's apology path
GATEWAY_SECRET = "test-gateway-secret"


async def serve(app: web.Application):
    """(runner, base URL); call `await runner.cleanup()` when done."""
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


def gateway_app(factory, rasa_url: str = UNREACHABLE_RASA, with_staff: bool = True, **options) -> web.Application:
    """The gateway as production builds it (core, customer routes, and the staff API and desk with `with_staff`)."""
    core = build_core(ConversationService(factory), rasa_url, gateway_secret=GATEWAY_SECRET)
    return create_app(core, factory if with_staff else None, **options)


class Clock:
    """A clock tests move by hand: `clock()` is now; `clock.at(minutes=5)` is that long after the start."""

    def __init__(self, start: datetime = datetime(2026, 11, 26, 3, 0)):
        self.start = start
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, **delta) -> "Clock":
        self.now = self.start + timedelta(**delta)
        return self

    def advance(self, **delta) -> "Clock":
        self.now += timedelta(**delta)
        return self


class Ticks:
    """A monotonic clock moved by hand (`ticks.now += 5`), for code that measures durations."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


class FakeRasa:
    """Answers like Rasa's REST channel (only with the gateway's secret): `answer(body)` gives the replies.

    By default it echoes; `down` makes it fail; `received` keeps every request body.
    """

    def __init__(self, answer: Optional[Callable[[dict], List[dict]]] = None):
        self.answer = answer or (lambda body: [{"recipient_id": body["sender"], "text": f"echo {body['message']}"}])
        self.received: List[dict] = []
        self.triggered: List[tuple] = []
        self.down = False
        self.runner = None
        self.url = ""

    async def webhook(self, request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != GATEWAY_SECRET:
            return web.json_response({"error": "forbidden"}, status=403)
        body = await request.json()
        self.received.append(body)
        if self.down:
            return web.json_response({"error": "down"}, status=500)
        if body["message"] == "/restart":
            return web.json_response([])
        replies = self.answer(body)
        if inspect.isawaitable(replies):  # an answer that takes its time (coroutine)
            replies = await replies
        return web.json_response(replies)

    async def trigger(self, request: web.Request) -> web.Response:
        self.triggered.append((request.match_info["sender"], (await request.json())["name"]))
        return web.json_response({"messages": [{"recipient_id": request.match_info["sender"], "text": "bot is back"}]})

    async def start(self) -> "FakeRasa":
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_post("/conversations/{sender}/trigger_intent", self.trigger)
        self.runner, self.url = await serve(app)
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def web_chat(factory, sender: str) -> str:
    """Open the website conversation `sender` as POST /conversations would; its secret."""
    from bot.conversation.core import secret_hash

    secret = f"secret-of-{sender}"
    ConversationService(factory).create_protected(sender, secret_hash(secret), "web")
    return secret


@asynccontextmanager
async def widget_socket(session, base: str, sender: str, secret: str):
    """The widget's connection to `sender`, opened with its secret (the first frame the server reads)."""
    async with session.ws_connect(f"{base}/ws") as socket:
        await socket.send_json({"type": "open", "sender": sender, "secret": secret})
        yield socket


async def new_widget_chat(session, base: str, language: str = "vi"):
    """(sender, secret) of a new website chat, asked of a running gateway as the widget asks."""
    async with session.post(f"{base}/conversations", data={"language": language}) as response:
        assert response.status == 201, await response.text()
        opened = await response.json()
    return opened["sender"], opened["secret"]


async def serve_sanic(app):
    """(server, base URL) for a Sanic app (Rasa's channels, the action server); `server.close()` when done."""
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    return server, f"http://127.0.0.1:{port}"
