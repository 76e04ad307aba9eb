"""Several gateway instances: a staff reply made on one reaches the customer's socket on another (real Redis)."""
import asyncio
import os
import socket
import uuid

import aiohttp
import pytest

from tests.serving import gateway_app, serve, web_chat, widget_socket
from bot.services.conversations import ConversationService
from bot.services.staff import StaffService

REDIS_URL = os.environ.get("HOTRO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            assert conn.recv(16).startswith(b"+PONG")
    except (OSError, AssertionError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI and is not reachable: {exc}")
        pytest.skip(f"Redis not reachable: {exc}")
    return REDIS_URL


def _run(db_factory, redis_urls, scenario):
    async def main():
        runners = []
        try:
            bases = []
            for url in redis_urls:
                runner, base = await serve(gateway_app(db_factory, redis_url=url))
                runners.append(runner)
                bases.append(base)
            async with aiohttp.ClientSession() as session:
                return await scenario(session, *bases)
        finally:
            for runner in runners:
                await runner.cleanup()

    return asyncio.run(asyncio.wait_for(main(), 60))


def _claimed(db_factory, sender):
    web_chat(db_factory, sender)
    ConversationService(db_factory).record(sender, "customer", "cho tôi gặp nhân viên")
    StaffService(db_factory).add("lan", "correct horse battery", "Lan")
    ConversationService(db_factory).set_owner(sender, "agent", "lan")
    return {"Authorization": "Bearer " + StaffService(db_factory).issue_token("lan")}


async def _reply_elsewhere(session, socket_base, api_base, sender, auth, text):
    async with widget_socket(session, socket_base, sender, f"secret-of-{sender}") as ws:
        await ws.receive_json(timeout=5)  # history
        async with session.post(f"{api_base}/api/conversations/{sender}/messages", json={"text": text},
                                headers=auth) as response:
            assert response.status == 201
        try:
            return await ws.receive_json(timeout=5)
        except asyncio.TimeoutError:
            return None


def test_a_reply_on_one_instance_reaches_a_socket_on_another(db_factory, redis_url):
    sender = "web-fan-" + uuid.uuid4().hex[:8]
    auth = _claimed(db_factory, sender)

    async def scenario(session, first, second):
        return await _reply_elsewhere(session, second, first, sender, auth, "Chào chị, em là Lan")

    message = _run(db_factory, [redis_url, redis_url], scenario)
    assert message == {"type": "message", "author": "staff", "name": "Lan", "text": "Chào chị, em là Lan", "buttons": []}


def test_without_redis_instances_do_not_share_sockets(db_factory):
    """The same two instances without the fan-out: the reply is stored but the other instance's socket never sees it."""
    sender = "web-fan-" + uuid.uuid4().hex[:8]
    auth = _claimed(db_factory, sender)

    async def scenario(session, first, second):
        return await _reply_elsewhere(session, second, first, sender, auth, "Chào chị")

    assert _run(db_factory, [None, None], scenario) is None
    assert ConversationService(db_factory).transcript(sender)[-1].text == "Chào chị"


def test_redis_down_still_delivers_on_the_same_instance(db_factory):
    sender = "web-fan-" + uuid.uuid4().hex[:8]
    auth = _claimed(db_factory, sender)

    async def scenario(session, only):
        return await _reply_elsewhere(session, only, only, sender, auth, "Em vẫn ở đây")

    message = _run(db_factory, ["redis://127.0.0.1:9/0"], scenario)  # nothing listens on port 9
    assert message is not None and message["text"] == "Em vẫn ở đây"
