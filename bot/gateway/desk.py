"""The support desk page (`/desk`): login, then a single page that works through the `/api` routes.

Logins are desk sessions (bot/services/staff.py): an HttpOnly, SameSite=Strict
cookie that expires after a shift without activity. The page gets the
session's CSRF token in a meta tag and sends it with every change.
"""
from __future__ import annotations

import asyncio
import hmac
import html
from pathlib import Path

from aiohttp import web

from bot.config import Settings
from bot.gateway.api import CORE, SESSION_COOKIE, STAFF, session_cookie
from bot.gateway.client_address import TRUSTED_PROXIES, client_address, parse_trusted
from bot.gateway.inputs import credential, form_text, json_error, read_form
from bot.gateway.security_headers import PAGE_CSP
from bot.services.roles import PERMISSIONS
from bot.services.staff import SESSION_IDLE, LoginThrottled, csrf_token

STATIC = Path(__file__).resolve().parent / "static"


def _page(page: str, **values: str) -> web.Response:
    text = (STATIC / page).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return web.Response(text=text, content_type="text/html", charset="utf-8",
                        headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"})


async def desk(request: web.Request) -> web.StreamResponse:
    session = session_cookie(request)
    staff = await asyncio.to_thread(request.app[STAFF].by_session, session)
    if staff is None:
        raise web.HTTPFound("/desk/login")
    permissions = ",".join(p for p in PERMISSIONS if staff.can(p))
    return _page("desk.html", csrf=csrf_token(session), name=staff.name, display_name=staff.display_name,
                 permissions=permissions)


async def login_form(request: web.Request) -> web.Response:
    error = {"wrong": "Sai tên đăng nhập hoặc mật khẩu. / Wrong name or password.",
             "busy": "Quá nhiều lần thử, hãy đợi 15 phút. / Too many attempts: wait 15 minutes.",
             "expired": "Phiên đăng nhập đã hết hạn. / Your session has expired."}.get(request.query.get("e", ""), "")
    return _page("desk-login.html", error=error)


def _same_origin(request: web.Request) -> bool:
    """Browsers send Origin with a form POST; another site's form must not log staff in or out."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser form (curl, scripts)
    host = request.headers.get("X-Forwarded-Host") or request.host
    return origin.split("://", 1)[-1] == host


async def login(request: web.Request) -> web.StreamResponse:
    if not _same_origin(request):
        return json_error(403, "cross-site login refused")
    form = await read_form(request)
    name, password = form_text(form, "name").strip(), form_text(form, "password")
    address = client_address(request, request.app[TRUSTED_PROXIES])
    try:
        # Limits per account and per address, counted whether or not the name exists (bot/services/login_throttle.py).
        started = await asyncio.to_thread(request.app[STAFF].start_session, name, password, address)
    except LoginThrottled:
        raise web.HTTPSeeOther("/desk/login?e=busy")
    if started is None:
        raise web.HTTPSeeOther("/desk/login?e=wrong")
    token, _staff = started
    await request.app[CORE].assign_waiting()  # logging in is coming online: waiting chats may be theirs now
    response = web.HTTPSeeOther("/desk")
    secure = request.secure or request.headers.get("X-Forwarded-Proto") == "https"
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/",
                        max_age=int(SESSION_IDLE.total_seconds()))
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    session = session_cookie(request)
    sent = credential((await read_form(request)).get("csrf"))
    if not session or not sent or not hmac.compare_digest(sent, csrf_token(session)):
        return json_error(403, "missing or wrong CSRF token")
    await asyncio.to_thread(request.app[STAFF].end_session, session)
    response = web.HTTPSeeOther("/desk/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def _static(name: str, content_type: str):
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(body=(STATIC / name).read_bytes(), content_type=content_type, charset="utf-8",
                            headers={"Cache-Control": "no-cache"})

    return handler


def add_desk(app: web.Application) -> None:
    if TRUSTED_PROXIES not in app:
        app[TRUSTED_PROXIES] = parse_trusted(Settings.from_env().trusted_proxies)
    app.router.add_get("/desk", desk)
    app.router.add_get("/desk/login", login_form)
    app.router.add_post("/desk/login", login)
    app.router.add_post("/desk/logout", logout)
    app.router.add_get("/desk/desk.js", _static("desk.js", "application/javascript"))
    app.router.add_get("/desk/desk-faq.js", _static("desk-faq.js", "application/javascript"))
    app.router.add_get("/desk/desk-admin.js", _static("desk-admin.js", "application/javascript"))
    app.router.add_get("/desk/desk-live.js", _static("desk-live.js", "application/javascript"))
    app.router.add_get("/desk/desk-figures.js", _static("desk-figures.js", "application/javascript"))
    app.router.add_get("/desk/desk.css", _static("desk.css", "text/css"))
    app.router.add_get("/desk/desk-live.css", _static("desk-live.css", "text/css"))
