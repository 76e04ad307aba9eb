"""The gateway's HTTP service (aiohttp, which Rasa already brings): wiring only.

The conversation core (bot/conversation) does the work; this module builds it
once and hands it to the customer routes (bot/gateway/web_channel.py, uploads),
the Telegram channel, the staff API and the desk. Only the gateway faces the
internet: Rasa and the action server listen on loopback behind it.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import FrozenSet, Optional, Sequence, Union

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.config import Settings, whole_number
from bot.conversation.core import ConversationCore
from bot.conversation.guard import Limits
from bot.conversation.rasa import RasaClient
from bot.gateway.limits import GatewayLimits
from bot.gateway.health import HealthMonitor, add_health, standard_monitor
from bot.gateway.origins import allowed_origins
from bot.gateway.client_address import TRUSTED_PROXIES, parse_trusted
from bot.gateway.web_channel import WebChannel, json_error
from bot.internal_auth import GATEWAY_SECRET_ENV
from bot.rasa_instances import rasa_urls as configured_rasa_urls
from bot.services.conversations import ConversationService

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
CORE = web.AppKey("core", ConversationCore)
MAX_BODY = 1024 * 1024  # /upload streams its multipart body with its own limit


def build_core(conversations: ConversationService, rasa_url: Union[str, Sequence[str]], token: str = "",
               gateway_secret: str = "", limits: Limits = Limits()) -> ConversationCore:
    """`rasa_url`: one Rasa, or the instances (HOTRO_RASA_URLS) each conversation is routed among."""
    return ConversationCore(conversations, RasaClient(rasa_url, token, gateway_secret), limits=limits)


def create_app(core: ConversationCore, factory=None, *, redis_url: Optional[str] = None,
               upload_dir: Optional[Path] = None, origins: FrozenSet[str] = frozenset(),
               limits: Optional[GatewayLimits] = None, faq_dir: Optional[Path] = None,
               health: Optional[HealthMonitor] = None) -> web.Application:
    """`factory`: the database, for the staff API and desk; `redis_url`: share deliveries with other instances;
    `upload_dir`: where customers' files go; `origins`: the shop's sites that may embed the widget;
    `limits`: per-client limits (default: the default limits, counted in memory, behind HOTRO_TRUSTED_PROXIES);
    `faq_dir`: the FAQ the desk's editors change (HOTRO_FAQ_DIR by default);
    `health`: what GET /health reports on (bot/gateway/health.py)."""
    from bot.gateway.security_headers import add_security_headers
    from bot.gateway.uploads import add_uploads
    from bot.services.uploads import UploadStore

    app = web.Application(client_max_size=MAX_BODY, middlewares=[json_errors])
    add_security_headers(app)
    app[CORE] = core
    limits = limits or GatewayLimits(trusted_proxies=parse_trusted(Settings.from_env().trusted_proxies))
    # One list of trusted proxies for the customers' limits and the desk's login throttle.
    app[TRUSTED_PROXIES] = limits.trusted_proxies
    if redis_url:
        _add_fanout(app, core, redis_url)
    if factory is not None:
        from bot.gateway.api import add_api
        from bot.gateway.desk import add_desk
        from bot.gateway.faq_api import add_faq_api
        from bot.gateway.kpi_api import add_kpi_api
        from bot.services.charts import ChartService
        from bot.services.customers import CustomerService
        from bot.services.kpis import KpiService
        from bot.services.staff import StaffService
        from bot.services.tickets import TicketService

        from bot.gateway.desk_live_api import add_desk_live_api
        from bot.services.action_scripts import ActionScriptService
        from bot.services.queue_view import QueueViewService

        if Settings.from_env().auto_assign:
            _add_routing(app, core, factory)
        add_api(app, core, StaffService(factory), TicketService(factory), CustomerService(factory),
                QueueViewService(factory))
        add_desk_live_api(app, core, ActionScriptService(factory))
        add_kpi_api(app, KpiService(factory), ChartService(factory))
        add_faq_api(app, faq_dir or Settings.from_env().faq_dir, factory)
        add_desk(app)

    async def start_core(_app: web.Application) -> None:
        await core.start()

    async def close_core(_app: web.Application) -> None:
        await core.close()

    app.on_startup.append(start_core)
    app.on_cleanup.append(close_core)
    app.on_cleanup.append(limits.close)
    add_health(app, health)
    app.router.add_get("/", _file("index.html"))
    app.router.add_get("/widget.js", _file("widget.js"))
    WebChannel(core, origins, limits).add_routes(app)
    add_uploads(app, core, UploadStore(upload_dir or Settings.from_env().upload_dir, limits.settings.upload_max_bytes),
                origins, limits)
    return app


@web.middleware
async def json_errors(request: web.Request, handler):
    """Every refusal is a JSON error: aiohttp's own (413, 405, 404) are plain text, which clients cannot read."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return json_error(exc.status, exc.reason, headers={k: v for k, v in exc.headers.items()
                                                            if k.lower() in ("allow", "retry-after")})


def _add_routing(app: web.Application, core: ConversationCore, factory) -> None:
    """Routing gives waiting chats to staff: at once on each change (core.assign_waiting), and on a timer for
    the fallback (HOTRO_ROUTING_FALLBACK_SECONDS) and for people whose login simply went stale."""
    import asyncio

    from bot.services.routing import RoutingService

    settings = Settings.from_env()
    core.routing = RoutingService.from_settings(factory, core.conversations, settings)

    async def sweep_forever() -> None:
        while True:
            await asyncio.sleep(settings.routing_sweep_seconds)
            await core.assign_waiting()

    tasks = []

    async def start(_app: web.Application) -> None:
        tasks.append(asyncio.create_task(sweep_forever()))

    async def stop(_app: web.Application) -> None:
        for task in tasks:
            task.cancel()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


def _add_fanout(app: web.Application, core: ConversationCore, redis_url: str) -> None:
    from bot.gateway.fanout import RedisFanout

    from bot.conversation.desk_events import FANOUT_CHANNEL

    fanout = RedisFanout(redis_url, core.hub.deliver_local)
    desk_fanout = RedisFanout(redis_url, core.events.deliver_local, FANOUT_CHANNEL)

    async def start(_app: web.Application) -> None:
        await fanout.start()
        core.hub.fanout = fanout
        await desk_fanout.start()
        core.events.fanout = desk_fanout

    async def stop(_app: web.Application) -> None:
        core.hub.fanout = core.events.fanout = None
        await fanout.stop()
        await desk_fanout.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


def _file(name: str):
    async def serve(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / name)

    return serve


class AccessLogger(AbstractAccessLogger):
    """Method, path and status: never the query string, which carries conversation ids on some routes."""

    def log(self, request, response, time):  # noqa: A002 - aiohttp's signature
        self.logger.info("%s %s %s %s %.0fms", request.remote, request.method, request.path, response.status,
                         time * 1000)


def main() -> None:
    from bot.services import registry
    from bot.store.db import session_factory

    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    settings = registry.settings()
    port = whole_number("GATEWAY_PORT", os.environ.get("GATEWAY_PORT") or "8000", minimum=1)
    rasa_urls = configured_rasa_urls(os.environ)
    factory = session_factory(settings.database_url)
    max_chars = whole_number("HOTRO_MAX_MESSAGE_CHARS", os.environ.get("HOTRO_MAX_MESSAGE_CHARS") or "2000", minimum=1)
    limits = Limits(max_message_chars=max_chars)
    core = build_core(ConversationService(factory), rasa_urls, os.environ.get("RASA_TOKEN", ""),
                      os.environ.get(GATEWAY_SECRET_ENV, ""), limits)
    redis_url = os.environ.get("HOTRO_REDIS_URL") or None
    app = create_app(core, factory, redis_url=redis_url, upload_dir=settings.upload_dir, origins=allowed_origins(),
                     limits=GatewayLimits.from_env(), faq_dir=settings.faq_dir,
                     health=standard_monitor(os.environ, rasa_urls, factory, core, redis_url))
    from bot.channels.telegram.setup import add_telegram

    add_telegram(app, core, factory)  # when TELEGRAM_BOT_TOKEN is set
    web.run_app(app, host=os.environ.get("GATEWAY_HOST", "0.0.0.0"), port=port, print=None,
                access_log_class=AccessLogger, loop=event_loop())


def event_loop():
    """uvloop's event loop (Rasa's Sanic already runs on it): the gateway's sockets, both ways, cost less CPU."""
    import asyncio

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is in requirements.lock (Sanic's); plain asyncio still works
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
