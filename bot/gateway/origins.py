"""Which web pages may open a customer's chat from a browser.

A browser sends the page's Origin with every cross-site request and WebSocket
handshake; a page of another site must not be able to drive a customer's chat
in their browser. The gateway's own pages (the demo shop) are always allowed,
the shop's sites are listed in HOTRO_ALLOWED_ORIGINS. Requests without an
Origin do not come from a web page (curl, a shop's server): they still need the
conversation's secret, which is what protects a conversation.
"""
from __future__ import annotations

import os
from typing import FrozenSet, Mapping, Optional

from aiohttp import web


def allowed_origins(env: Mapping[str, str] = os.environ) -> FrozenSet[str]:
    raw = env.get("HOTRO_ALLOWED_ORIGINS", "")
    return frozenset(o.strip().rstrip("/").lower() for o in raw.split(",") if o.strip())


def origin_allowed(request: web.Request, allowed: FrozenSet[str]) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if not origin.isascii() or not origin.isprintable():
        # Browsers send origins in ASCII (punycode); anything else is not a page, and echoing it in
        # Access-Control-Allow-Origin would fail to encode (its bytes arrive as lone surrogates).
        return False
    origin = origin.strip().rstrip("/").lower()
    own = f"{request.scheme}://{request.host}".lower()
    return origin == own or origin in allowed


def cors_headers(request: web.Request, allowed: FrozenSet[str]) -> Mapping[str, str]:
    """Lets an allowed page read the answer (the widget may live on the shop's own site)."""
    origin: Optional[str] = request.headers.get("Origin")
    if origin is None or not origin_allowed(request, allowed):
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
