"""The widget's WebSocket: history on connect, answers, and staff replies pushed live."""
import asyncio

import aiohttp
from aiohttp import web

from bot.channels.common import APOLOGY
from bot.gateway.app import create_app
from bot.runner import free_port
from bot.services.conversations import ConversationService
from bot.services.staff import StaffService


def test_websocket_history_replies_and_live_staff_messages(db_factory):
    conversations = ConversationService(db_factory)
    conversations.record("web-7", "customer", "tin nhắn cũ")
    StaffService(db_factory).add("lan", "correct horse battery", "Lan")
    token = StaffService(db_factory).issue_token("lan")

    async def main():
        app = create_app(conversations, "http://127.0.0.1:9", db_factory)  # Rasa unreachable
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {token}"}
        try:
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(f"{base}/ws?sender=web-7") as ws:
                    history = await ws.receive_json(timeout=5)
                    await ws.send_json({"type": "message", "text": "xin chào"})
                    answer = await ws.receive_json(timeout=10)
                    await session.post(f"{base}/api/conversations/web-7/claim", headers=auth)
                    await ws.send_json({"type": "message", "text": "cho gặp người thật"})
                    async with session.post(f"{base}/api/conversations/web-7/messages", headers=auth,
                                            json={"text": "Chào chị, em là Lan"}) as response:
                        posted = await response.json()
                    staff_message = await ws.receive_json(timeout=5)
                    await ws.send_str("not json")
                    error = await ws.receive_json(timeout=5)
                async with session.ws_connect(f"{base}/ws?sender=" + "x" * 300) as bad:
                    refused = bad.closed
        except aiohttp.WSServerHandshakeError as exc:
            refused = exc.status
        finally:
            await runner.cleanup()
        return history, answer, posted, staff_message, error, refused

    history, answer, posted, staff_message, error, refused = asyncio.run(main())
    assert history == {"type": "history", "messages": [
        {"author": "customer", "name": None, "text": "tin nhắn cũ", "buttons": []}]}
    assert answer["author"] == "bot" and answer["text"] == APOLOGY
    assert posted == {"ok": True, "delivered_live": True}
    assert staff_message == {"type": "message", "author": "staff", "name": "Lan", "text": "Chào chị, em là Lan",
                             "buttons": []}
    assert error["type"] == "error"
    assert refused == 400
    customer_lines = [l.text for l in conversations.transcript("web-7") if l.author_type == "customer"]
    assert customer_lines == ["tin nhắn cũ", "xin chào", "cho gặp người thật"]


def test_a_telegram_conversation_cannot_be_opened_from_the_web(db_factory):
    conversations = ConversationService(db_factory)
    conversations.record("tg-4242", "customer", "số điện thoại của tôi là 0912345678")

    async def main():
        runner = web.AppRunner(create_app(conversations, "http://127.0.0.1:9", db_factory))
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(f"http://127.0.0.1:{port}/ws?sender=tg-4242"):
                    return "connected"
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status
        finally:
            await runner.cleanup()

    assert asyncio.run(main()) == 400


def test_a_second_tab_sees_the_customers_message_and_the_answer(db_factory):
    conversations = ConversationService(db_factory)

    async def main():
        runner = web.AppRunner(create_app(conversations, "http://127.0.0.1:9", db_factory))  # Rasa down: apology
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with aiohttp.ClientSession() as session:
                url = f"http://127.0.0.1:{port}/ws?sender=web-tabs"
                async with session.ws_connect(url) as first, session.ws_connect(url) as second:
                    await first.receive_json(timeout=5)
                    await second.receive_json(timeout=5)
                    await first.send_json({"type": "message", "text": "đơn của tôi đâu"})
                    seen_by_second = [await second.receive_json(timeout=10) for _ in range(2)]
                    seen_by_first = await first.receive_json(timeout=10)
                    return seen_by_first, seen_by_second
        finally:
            await runner.cleanup()

    seen_by_first, seen_by_second = asyncio.run(main())
    assert [(m["author"], m["text"]) for m in seen_by_second] == [("customer", "đơn của tôi đâu"), ("bot", APOLOGY)]
    assert (seen_by_first["author"], seen_by_first["text"]) == ("bot", APOLOGY)  # no echo to the tab that sent it
