"""The Telegram channel in the gateway, against the fake Bot API and a stand-in for Rasa (no real Rasa needed)."""
import asyncio
import json
from datetime import datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from telegram import Bot

from bot import cli
from bot.channels.common import APOLOGY
from bot.channels.telegram.outbox import send_with_retry
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.setup import add_telegram
from bot.conversation.hub import Hub
from bot.gateway.app import CORE
from tests.serving import FakeRasa, gateway_app, serve
from bot.services import registry
from bot.services.conversations import ConversationService
from bot.services.staff import StaffError, StaffService
from bot.services.tickets import ComplaintSubmission, TicketService
from bot.services.customer_links import link_telegram_user
from bot.store.db import session_scope
from bot.store.models import Customer
from tests.fuzzing import request_bytes, send_raw
from tests.telegram_api import until

LONG_PAYLOAD = '/inform{"complaint_category":"refund_payment","order_number":"DH100001","note":"x"}'
STAFF_CHAT = -2002


def echo_with_a_long_button(body):
    """Rasa's answer here: an echo, with a button whose payload is too long for Telegram's callback data."""
    return [{"recipient_id": body["sender"], "text": f"echo {body['message']}",
             "buttons": [{"title": "Hoàn tiền", "payload": LONG_PAYLOAD}]}]


def run_gateway(factory, fake, scenario, **settings):
    async def main():
        rasa = await FakeRasa(echo_with_a_long_button).start()
        app = gateway_app(factory, rasa.url)
        options = dict(bot_token=fake.token, api_url=fake.url, poll_timeout=1, staff_scan_seconds=0.2)
        options.update(settings)
        channel = add_telegram(app, app[CORE], factory, TelegramSettings(**options))
        runner, url = await serve(app)
        try:
            await asyncio.wait_for(channel.ready.wait(), 10)
            return await scenario(channel, rasa, url)
        finally:
            await runner.cleanup()
            await rasa.stop()

    return asyncio.run(main())


def test_long_polling_passes_language_and_sends_replies_with_short_button_data(db_factory, fake_telegram):
    user = fake_telegram.user(501, "Ann", "en")

    async def scenario(channel, rasa, _url):
        fake_telegram.send_text(user, "hello there")
        [reply] = await until(lambda: fake_telegram.sent_to(501), what="the reply")
        return rasa.received, reply

    received, reply = run_gateway(db_factory, fake_telegram, scenario)
    assert received[-1] == {"sender": "tg-501", "message": "hello there",
                            "metadata": {"language": "en", "channel": "telegram"}}
    assert reply["text"] == "echo hello there"
    [[button]] = reply["reply_markup"]["inline_keyboard"]
    assert len(button["callback_data"].encode()) <= 64 and button["callback_data"] != "p" + LONG_PAYLOAD
    with session_scope(db_factory) as session:
        customer = session.execute(select(Customer).where(Customer.telegram_user_id == "501")).scalars().one()
        assert customer.name == "Ann"


def test_a_long_button_payload_survives_a_restart_of_the_gateway(db_factory, fake_telegram):
    user = fake_telegram.user(502, "Binh", "vi")

    async def first(channel, rasa, _url):
        fake_telegram.send_text(user, "xin chào")
        return (await until(lambda: fake_telegram.sent_to(502), what="the reply"))[0]

    sent = run_gateway(db_factory, fake_telegram, first)
    data = sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"]

    async def second(channel, rasa, _url):  # a new process: only the database remembers the payload
        query_id = fake_telegram.press(user, sent, data)
        await until(lambda: any(r["message"] == LONG_PAYLOAD for r in rasa.received), what="the payload")
        await until(lambda: fake_telegram.calls_to("answerCallbackQuery", callback_query_id=query_id), what="answer")
        return True

    assert run_gateway(db_factory, fake_telegram, second)
    customer_lines = [l.text for l in ConversationService(db_factory).transcript("tg-502") if l.author_type == "customer"]
    assert customer_lines == ["xin chào", LONG_PAYLOAD]


def test_webhook_mode_checks_the_secret_and_handles_an_update_once(db_factory, fake_telegram):
    user = fake_telegram.user(503, "Cuong", "vi")
    update = {"update_id": 90001, "message": {"message_id": 1, "date": 1700000000, "from": user,
                                              "chat": {"id": 503, "type": "private", "first_name": "Cuong"},
                                              "text": "đơn DH100001"}}

    async def scenario(channel, rasa, url):
        hook = f"{url}/tg/hook"
        async with aiohttp.ClientSession() as session:
            async with session.post(hook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as r:
                forged = r.status
            statuses = []
            for _ in range(2):  # Telegram re-sends when unsure it was delivered
                async with session.post(hook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as r:
                    statuses.append(r.status)
        await until(lambda: fake_telegram.sent_to(503), what="the reply")
        # A secret header that is not ASCII, and bodies json.loads cannot read: refusals, not 500s.
        port = int(url.rsplit(":", 1)[1])
        odd = [await send_raw(port, request_bytes(b"POST", b"/tg/hook", headers, body)) for headers, body in [
            ([(b"X-Telegram-Bot-Api-Secret-Token", b"s3cret\xff")], b"{}"),
            ([(b"X-Telegram-Bot-Api-Secret-Token", b"s3cret")], b"[" * 1000 + b"]" * 1000),
            ([(b"X-Telegram-Bot-Api-Secret-Token", b"s3cret"), (b"Content-Type", b"application/json; charset=bogus")],
             json.dumps(update).encode()),
        ]]
        return forged, statuses, len(rasa.received), [(a.status, a.problem()) for a in odd]

    forged, statuses, asked, odd = run_gateway(db_factory, fake_telegram, scenario,
                                               webhook_url="https://shop.example/tg/hook", webhook_secret="s3cret")
    assert forged == 403 and statuses == [200, 200] and asked == 1
    assert odd == [(403, None), (400, None), (200, None)]  # the last is the same update again: handled once
    webhook = fake_telegram.calls_to("setWebhook")[-1]["params"]
    assert webhook["url"] == "https://shop.example/tg/hook" and webhook["secret_token"] == "s3cret"
    assert [l.author_type for l in ConversationService(db_factory).transcript("tg-503")] == ["customer", "bot"]


def test_rasa_down_gives_the_apology_and_keeps_the_message(db_factory, fake_telegram):
    user = fake_telegram.user(504, "Dung", "vi")

    async def scenario(channel, rasa, _url):
        rasa.down = True
        fake_telegram.send_text(user, "hàng bị vỡ rồi")
        return (await until(lambda: fake_telegram.sent_to(504), what="the apology"))[0]

    assert run_gateway(db_factory, fake_telegram, scenario)["text"] == APOLOGY
    lines = ConversationService(db_factory).transcript("tg-504")
    assert [(l.author_type, l.text) for l in lines] == [("customer", "hàng bị vỡ rồi"), ("bot", APOLOGY)]


def test_polling_carries_on_after_refused_connections(db_factory, fake_telegram):
    user = fake_telegram.user(505, "Em", "vi")

    async def scenario(channel, rasa, _url):
        fake_telegram.send_text(user, "một")
        await until(lambda: fake_telegram.sent_to(505), what="the first reply")
        fake_telegram.refuse_connections(2.5)
        await asyncio.sleep(0.5)
        fake_telegram.send_text(user, "hai")  # queued while nobody can reach the server
        await until(lambda: len(fake_telegram.sent_to(505)) >= 2, timeout=30, what="the second reply")
        return [m["text"] for m in fake_telegram.sent_to(505)]

    assert run_gateway(db_factory, fake_telegram, scenario) == ["echo một", "echo hai"]


def test_a_send_is_retried_through_an_outage_and_a_refusal_is_not(fake_telegram):
    async def main():
        bot = Bot(fake_telegram.token, base_url=f"{fake_telegram.url}/bot")
        await bot.initialize()
        fake_telegram.outage(1.0, status=500)
        sent = await send_with_retry(lambda: bot.send_message(chat_id=506, text="vẫn tới nơi"), delays=[0.3] * 10)
        refused = await send_with_retry(lambda: bot.send_message(chat_id=506, text="x" * 5000), delays=[0.3] * 10)
        await bot.shutdown()
        return sent, refused

    sent, refused = asyncio.run(main())
    assert sent.text == "vẫn tới nơi" and refused is None
    attempts = [c for c in fake_telegram.calls if c["method"] == "sendMessage" and c["params"]["text"] == "vẫn tới nơi"]
    assert len(attempts) >= 2 and attempts[-1]["ok"] and not attempts[0]["ok"]
    assert len([c for c in fake_telegram.calls if c["params"].get("text") == "x" * 5000]) == 1


def test_the_hub_hands_messages_to_the_outlet_of_the_conversations_channel():
    got = []

    async def outlet(sender, message):
        got.append((sender, message["text"]))
        return True

    async def main():
        hub = Hub()
        hub.add_outlet("tg-", outlet)
        return await hub.deliver("tg-1", {"type": "message", "text": "a"}), await hub.deliver("web-1", {"text": "b"})

    assert asyncio.run(main()) == (1, 0) and got == [("tg-1", "a")]


def test_staff_group_announces_urgent_tickets_and_near_deadlines_once(db_factory, fake_telegram):
    tickets = TicketService(db_factory)
    urgent, _ = tickets.open(ComplaintSubmission("u1", "web-u", "rest", "vi", "DH100002", True, "other",
                                                 "họ lừa đảo tôi", "0912345678"))
    # A normal ticket opened 23.5 hours ago: its 24-hour acknowledgement is due within the hour.
    old_clock = lambda: datetime.utcnow() - timedelta(hours=23, minutes=30)  # noqa: E731
    due, _ = TicketService(db_factory, clock=old_clock).open(
        ComplaintSubmission("d1", "web-d", "rest", "vi", "DH100004", True, "wrong_item", "sai size", None))

    async def scenario(channel, rasa, _url):
        await until(lambda: len(fake_telegram.sent_to(STAFF_CHAT)) >= 2, what="two cards")
        first = await channel.staff.scan()
        await asyncio.sleep(0.5)  # more scans run meanwhile
        return first, [m["text"] for m in fake_telegram.sent_to(STAFF_CHAT)]

    again, cards = run_gateway(db_factory, fake_telegram, scenario, staff_chat_id=STAFF_CHAT)
    assert urgent.priority == "urgent" and again == 0 and len(cards) == 2
    assert any(urgent.code in c and "KHẨN CẤP" in c and "0912***678" in c for c in cards)
    assert any(due.code in c and "Sắp quá hạn" in c for c in cards)
    assert all("0912345678" not in c for c in cards)


def test_staff_group_hears_of_resolution_deadlines_and_missed_ones_once(db_factory, fake_telegram):
    def opened(key, hours_ago, order, status=None, status_hours_ago=None):
        clock = lambda: datetime.utcnow() - timedelta(hours=hours_ago)  # noqa: E731
        ticket, _ = TicketService(db_factory, clock=clock).open(
            ComplaintSubmission(key, f"web-{key}", "rest", "vi", order, True, "late_delivery", "chưa nhận hàng", None))
        if status:
            later = lambda: datetime.utcnow() - timedelta(hours=status_hours_ago)  # noqa: E731
            TicketService(db_factory, clock=later).set_status(ticket.code, status, "lan")
        return ticket.code

    resolve_soon = opened("r-soon", 47.5, "DH100003", "in_progress", 40)
    ack_missed = opened("a-late", 25, "DH100006")
    resolve_missed = opened("r-late", 49, "DH100007", "in_progress", 45)
    opened("r-wait", 49, "DH100008", "waiting_customer", 40)  # the clock stopped: nothing to say

    async def scenario(channel, rasa, _url):
        await until(lambda: len(fake_telegram.sent_to(STAFF_CHAT)) >= 3, what="three cards")
        again = await channel.staff.scan()
        await asyncio.sleep(0.5)
        return again, [m["text"] for m in fake_telegram.sent_to(STAFF_CHAT)]

    again, cards = run_gateway(db_factory, fake_telegram, scenario, staff_chat_id=STAFF_CHAT)
    assert again == 0 and len(cards) == 3
    assert any(resolve_soon in c and "Sắp quá hạn xử lý" in c and "Resolve by" in c for c in cards)
    assert any(ack_missed in c and "QUÁ HẠN tiếp nhận" in c for c in cards)
    assert any(resolve_missed in c and "QUÁ HẠN xử lý" in c for c in cards)


def test_a_telegram_customer_who_gives_a_known_phone_joins_that_customer(db_factory):
    link_telegram_user(db_factory, "tg-77", 77, "Lan")
    tickets = TicketService(db_factory)
    tickets.open(ComplaintSubmission("m1", "tg-77", "telegram", "vi", None, False, "other", "…", "0912 345 678"))
    with session_scope(db_factory) as session:
        matches = session.execute(select(Customer).where(Customer.telegram_user_id == "77")).scalars().all()
        assert [(c.phone, len(c.orders) > 0) for c in matches] == [("0912345678", True)]
        assert session.execute(select(Customer).where(Customer.name == "Lan")).scalars().all() == []
    # A contact nobody has yet becomes the Telegram customer's own.
    link_telegram_user(db_factory, "tg-78", 78, "Mai")
    tickets.open(ComplaintSubmission("m2", "tg-78", "telegram", "vi", None, False, "other", "…", "mai@example.com"))
    with session_scope(db_factory) as session:
        mai = session.execute(select(Customer).where(Customer.telegram_user_id == "78")).scalars().one()
        assert (mai.name, mai.email) == ("Mai", "mai@example.com")


def test_cli_links_a_staff_member_to_a_telegram_user(sqlite_url, db_factory, monkeypatch, capsys):
    StaffService(db_factory).add("lan", "correct horse battery", "Lan")
    monkeypatch.setenv("HOTRO_DATABASE_URL", sqlite_url)
    registry.settings.cache_clear()
    try:
        assert cli.main(["staff", "link-telegram", "lan", "123456789"]) == 0
        assert cli.main(["staff", "link-telegram", "ghost", "1"]) == 1
        assert cli.main(["staff", "link-telegram", "lan", "not-a-number"]) == 1
    finally:
        registry.settings.cache_clear()
    assert StaffService(db_factory).by_telegram_user(123456789).name == "lan"
    assert StaffService(db_factory).by_telegram_user(42) is None
    StaffService(db_factory).add("minh", "correct horse battery")
    with pytest.raises(StaffError):
        StaffService(db_factory).link_telegram("minh", "123456789")


def test_a_card_held_up_by_an_outage_is_posted_after_a_restart_and_replies_to_it_still_work(db_factory, fake_telegram):
    TicketService(db_factory).open(ComplaintSubmission("u9", "web-card", "rest", "vi", "DH100002", True, "other",
                                                       "họ lừa đảo tôi", None))
    StaffService(db_factory).add("thu", "correct horse battery", "Thu")
    StaffService(db_factory).link_telegram("thu", "820001")
    fake_telegram.outage_at_next("sendMessage", seconds=600)  # Telegram goes down when the card is sent

    async def during_the_outage(channel, rasa, _url):
        await until(lambda: [c for c in fake_telegram.calls if c["method"] == "sendMessage"], what="an attempt")
        return True

    assert run_gateway(db_factory, fake_telegram, during_the_outage, staff_chat_id=STAFF_CHAT)
    assert fake_telegram.sent_to(STAFF_CHAT) == []
    fake_telegram.outage(0)

    async def after_the_restart(channel, rasa, _url):
        [card] = await until(lambda: fake_telegram.sent_to(STAFF_CHAT), what="the card")
        await until(lambda: channel.store.sender_for_card_message(STAFF_CHAT, card["message_id"]), what="its message id")
        fake_telegram.group_reply(STAFF_CHAT, fake_telegram.user(820001, "Thu"), card, "Chào chị, em là Thu")
        await until(lambda: any(l.author_type == "staff" for l in ConversationService(db_factory).transcript("web-card")),
                    what="the reply in the transcript")
        await asyncio.sleep(0.5)  # more scans: the card is not posted again
        return card

    card = run_gateway(db_factory, fake_telegram, after_the_restart, staff_chat_id=STAFF_CHAT)
    assert "web-card" in card["text"] and len(fake_telegram.sent_to(STAFF_CHAT)) == 1
    assert ConversationService(db_factory).summary("web-card").agent == "thu"


@pytest.mark.parametrize("locked_out, refusal_says", [("disabled", "not linked"), ("editor", "not an agent")])
def test_a_disabled_staff_member_or_an_editor_cannot_answer_from_the_staff_group(db_factory, fake_telegram,
                                                                                   locked_out, refusal_says):
    TicketService(db_factory).open(ComplaintSubmission("u8", "web-off", "rest", "vi", "DH100002", True, "other",
                                                       "họ lừa đảo tôi", None))
    StaffService(db_factory).add("thu", "correct horse battery", "Thu",
                                 roles="editor" if locked_out == "editor" else "agent")
    StaffService(db_factory).link_telegram("thu", "820002")
    if locked_out == "disabled":
        StaffService(db_factory).disable("thu")

    async def scenario(channel, rasa, _url):
        [card] = await until(lambda: fake_telegram.sent_to(STAFF_CHAT), what="the card")
        await until(lambda: channel.store.sender_for_card_message(STAFF_CHAT, card["message_id"]), what="its message id")
        fake_telegram.group_reply(STAFF_CHAT, fake_telegram.user(820002, "Thu"), card, "Chào chị, em là Thu")
        return await until(lambda: fake_telegram.sent_to(STAFF_CHAT)[1:], what="the refusal")

    [refusal] = run_gateway(db_factory, fake_telegram, scenario, staff_chat_id=STAFF_CHAT)
    assert refusal_says in refusal["text"] and ("820002" if locked_out == "disabled" else "thu") in refusal["text"]
    assert ConversationService(db_factory).summary("web-off").owner != "agent"
    assert not any(line.author_type == "staff" for line in ConversationService(db_factory).transcript("web-off"))


def staff_token(factory) -> str:
    StaffService(factory).add("lan", "correct horse battery", "Lan")
    return StaffService(factory).issue_token("lan")


async def staff_reply(url: str, token: str, sender: str, text: str) -> None:
    """Claim the conversation and answer it through the staff API, as the desk does."""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        await http.post(f"{url}/api/conversations/{sender}/claim")
        async with http.post(f"{url}/api/conversations/{sender}/messages", json={"text": text}) as response:
            assert response.status == 201


def test_staff_learn_in_the_transcript_when_a_customer_blocked_the_bot(db_factory, fake_telegram):
    user = fake_telegram.user(611, "Bình", "vi")
    token = staff_token(db_factory)

    async def scenario(channel, rasa, url):
        fake_telegram.send_text(user, "cho tôi gặp nhân viên")
        await until(lambda: fake_telegram.sent_to(611), what="the bot's reply")
        fake_telegram.blocked.add(611)
        await staff_reply(url, token, "tg-611", "Em là Lan ạ")
        conversations = ConversationService(db_factory)
        return await until(lambda: [line for line in conversations.transcript("tg-611", for_staff=True)
                                    if line.author_type == "system" and "blocked" in line.text], what="the notice")

    [notice] = run_gateway(db_factory, fake_telegram, scenario)
    assert "Not delivered on Telegram" in notice.text
    assert not [c for c in fake_telegram.sent_to(611) if "blocked" in c.get("text", "")]  # never sent to the customer


def test_a_second_gateway_that_only_sends_delivers_staff_replies_without_polling(db_factory, fake_telegram):
    """Two gateway instances, one bot token: one polls, the other (TELEGRAM_UPDATES=off) only sends."""
    user = fake_telegram.user(621, "Châu", "vi")
    token = staff_token(db_factory)

    async def scenario(_channel, _rasa, _url):
        fake_telegram.send_text(user, "cho tôi gặp nhân viên")
        await until(lambda: fake_telegram.sent_to(621), what="the bot's reply")
        polls_before = len(fake_telegram.calls_to("getUpdates"))
        second = gateway_app(db_factory)
        sender_only = add_telegram(second, second[CORE], db_factory, TelegramSettings(
            bot_token=fake_telegram.token, api_url=fake_telegram.url, receive_updates=False))
        runner, url = await serve(second)
        try:
            await asyncio.wait_for(sender_only.ready.wait(), 10)
            await staff_reply(url, token, "tg-621", "Lan đây ạ")
            await until(lambda: [m for m in fake_telegram.sent_to(621) if "Lan đây ạ" in (m.get("text") or "")],
                        what="the staff reply from the second instance")
        finally:
            await runner.cleanup()
        return polls_before, sender_only.settings.mode

    polls_before, mode = run_gateway(db_factory, fake_telegram, scenario)
    assert mode == "sending only"
    # Only the first instance ever polled or touched the webhook.
    assert len(fake_telegram.calls_to("deleteWebhook")) == 1 and polls_before >= 1
    assert TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": "t", "TELEGRAM_UPDATES": "off"}).receive_updates is False


def test_an_update_a_killed_gateway_was_handling_is_handled_by_the_next_poller(db_factory, fake_telegram):
    """kill -9 between claiming an update and queueing its reply: Telegram sends it again; it must be answered."""
    from bot.channels.telegram.store import TelegramStore

    user = fake_telegram.user(505, "Giang", "vi")
    sent = fake_telegram.send_text(user, "đơn DH100001 bị vỡ")
    update_id = fake_telegram._updates[-1]["update_id"]
    assert TelegramStore(db_factory).claim_update(update_id)  # the gateway that died held it

    async def scenario(channel, rasa, _url):
        return (await until(lambda: fake_telegram.sent_to(505), what="the reply"))[0]

    assert run_gateway(db_factory, fake_telegram, scenario)["text"] == f"echo {sent['text']}"


def test_an_update_already_answered_is_not_answered_again_after_a_restart(db_factory, fake_telegram):
    """kill -9 after the reply was queued but before the offset was confirmed: Telegram sends it again."""
    from bot.channels.telegram.store import TelegramStore

    user = fake_telegram.user(506, "Hai", "vi")
    fake_telegram.send_text(user, "cảm ơn")
    update_id = fake_telegram._updates[-1]["update_id"]
    store = TelegramStore(db_factory)
    assert store.claim_update(update_id)
    store.finish_update(update_id)
    fake_telegram.send_text(user, "tạm biệt")

    async def scenario(channel, rasa, _url):
        await until(lambda: fake_telegram.sent_to(506), what="the reply to the second message")
        await asyncio.sleep(1)
        return [m["text"] for m in fake_telegram.sent_to(506)], [b["message"] for b in rasa.received]

    texts, asked = run_gateway(db_factory, fake_telegram, scenario)
    assert texts == ["echo tạm biệt"] and asked == ["tạm biệt"]


def test_an_unfinished_claim_is_taken_over_once_and_only_when_old_enough(db_factory):
    from bot.channels.telegram.store import TelegramStore
    from tests.serving import Clock

    clock = Clock()
    store = TelegramStore(db_factory, clock)
    assert store.claim_update(7001)
    assert not store.claim_update(7001)  # the plain repeat
    clock.advance(seconds=30)
    assert not store.claim_update(7001, timedelta(seconds=90))  # its webhook call may still be running
    clock.advance(seconds=61)
    taker, late = TelegramStore(db_factory, clock), TelegramStore(db_factory, clock)
    assert taker.claim_update(7001, timedelta(seconds=90))
    assert not late.claim_update(7001, timedelta(seconds=90))  # taken over just now: by someone alive
    taker.finish_update(7001)
    clock.advance(days=1)
    assert not store.claim_update(7001, timedelta(0))  # finished: a repeat, whatever its age


def test_staff_writing_in_the_group_come_online_and_get_the_waiting_chat(db_factory, fake_telegram, monkeypatch):
    monkeypatch.setenv("HOTRO_AUTO_ASSIGN", "1")
    staff = StaffService(db_factory)
    staff.add("thu", "correct horse battery", "Thu")
    staff.link_telegram("thu", "820003")
    staff.set_availability("thu", "offline")  # logged out of the desk
    conversations = ConversationService(db_factory)
    conversations.record("web-wait", "customer", "cho tôi gặp nhân viên")
    TicketService(db_factory).open(ComplaintSubmission("u7", "web-wait", "rest", "vi", None, False, "damaged", "vỡ",
                                                       None))
    conversations.set_owner("web-wait", "queued")

    async def scenario(channel, rasa, _url):
        await asyncio.sleep(0.5)
        before = conversations.summary("web-wait").owner
        fake_telegram.group_say(STAFF_CHAT, fake_telegram.user(820003, "Thu"), "em vào ca rồi nhé")
        await until(lambda: conversations.summary("web-wait").owner == "agent", what="the chat assigned")
        return before

    assert run_gateway(db_factory, fake_telegram, scenario, staff_chat_id=STAFF_CHAT) == "queued"
    assert conversations.summary("web-wait").agent == "thu"
    assert staff.account("thu").availability == "online"
