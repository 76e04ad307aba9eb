"""GET /health: each part the gateway depends on, ok / degraded / down, and since when.

Load balancers and operators ask often and from several places, so answering must cost nothing:
a background task probes the parts every HOTRO_HEALTH_EVERY seconds (default 2) and /health
returns what it last saw. The answer is always 200 while the gateway runs, because the gateway
still answers customers (with the apology) when Rasa or the action server is away; whoever
wants more reads `status` and `parts`.

Nothing in it comes from the parts themselves: no URL (internal addresses), no token, no error
text (a driver's message may hold a password). Only states, times and reasons in our own words.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Awaitable, Callable, Dict, Optional, Sequence, Tuple, Union

import aiohttp
from aiohttp import web

logger = logging.getLogger(__name__)

OK, DEGRADED, DOWN = "ok", "degraded", "down"
SLOW = 1.0  # seconds: a probe answered slower than this is a part in trouble
PROBE_TIMEOUT = aiohttp.ClientTimeout(total=2)
Probe = Callable[[], Awaitable[Tuple[str, str]]]  # () -> (state, reason)


@dataclass
class PartHealth:
    state: str
    reason: str
    since_wall: float
    since: float

    def as_dict(self, now: float) -> Dict[str, object]:
        shown: Dict[str, object] = {
            "status": self.state,
            "since": datetime.fromtimestamp(self.since_wall, timezone.utc).isoformat(timespec="seconds"),
            "for_seconds": int(now - self.since),
        }
        if self.reason:
            shown["reason"] = self.reason
        return shown


class HealthMonitor:
    def __init__(self, probes: Optional[Dict[str, Probe]] = None, every: float = 2.0,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time):
        self.probes = dict(probes or {})
        self.every = every
        self.clock = clock
        self.wall = wall
        self.parts: Dict[str, PartHealth] = {}
        self.http: Optional[aiohttp.ClientSession] = None
        self._task: Optional[asyncio.Task] = None
        self._started = (clock(), wall())

    def see(self, name: str, state: str, reason: str = "") -> None:
        """Record a probe's result; a change of state is logged, with how long the previous one lasted."""
        now = self.clock()
        previous = self.parts.get(name)
        if previous is not None and previous.state == state:
            previous.reason = reason
            return
        self.parts[name] = PartHealth(state, reason, self.wall(), now)
        if previous is None:
            if state != OK:
                logger.warning("health: %s %s (%s)", name, state, reason)
        elif state == OK:
            logger.warning("health: %s ok again after %.0fs %s", name, now - previous.since, previous.state)
        else:
            logger.warning("health: %s %s (%s)", name, state, reason)

    async def probe_all(self) -> None:
        async def one(name: str, probe: Probe) -> None:
            try:
                state, reason = await probe()
            except Exception:  # a probe's own bug must not stop the others
                logger.exception("health probe %s failed", name)
                state, reason = DOWN, "probe failed"
            self.see(name, state, reason)

        await asyncio.gather(*(one(name, probe) for name, probe in self.probes.items()))

    def report(self) -> Dict[str, object]:
        now = self.clock()
        started_at, started_wall = self._started
        parts: Dict[str, object] = {
            "gateway": PartHealth(OK, "", started_wall, started_at).as_dict(now)}
        for name in self.probes:
            seen = self.parts.get(name)
            parts[name] = seen.as_dict(now) if seen else {"status": "unknown", "reason": "not probed yet"}
        worst = OK if all(p["status"] == OK for p in parts.values()) else DEGRADED
        return {"status": worst, "parts": parts}

    async def start(self, _app=None) -> None:
        self.http = aiohttp.ClientSession(timeout=PROBE_TIMEOUT)
        if self.probes:
            await self.probe_all()
            self._task = asyncio.create_task(self._run())

    async def stop(self, _app=None) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.http is not None:
            await self.http.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.probe_all()

    # -- probes ----------------------------------------------------------------------------------

    def http_probe(self, url: str, params: Optional[Dict[str, str]] = None,
                   meaning: Optional[Dict[int, Tuple[str, str]]] = None) -> Probe:
        """200 (fast) is ok; `meaning` maps other statuses to (state, reason); anything else is down."""
        async def probe() -> Tuple[str, str]:
            began = time.monotonic()
            try:
                async with self.http.get(url, params=params) as response:
                    status = response.status
                    await response.read()
            except asyncio.TimeoutError:
                return DOWN, "no answer"
            except aiohttp.ClientError:
                return DOWN, "unreachable"
            if status == 200:
                return (DEGRADED, "slow") if time.monotonic() - began > SLOW else (OK, "")
            return (meaning or {}).get(status, (DOWN, f"answers HTTP {status}"))

        return probe


def rasa_probe(monitor: HealthMonitor, rasa_url: str, token: str) -> Probe:
    # /status answers once the model is loaded; "/" answers before, while every message would fail.
    return monitor.http_probe(f"{rasa_url.rstrip('/')}/status", {"token": token} if token else None,
                              {409: (DOWN, "loading its model"),
                               401: (DEGRADED, "refuses RASA_TOKEN (staff hand-back fails)"),
                               403: (DEGRADED, "refuses RASA_TOKEN (staff hand-back fails)")})


def action_server_probe(monitor: HealthMonitor, action_server_url: str) -> Probe:
    base = action_server_url.rstrip("/")
    if base.endswith("/webhook"):
        base = base[: -len("/webhook")]
    return monitor.http_probe(f"{base}/health")


def database_probe(factory, backlog_size: Callable[[], int]) -> Probe:
    """SELECT 1; while transcript lines still wait for the database, degraded."""
    from sqlalchemy import text

    running: Dict[str, asyncio.Future] = {}

    def select_one() -> None:
        with factory() as session:
            session.execute(text("SELECT 1"))

    async def probe() -> Tuple[str, str]:
        # A hung database holds its thread: never start a second probe behind the first.
        if "select" not in running or running["select"].done():
            running["select"] = asyncio.ensure_future(asyncio.to_thread(select_one))
        try:
            await asyncio.wait_for(asyncio.shield(running["select"]), timeout=3)
        except asyncio.TimeoutError:
            return DOWN, "no answer"
        except Exception:
            return DOWN, "unreachable"
        waiting = backlog_size()
        if waiting:
            return DEGRADED, f"{waiting} transcript line(s) still waiting to be written"
        return OK, ""

    return probe


def redis_probe(url: str) -> Probe:
    import redis.asyncio as redis

    client = redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    async def probe() -> Tuple[str, str]:
        try:
            await client.ping()
        except (redis.RedisError, OSError, asyncio.TimeoutError):
            return DOWN, "unreachable (staff replies reach only this instance's chats)"
        return OK, ""

    return probe


def standard_monitor(env, rasa_url: Union[str, Sequence[str]], factory=None, core=None,
                     redis_url: Optional[str] = None) -> HealthMonitor:
    """The gateway's parts: each Rasa instance ("rasa", "rasa-2", ... as `make run` names them), the action
    server, the database and Redis when configured."""
    from bot.config import decimal_number
    from bot.rasa_endpoints import build_endpoints
    from bot.rasa_instances import instance_names, url_list

    monitor = HealthMonitor(every=decimal_number("HOTRO_HEALTH_EVERY", env.get("HOTRO_HEALTH_EVERY") or 2.0, minimum=0.1))
    urls = url_list(rasa_url)
    for name, url in zip(instance_names(len(urls)), urls):
        monitor.probes[name] = rasa_probe(monitor, url, env.get("RASA_TOKEN", ""))
    monitor.probes["action_server"] = action_server_probe(monitor, build_endpoints(env)["action_endpoint"]["url"])
    if factory is not None:
        monitor.probes["database"] = database_probe(factory, (lambda: len(core.backlog)) if core else (lambda: 0))
    if redis_url:
        monitor.probes["redis"] = redis_probe(redis_url)
    return monitor


HEALTH = web.AppKey("health", HealthMonitor)


def add_health(app: web.Application, monitor: Optional[HealthMonitor] = None) -> None:
    monitor = monitor or HealthMonitor()
    app[HEALTH] = monitor
    app.on_startup.append(monitor.start)
    app.on_cleanup.append(monitor.stop)

    async def health(request: web.Request) -> web.Response:
        return web.json_response(request.app[HEALTH].report())

    app.router.add_get("/health", health)
