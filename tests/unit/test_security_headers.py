"""Security headers on everything the gateway serves, read over real HTTP."""
import asyncio
import base64
import hashlib
import re

import aiohttp
import pytest
from aiohttp import web

from bot.gateway.app import STATIC
from bot.services.staff import StaffService
from tests.serving import gateway_app, serve

PASSWORD = "correct horse battery"


def fetch_all(factory, requests):
    async def main():
        runner, base = await serve(gateway_app(factory))
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
                async with session.post(base + "/desk/login", data={"name": "lan", "password": PASSWORD}) as r:
                    assert r.status == 200  # followed to the desk
                got = []
                for method, path, kwargs in requests:
                    async with session.request(method, base + path, allow_redirects=False, **kwargs) as response:
                        await response.read()
                        got.append((path, response))
                return got
        finally:
            await runner.cleanup()

    return asyncio.run(main())


def test_every_response_has_nosniff_a_referrer_policy_and_html_a_policy_against_framing(db_factory):
    StaffService(db_factory).add("lan", PASSWORD)
    token = StaffService(db_factory).issue_token("lan")
    bearer = {"headers": {"Authorization": f"Bearer {token}"}}
    got = fetch_all(db_factory, [
        ("GET", "/", {}), ("GET", "/widget.js", {}), ("GET", "/desk", {}), ("GET", "/desk/login", {}),
        ("GET", "/desk/desk.js", {}), ("GET", "/desk/desk.css", {}), ("GET", "/health", {}),
        ("GET", "/api/me", bearer), ("GET", "/api/me", {"headers": {"Authorization": "Bearer forged"}}),
        ("GET", "/api/openapi.yaml", {}), ("GET", "/api/tickets", bearer), ("GET", "/no-such-page", {}),
        ("POST", "/webhooks/rest/webhook", {"data": b"not json"}), ("GET", "/ws", {}),
    ])
    for path, response in got:
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path
        assert response.headers.get("Referrer-Policy") == "same-origin", path
        if response.content_type == "text/html":
            csp = response.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
            assert response.headers["X-Frame-Options"] == "DENY"
    statuses = {path: response.status for path, response in got}
    assert (statuses["/desk"], statuses["/no-such-page"], statuses["/webhooks/rest/webhook"]) == (200, 404, 400)
    assert {path for path, r in got if r.content_type == "text/html"} == {"/", "/desk", "/desk/login"}


def test_the_desk_allows_scripts_and_styles_from_itself_only(db_factory):
    StaffService(db_factory).add("lan", PASSWORD)
    got = fetch_all(db_factory, [("GET", "/desk", {}), ("GET", "/desk/login", {})])
    for _path, response in got:
        policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
        assert policy["default-src"] == "'self'" and response.headers["Cache-Control"] == "no-store"


def test_the_shop_page_allows_its_own_inline_configuration_and_nothing_else_inline(db_factory):
    StaffService(db_factory).add("lan", PASSWORD)
    [(_path, response)] = fetch_all(db_factory, [("GET", "/", {})])
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    [inline] = re.findall(r"<script>(.*?)</script>", (STATIC / "index.html").read_text(encoding="utf-8"), re.S)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert policy["script-src"] == f"'self' 'sha256-{digest}'"  # no 'unsafe-inline' for scripts
    assert "blob:" in policy["img-src"]  # the widget previews a photo before it is sent


def test_the_widget_script_is_javascript_in_utf8(db_factory):
    StaffService(db_factory).add("lan", PASSWORD)
    [(_path, response)] = fetch_all(db_factory, [("GET", "/widget.js", {})])
    assert response.content_type in ("text/javascript", "application/javascript")
    assert response.charset == "utf-8"  # its Vietnamese labels, on a shop page in another encoding


def test_the_staff_api_is_never_cached(db_factory):
    StaffService(db_factory).add("lan", PASSWORD)
    token = StaffService(db_factory).issue_token("lan")
    got = fetch_all(db_factory, [
        ("GET", "/api/conversations", {"headers": {"Authorization": f"Bearer {token}"}}),
        ("GET", "/api/conversations", {}),  # with the desk's cookie
        ("GET", "/api/tickets", {"headers": {"Authorization": "Bearer forged"}}),
        ("GET", "/api/openapi.yaml", {}),
        ("GET", "/api/nothing-here", {"headers": {"Authorization": f"Bearer {token}"}}),
    ])
    assert [r.status for _path, r in got] == [200, 200, 401, 200, 404]
    assert all(r.headers.get("Cache-Control") == "no-store" for _path, r in got)


@pytest.mark.parametrize("raw", [None, "text/html", "TEXT/HTML; charset=UTF-8", "application/json; charset=utf-8",
                                 "text/css;charset=\"iso-8859-1\"", "nonsense", "", "image/png; name=a.png",
                                 "text/javascript ; charset=utf-8 ; x=1"])
def test_content_types_are_read_as_aiohttp_reads_them(raw):
    from bot.gateway.security_headers import _media_type

    response = web.Response()
    if raw is None:
        response.headers.pop("Content-Type", None)
    else:
        response.headers["Content-Type"] = raw
    assert _media_type(raw) == (response.content_type, response.charset)
