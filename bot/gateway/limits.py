"""The gateway's per-client limits: who the client is, and what it is told when it is over a limit.

What is limited, per client (bot/ratelimit.py has the defaults; README, "Limits"):
- customer messages, over the REST webhook and the widget's socket together;
- new conversations: POST /conversations, and a REST sender id never seen before
  (so a fresh sender id is no way around the message limit's purpose);
- uploads (and, for every client together, the upload folder's size: UploadStore).
Handoffs and tickets are limited where they are made, in the action server
(bot/services/handoff_quota.py), per the client key the gateway puts in the
metadata it sends Rasa: the gateway sets it, a client cannot (core._metadata).

A client is its IP address (client_address: X-Forwarded-For only from our own
proxies), an IPv6 address by its /64, kept as a keyed hash: the key lands in
Redis and in Rasa's tracker store, where an address would be personal data.

Refused means refused and not recorded: REST and uploads get 429 with
Retry-After, the widget's socket an error frame (and stays open); the client
sends it again later. Recording a flood would fill the transcript it is meant
to protect.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
from typing import Mapping, Optional

from aiohttp import web

from bot.gateway.client_address import client_address, parse_trusted
from bot.ratelimit import LimitSettings, Limiter, MemoryLimiter, Verdict, make_limiter, refusal


def client_key(address: str, salt: str = "") -> str:
    """A short keyed hash naming the client; an IPv6 address counts by its /64 (one subscriber's network)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        parsed = None
    if isinstance(parsed, ipaddress.IPv6Address):
        address = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return hashlib.sha256(f"{salt}|{address}".encode()).hexdigest()[:24]


def request_language(request: web.BaseRequest, explicit: Optional[str] = None) -> str:
    """The language to refuse in: the one the client gave, else the browser's first, else Vietnamese."""
    if explicit in ("vi", "en"):
        return explicit
    first = request.headers.get("Accept-Language", "").split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "vi"


class GatewayLimits:
    def __init__(self, settings: LimitSettings = LimitSettings(), limiter: Optional[Limiter] = None,
                 trusted_proxies=(), salt: str = ""):
        """`salt`: the same on every instance (HOTRO_GATEWAY_SECRET), so that they count the same client as one."""
        self.settings = settings
        self.limiter = limiter or MemoryLimiter()
        self.trusted_proxies = tuple(trusted_proxies)
        self._salt = salt

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "GatewayLimits":
        """Every setting read and checked once, at start: a wrong value stops the gateway with its name."""
        return cls(LimitSettings.from_env(env), make_limiter(env.get("HOTRO_REDIS_URL") or None),
                   parse_trusted(env.get("HOTRO_TRUSTED_PROXIES", "")), env.get("HOTRO_GATEWAY_SECRET", ""))

    def client(self, request: web.BaseRequest) -> str:
        return client_key(client_address(request, self.trusted_proxies), self._salt)

    async def check(self, client: str, kind: str) -> Verdict:
        """Count one `kind` (messages, conversations, uploads) for `client`; refused ones are not counted."""
        return await self.limiter.hit(f"{kind}:{client}", getattr(self.settings, kind))

    async def refusal(self, request: web.BaseRequest, client: str, kind: str, language: Optional[str] = None,
                      headers: Optional[Mapping[str, str]] = None) -> Optional[web.Response]:
        """None when `client` may go on; otherwise the 429 to answer with (test it against None: a Response is falsy)."""
        verdict = await self.check(client, kind)
        if verdict.allowed:
            return None
        return too_many(verdict, refusal(kind, request_language(request, language), verdict.retry_after), headers)

    async def close(self, _app: Optional[web.Application] = None) -> None:
        await self.limiter.close()


def too_many(verdict: Verdict, message: str, headers: Optional[Mapping[str, str]] = None) -> web.Response:
    headers = dict(headers or {}, **{"Retry-After": str(verdict.retry_after)})
    if "Access-Control-Allow-Origin" in headers:  # the widget on a shop's own site may read when to try again
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    return web.json_response({"error": message}, status=429, headers=headers)
