"""GET /health: each part ok, degraded or down, since when; from the last probe, never leaking a secret."""
from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp import web

from bot.conversation.core import ConversationCore
from bot.gateway.health import standard_monitor
from bot.services.conversations import ConversationService
from bot.store.db import session_factory
from tests.serving import Ticks, gateway_app, serve

TOKEN = "rasa-token-not-to-be-shown"


class FakePart:
    """Rasa's /status (with the token) and the action server's /health; `status` is what they answer."""

    def __init__(self):
        self.status = 200
        self.runner = None
        self.url = ""

    async def answer(self, request: web.Request) -> web.Response:
        if request.path == "/status" and request.query.get("token") != TOKEN:
            return web.json_response({}, status=401)
        return web.json_response({}, status=self.status)

    async def start(self):
        app = web.Application()
        app.router.add_get("/status", self.answer)
        app.router.add_get("/health", self.answer)
        self.runner, self.url = await serve(app)
        return self

    async def stop(self):
        await self.runner.cleanup()


def scenario(factory, steps):
    """Run `steps(monitor, rasa, actions, read)` against a gateway whose monitor probes only when told."""
    async def main():
        rasa, actions = await FakePart().start(), await FakePart().start()
        env = {"RASA_TOKEN": TOKEN, "ACTION_SERVER_URL": f"{actions.url}/webhook", "HOTRO_HEALTH_EVERY": "3600"}
        monitor = standard_monitor(env, rasa.url, factory, None)
        monitor.clock = Ticks()
        app = gateway_app(factory, with_staff=False, health=monitor)
        runner, base = await serve(app)
        try:
            async with aiohttp.ClientSession() as http:
                async def read():
                    async with http.get(f"{base}/health") as response:
                        assert response.status == 200
                        return await response.text()
                return await steps(monitor, rasa, actions, read)
        finally:
            await runner.cleanup()
            await actions.stop()
            if rasa.runner is not None:
                await rasa.stop()

    return asyncio.run(main())


def test_every_part_is_reported_with_its_state_and_since_when(db_factory):
    async def steps(monitor, rasa, actions, read):
        first = json.loads(await read())
        monitor.clock.now += 30
        rasa.status = 409  # restarted, loading its model
        await monitor.probe_all()
        loading = json.loads(await read())
        monitor.clock.now += 12
        await rasa.stop()
        rasa.runner = None
        await monitor.probe_all()
        gone = json.loads(await read())
        monitor.clock.now += 5
        return first, loading, gone, json.loads(await read())

    first, loading, gone, later = scenario(db_factory, steps)
    assert first["status"] == "ok"
    assert {name: part["status"] for name, part in first["parts"].items()} == {
        "gateway": "ok", "rasa": "ok", "action_server": "ok", "database": "ok"}
    assert loading["status"] == "degraded"
    assert loading["parts"]["rasa"] == {"status": "down", "reason": "loading its model", "for_seconds": 0,
                                        "since": loading["parts"]["rasa"]["since"]}
    assert loading["parts"]["action_server"]["for_seconds"] == 30
    # Still down, for another reason: "since" is when it went down, not when the reason changed.
    assert gone["parts"]["rasa"]["reason"] == "unreachable" and gone["parts"]["rasa"]["for_seconds"] == 12
    assert later["parts"]["rasa"]["for_seconds"] == 17
    assert later["parts"]["gateway"]["status"] == "ok"


def test_a_part_coming_back_is_ok_again_and_the_log_says_how_long_it_was_down(db_factory, caplog):
    async def steps(monitor, rasa, actions, read):
        actions.status = 500
        await monitor.probe_all()
        down = json.loads(await read())
        monitor.clock.now += 20
        actions.status = 200
        await monitor.probe_all()
        return down, json.loads(await read())

    with caplog.at_level("WARNING", logger="bot.gateway.health"):
        down, back = scenario(db_factory, steps)
    assert down["parts"]["action_server"] == {"status": "down", "reason": "answers HTTP 500", "for_seconds": 0,
                                              "since": down["parts"]["action_server"]["since"]}
    assert back["status"] == "ok" and back["parts"]["action_server"]["for_seconds"] == 0
    assert "action_server ok again after 20s down" in caplog.text


def test_the_database_down_or_still_writing_its_backlog_is_reported(tmp_path, db_factory):
    broken = session_factory(f"sqlite:///{tmp_path}")  # a directory: "unable to open database file"

    async def steps(monitor, rasa, actions, read):
        await monitor.probe_all()
        return json.loads(await read())

    down = scenario(broken, steps)
    assert down["parts"]["database"]["status"] == "down"

    async def backlog(monitor, rasa, actions, read):
        core = ConversationCore(ConversationService(db_factory), rasa=None)
        from bot.gateway.health import database_probe

        monitor.probes["database"] = database_probe(db_factory, lambda: len(core.backlog) + 3)
        await monitor.probe_all()
        return json.loads(await read())

    draining = scenario(db_factory, backlog)
    assert draining["parts"]["database"]["status"] == "degraded"
    assert "3 transcript line(s)" in draining["parts"]["database"]["reason"]


def test_health_shows_no_token_address_or_error_text(db_factory):
    async def steps(monitor, rasa, actions, read):
        shown = [await read()]
        await rasa.stop()
        rasa.runner = None
        actions.status = 503
        await monitor.probe_all()
        shown.append(await read())
        return shown

    for text in scenario(db_factory, steps):
        assert TOKEN not in text and "127.0.0.1" not in text and "http" not in text and "sqlite" not in text


def test_a_gateway_built_without_probes_reports_itself(db_factory):
    async def main():
        runner, base = await serve(gateway_app(db_factory, with_staff=False))
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/health") as response:
                    return response.status, await response.json()
        finally:
            await runner.cleanup()

    status, body = asyncio.run(main())
    assert status == 200 and body["status"] == "ok" and list(body["parts"]) == ["gateway"]
