"""Rasa's REST channel and the action server answer only with their shared secrets."""
import asyncio

import aiohttp
import pytest
from sanic import Sanic

from bot.action_server import create_app as create_action_server
from bot.channels.rest import HotroRestInput
from bot.internal_auth import connect_host, internal_host, secret_ok
from tests.serving import serve_sanic

WEBHOOK_BODY = {"sender": "tg-123456", "message": "kiểm tra khiếu nại của tôi"}


def test_secret_check():
    assert secret_ok("s3cret", "s3cret")
    assert not secret_ok("s3cret", "s3cre")
    assert not secret_ok("s3cret", None)
    assert not secret_ok("", "")  # unset: nothing matches, not even an empty header
    assert not secret_ok("", None)


def test_internal_doors_listen_on_loopback_unless_opened_on_purpose():
    assert internal_host({}) == "127.0.0.1" == connect_host({})
    opened = {"HOTRO_INTERNAL_HOST": "0.0.0.0"}
    assert (internal_host(opened), connect_host(opened)) == ("0.0.0.0", "127.0.0.1")
    assert connect_host({"HOTRO_INTERNAL_HOST": "fd00::5"}) == "[fd00::5]"


@pytest.fixture(autouse=True)
def sanic_apps_by_the_same_name(monkeypatch):
    # rasa_sdk names every app "rasa_sdk"; Sanic refuses a second app of one name outside test mode.
    monkeypatch.setattr(Sanic, "test_mode", True)


async def _post(url, headers, body=None):
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=body if body is not None else WEBHOOK_BODY, headers=headers) as response:
            return response.status, await response.json()


def _rest_channel(reached):
    async def on_new_message(message):
        reached.append(message.sender_id)
        await message.output_channel.send_text_message(message.sender_id, "đã nhận")

    app = Sanic(f"rest-{len(Sanic._app_registry)}")
    app.blueprint(HotroRestInput().blueprint(on_new_message), url_prefix="/webhooks/rest")
    return app


@pytest.mark.parametrize("secret", ["gw-secret", ""])
def test_rasa_rest_channel_refuses_anyone_but_the_gateway(secret, monkeypatch, caplog):
    monkeypatch.setenv("HOTRO_GATEWAY_SECRET", secret)
    reached = []

    async def scenario():
        server, base = await serve_sanic(_rest_channel(reached))
        url = f"{base}/webhooks/rest/webhook"
        try:
            results = [await _post(url, headers) for headers in
                       ({}, {"X-Hotro-Gateway-Secret": "guess"}, {"X-Hotro-Gateway-Secret": ""},
                        {"X-Hotro-Gateway-Secret": "gw-secret"})]
        finally:
            server.close()
            await server.wait_closed()
        return results

    *refused, last = asyncio.run(scenario())
    assert [status for status, _ in refused] == [403, 403, 403]
    if secret:
        assert last == (200, [{"recipient_id": "tg-123456", "text": "đã nhận"}])
        assert reached == ["tg-123456"]
    else:
        assert last[0] == 403 and reached == []  # never open by default
        assert "HOTRO_GATEWAY_SECRET is not set" in caplog.text


def test_action_server_runs_actions_only_for_rasa():
    async def scenario():
        server, base = await serve_sanic(create_action_server("act-secret"))
        tracker = {"sender_id": "web-1", "slots": {"language": "vi"}, "events": [], "paused": False,
                   "latest_message": {"text": "I would like to file a complaint please", "intent": {}, "entities": []},
                   "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"}
        call = {"next_action": "action_cancel_form", "sender_id": "web-1", "tracker": tracker, "domain": {},
                "version": "3.6.21"}
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/health") as health:
                    health_status = health.status
                async with http.get(f"{base}/actions") as listing:
                    listing_status = listing.status
            forged = await _post(f"{base}/webhook", {}, call)
            wrong = await _post(f"{base}/webhook", {"X-Hotro-Action-Secret": "nope"}, call)
            ran = await _post(f"{base}/webhook", {"X-Hotro-Action-Secret": "act-secret"}, call)
        finally:
            server.close()
            await server.wait_closed()
        return health_status, listing_status, forged, wrong, ran

    health, listing, forged, wrong, ran = asyncio.run(scenario())
    assert (health, listing) == (200, 403)
    assert forged[0] == wrong[0] == 403 and "only Rasa" in forged[1]["error"]
    assert ran[0] == 200
    assert [r.get("response") for r in ran[1]["responses"]] == ["utter_complaint_cancelled"]
    assert {"event": "slot", "name": "ticket_code", "value": None, "timestamp": None} in ran[1]["events"]
