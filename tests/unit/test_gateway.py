"""The gateway's REST endpoint on a real HTTP port: Rasa's contract, and what a hostile client cannot do."""
import asyncio
import json

import aiohttp

from bot.channels.common import APOLOGY
from bot.services.conversations import ConversationService
from bot.gateway.limits import client_key
from tests.serving import FakeRasa, gateway_app, serve, web_chat

URL = "/webhooks/rest/webhook"


async def _exchange(app, requests, headers=None):
    runner, base = await serve(app)
    results = []
    try:
        async with aiohttp.ClientSession() as session:
            for body in requests:
                async with session.post(base + URL, data=body, headers=headers or {}) as response:
                    results.append((response.status, await response.json()))
    finally:
        await runner.cleanup()
    return results


def _exchange_with(db_factory, rasa, requests):
    """_exchange against a gateway in front of `rasa` (a FakeRasa), started and stopped here."""
    async def main():
        await rasa.start()
        try:
            return await _exchange(gateway_app(db_factory, rasa.url, with_staff=False), requests)
        finally:
            await rasa.stop()

    return asyncio.run(main())


def test_rasa_down_gets_an_apology_and_the_message_is_kept(db_factory):
    [(status, replies)] = asyncio.run(_exchange(gateway_app(db_factory, with_staff=False),
                                                [json.dumps({"sender": "s1", "message": "xin chào"})]))
    assert status == 200 and replies[0]["text"] == APOLOGY
    assert [line.author_type for line in ConversationService(db_factory).transcript("s1")] == ["customer", "bot"]


def test_bad_requests_are_refused_clearly(db_factory):
    app = gateway_app(db_factory, with_staff=False)
    results = asyncio.run(_exchange(app, [
        "not json", json.dumps({"message": "hi"}), json.dumps({"sender": "x" * 200, "message": "hi"}),
        json.dumps({"sender": "s", "message": 5}),
        # A Telegram customer's conversation id: a REST client must not write into (or read) their chat,
        # whatever the case or invisible characters it hides behind.
        json.dumps({"sender": "tg-123456", "message": "hi"}),
        json.dumps({"sender": "TG-123456", "message": "hi"}),
        json.dumps({"sender": "\u200btg-123456", "message": "hi"}),
        json.dumps({"sender": "s\ud800", "message": "hi"}),
        json.dumps({"sender": "s", "message": "hi \ud800"}),
        "[" * 5000 + "]" * 5000,
        json.dumps(["a list"]),
    ]))
    assert [status for status, _ in results] == [400] * 11
    assert "sender" in results[1][1]["error"] and "tg-" in results[4][1]["error"] and "tg-" in results[5][1]["error"]
    assert "Unicode" in results[8][1]["error"]
    assert ConversationService(db_factory).list() == []


def test_a_website_chat_cannot_be_written_with_its_id_alone(db_factory):
    secret = web_chat(db_factory, "web-victim")
    app = gateway_app(db_factory, with_staff=False)
    message = json.dumps({"sender": "web-victim", "message": "hủy"})
    refused = asyncio.run(_exchange(app, [message, json.dumps({"sender": "web-not-opened", "message": "hi"})]))
    wrong = asyncio.run(_exchange(gateway_app(db_factory, with_staff=False), [message],
                                  {"X-Conversation-Secret": "guess"}))
    right = asyncio.run(_exchange(gateway_app(db_factory, with_staff=False), [message],
                                  {"X-Conversation-Secret": secret}))
    assert [s for s, _ in refused] == [403, 403] and wrong[0][0] == 403 and right[0][0] == 200
    assert [line.text for line in ConversationService(db_factory).transcript("web-victim")] == ["hủy", APOLOGY]


def test_typed_intents_are_words_and_only_offered_buttons_are_payloads(db_factory):
    rasa = FakeRasa(lambda body: [{"recipient_id": body["sender"], "text": "Bạn chấm mấy điểm?",
                                   "buttons": [{"title": "5", "payload": '/rate{"rating":5}'}]}])

    _exchange_with(db_factory, rasa, [json.dumps({"sender": "khach", "message": m}) for m in (
        '/rate{"rating":1}',  # typed before any button was offered
        "xin chào",
        '/rate{"rating":5}',  # the button the bot just offered
        '  /handback  ',
        "/restart",
    )])
    assert [body["message"] for body in rasa.received] == [
        'rate{"rating":1}', "xin chào", '/rate{"rating":5}', "handback", "/restart"]
    # What the customer typed stays in the transcript as they typed it.
    assert ConversationService(db_factory).transcript("khach")[0].text == '/rate{"rating":1}'


def test_the_channel_and_client_told_to_rasa_are_the_gateways_own(db_factory):
    """The action server counts handoffs per `client`: a client that could name itself would never run out."""
    rasa = FakeRasa()

    _exchange_with(db_factory, rasa, [json.dumps({"sender": "khach", "message": "hi", "metadata": {
        "channel": "telegram", "language": "en", "client": "0" * 24, "injected": "x" * 100}})])
    assert rasa.received[0]["metadata"] == {"language": "en", "channel": "rest", "client": client_key("127.0.0.1")}


def test_a_message_over_the_limit_is_kept_for_staff_and_answered_without_rasa(db_factory):
    rasa = FakeRasa()

    (status_vi, replies_vi), (status_en, replies_en) = _exchange_with(db_factory, rasa, [
        json.dumps({"sender": "dai", "message": "hàng bị vỡ " * 20000}),
        json.dumps({"sender": "dai", "message": "long " * 1000, "metadata": {"language": "en"}}),
    ])
    assert status_vi == 200 and "dài quá 2000 ký tự" in replies_vi[0]["text"]
    assert status_en == 200 and "longer than 2000 characters" in replies_en[0]["text"]
    assert rasa.received == []
    transcript = ConversationService(db_factory).transcript("dai")
    assert transcript[0].text == "hàng bị vỡ " * 20000
    summary = ConversationService(db_factory).list()[0]
    assert len(summary.last_message) <= 300  # the desk's lists carry a preview, not the whole text
