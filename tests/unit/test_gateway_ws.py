"""The widget's connection: a chat opened with its secret, history, answers, staff replies pushed live."""
import asyncio

import aiohttp

from bot.channels.common import APOLOGY
from bot.services.conversations import ConversationService
from bot.services.staff import StaffService
from tests.serving import gateway_app, serve, web_chat, widget_socket


def _run(db_factory, scenario, **options):
    async def main():
        runner, base = await serve(gateway_app(db_factory, **options))  # Rasa unreachable: the apology
        try:
            async with aiohttp.ClientSession() as session:
                return await scenario(session, base)
        finally:
            await runner.cleanup()

    return asyncio.run(main())


def test_websocket_history_replies_and_live_staff_messages(db_factory):
    conversations = ConversationService(db_factory)
    secret = web_chat(db_factory, "web-7")
    conversations.record("web-7", "customer", "tin nhắn cũ")
    StaffService(db_factory).add("lan", "correct horse battery", "Lan")
    token = StaffService(db_factory).issue_token("lan")
    auth = {"Authorization": f"Bearer {token}"}

    async def scenario(session, base):
        async with widget_socket(session, base, "web-7", secret) as ws:
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
            await ws.send_json({"type": "message", "text": "lone \ud800 surrogate"})
            surrogate = await ws.receive_json(timeout=5)
            await ws.send_json({"type": "message", "text": "vẫn còn đây"})
            await session.post(f"{base}/api/conversations/web-7/messages", headers=auth, json={"text": "Dạ"})
            still_open = await ws.receive_json(timeout=5)
        return history, answer, posted, staff_message, error, surrogate, still_open

    history, answer, posted, staff_message, error, surrogate, still_open = _run(db_factory, scenario)
    assert history == {"type": "history", "sender": "web-7", "messages": [
        {"author": "customer", "name": None, "text": "tin nhắn cũ", "buttons": []}]}
    assert answer["author"] == "bot" and answer["text"] == APOLOGY
    assert posted == {"ok": True, "delivered_live": True}
    assert staff_message == {"type": "message", "author": "staff", "name": "Lan", "text": "Chào chị, em là Lan",
                             "buttons": []}
    assert error["type"] == "error" and surrogate["type"] == "error" and "Unicode" in surrogate["error"]
    assert still_open["text"] == "Dạ"  # a bad frame does not drop the chat
    customer_lines = [l.text for l in conversations.transcript("web-7") if l.author_type == "customer"]
    assert customer_lines == ["tin nhắn cũ", "xin chào", "cho gặp người thật", "vẫn còn đây"]


def test_a_chat_cannot_be_opened_with_its_id_alone(db_factory):
    """Knowing a conversation id (web or Telegram) gives neither its history nor a way to write into it."""
    conversations = ConversationService(db_factory)
    web_chat(db_factory, "web-victim")
    conversations.record("web-victim", "customer", "số điện thoại của tôi là 0912345678")
    conversations.record("tg-4242", "customer", "email: lan@example.com")

    async def attempt(session, base, sender, secret):
        async with widget_socket(session, base, sender, secret) as ws:
            first = await ws.receive_json(timeout=5)
            await ws.send_json({"type": "message", "text": "hủy"})
            closing = await ws.receive(timeout=5)
            return first, closing.type

    async def scenario(session, base):
        return [await attempt(session, base, s, secret) for s, secret in (
            ("web-victim", "guessed"), ("web-victim", ""), ("tg-4242", "x"), ("web-unknown", "secret-of-web-unknown"))]

    for first, closing in _run(db_factory, scenario):
        assert first == {"type": "error", "error": "unknown conversation or wrong secret", "code": "forbidden"}
        assert closing in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert [l.text for l in conversations.transcript("web-victim")] == ["số điện thoại của tôi là 0912345678"]


def test_a_new_chat_gets_an_unguessable_id_and_a_secret_that_opens_it(db_factory):
    async def scenario(session, base):
        async with session.post(f"{base}/conversations", data={"language": "en"}) as response:
            first = response.status, await response.json()
        async with session.post(f"{base}/conversations") as response:
            second = await response.json()
        sender, secret = first[1]["sender"], first[1]["secret"]
        async with widget_socket(session, base, sender, secret) as ws:
            history = await ws.receive_json(timeout=5)
        async with session.post(f"{base}/conversations", headers={"Origin": "https://evil.example"}) as response:
            foreign = response.status
        async with session.post(f"{base}/conversations", headers={"Origin": "https://shop.example.vn"}) as response:
            shop = response.status, response.headers.get("Access-Control-Allow-Origin")
        return first[0], sender, secret, second, history, foreign, shop

    status, sender, secret, second, history, foreign, shop = _run(
        db_factory, scenario, origins=frozenset({"https://shop.example.vn"}))
    assert status == 201 and sender.startswith("web-") and len(sender) >= 24 and len(secret) >= 40
    assert second["sender"] != sender and second["secret"] != secret
    assert history == {"type": "history", "sender": sender, "messages": []}
    assert foreign == 403 and shop == (201, "https://shop.example.vn")
    conversations = ConversationService(db_factory)
    assert conversations.secret_hash(sender) not in (None, secret)  # only a hash is stored


def test_a_page_of_another_site_cannot_open_the_widgets_socket(db_factory):
    async def scenario(session, base):
        try:
            async with session.ws_connect(f"{base}/ws", headers={"Origin": "https://evil.example"}):
                return "opened"
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status

    assert _run(db_factory, scenario, origins=frozenset({"https://shop.example.vn"})) == 403


def test_a_second_tab_sees_the_customers_message_and_the_answer(db_factory):
    secret = web_chat(db_factory, "web-tabs")

    async def scenario(session, base):
        async with widget_socket(session, base, "web-tabs", secret) as first, \
                widget_socket(session, base, "web-tabs", secret) as second:
            await first.receive_json(timeout=5)
            await second.receive_json(timeout=5)
            await first.send_json({"type": "message", "text": "đơn của tôi đâu"})
            seen_by_second = [await second.receive_json(timeout=10) for _ in range(2)]
            seen_by_first = await first.receive_json(timeout=10)
            return seen_by_first, seen_by_second

    seen_by_first, seen_by_second = _run(db_factory, scenario)
    assert [(m["author"], m["text"]) for m in seen_by_second] == [("customer", "đơn của tôi đâu"), ("bot", APOLOGY)]
    assert (seen_by_first["author"], seen_by_first["text"]) == ("bot", APOLOGY)  # no echo to the tab that sent it
