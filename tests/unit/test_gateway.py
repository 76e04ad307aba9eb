"""The gateway app on a real HTTP port, with Rasa unreachable."""
import asyncio
import json

import aiohttp
from aiohttp import web

from bot.channels.common import APOLOGY
from bot.gateway.app import create_app
from bot.runner import free_port
from bot.services.conversations import ConversationService


async def _exchange(app, requests):
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    results = []
    try:
        async with aiohttp.ClientSession() as session:
            for body in requests:
                async with session.post(f"http://127.0.0.1:{port}/webhooks/rest/webhook", data=body) as response:
                    results.append((response.status, await response.json()))
    finally:
        await runner.cleanup()
    return results


def test_rasa_down_gets_an_apology_and_the_message_is_kept(db_factory):
    conversations = ConversationService(db_factory)
    app = create_app(conversations, "http://127.0.0.1:9")
    [(status, replies)] = asyncio.run(_exchange(app, [json.dumps({"sender": "s1", "message": "xin chào"})]))
    assert status == 200 and replies[0]["text"] == APOLOGY
    assert [line.author_type for line in conversations.transcript("s1")] == ["customer", "bot"]


def test_bad_requests_are_refused_clearly(db_factory):
    app = create_app(ConversationService(db_factory), "http://127.0.0.1:9")
    results = asyncio.run(_exchange(app, [
        "not json", json.dumps({"message": "hi"}), json.dumps({"sender": "x" * 200, "message": "hi"}),
        json.dumps({"sender": "s", "message": 5}),
        # A Telegram customer's conversation id: a REST client must not write into (or read) their chat.
        json.dumps({"sender": "tg-123456", "message": "hi"}),
    ]))
    assert [status for status, _ in results] == [400, 400, 400, 400, 400]
    assert "sender" in results[1][1]["error"] and "tg-" in results[4][1]["error"]
