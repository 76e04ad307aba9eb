"""Security headers on every response the gateway sends.

Set in aiohttp's on_response_prepare signal rather than in a middleware: it runs for every
response just before its headers go out, including the ones a middleware never gets to change
(a 404 for an unknown path, a 500, a file or a stream a handler has already started).

- `X-Content-Type-Options: nosniff` everywhere: a browser never runs as script or page what
  we sent as something else (a customer's upload, a JSON error).
- `Referrer-Policy: same-origin`: no address of ours goes to another site. Not `no-referrer`:
  with it browsers send `Origin: null` on form posts, and the desk login refuses a post whose
  Origin is not its own (bot/gateway/desk.py).
- A Content-Security-Policy on every HTML page (a handler may set a stricter one), framing
  refused: nobody can overlay our pages to trick a click.
- `Cache-Control: no-store` on the staff API: customer data must not stay in a shared
  computer's cache or a proxy. A response that chose its own caching keeps it.
"""
from __future__ import annotations

import base64
import hashlib
import re
from email.parser import HeaderParser
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional, Tuple

from aiohttp import hdrs, web

STATIC = Path(__file__).resolve().parent / "static"

_STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
}


def content_security_policy(**directives: str) -> str:
    """The strict policy (scripts, styles and connections from this origin only), with `directives` replaced."""
    policy = dict(_STRICT, **{name.replace("_", "-"): value for name, value in directives.items()})
    return "; ".join(f"{name} {value}" for name, value in policy.items())


# The desk and any page without a policy of its own.
PAGE_CSP = content_security_policy()


@lru_cache(maxsize=1)
def shop_page_csp() -> str:
    """The demo shop page (`/`): its inline configuration script by hash, the widget's injected stylesheet,
    and the customer's own photo previews (blob: URLs)."""
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    )
    return content_security_policy(script_src=f"'self' {hashes}".strip(), style_src="'self' 'unsafe-inline'",
                                   img_src="'self' data: blob:")


ALWAYS: Dict[str, str] = {"X-Content-Type-Options": "nosniff"}
DEFAULTS: Dict[str, str] = {"Referrer-Policy": "same-origin"}
TEXT_TYPES = ("text/html", "text/css", "text/javascript", "application/javascript")


@lru_cache(maxsize=64)
def _media_type(raw: Optional[str]) -> Tuple[str, Optional[str]]:
    """(type, charset) of a Content-Type header, as aiohttp reads it (response.content_type, .charset).

    aiohttp runs the e-mail header parser on every response for that: a twentieth of the gateway's CPU per
    customer message. Our handlers send a handful of distinct headers, so each is parsed once.
    """
    if raw is None:
        return "application/octet-stream", None
    header = HeaderParser().parsestr("Content-Type: " + raw)
    return header.get_content_type(), dict(header.get_params(())[1:]).get("charset")


async def _add_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.update(ALWAYS)
    for name, value in DEFAULTS.items():
        headers.setdefault(name, value)
    content_type, charset = _media_type(headers.get(hdrs.CONTENT_TYPE))
    if content_type in TEXT_TYPES and charset is None:
        # Our pages and scripts are UTF-8; a shop page in another encoding would garble the widget's Vietnamese.
        response.charset = "utf-8"
    if content_type == "text/html":
        headers.setdefault("Content-Security-Policy", shop_page_csp() if request.path == "/" else PAGE_CSP)
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for browsers without CSP 2
    if request.path == "/api" or request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")


def add_security_headers(app: web.Application) -> None:
    app.on_response_prepare.append(_add_headers)
