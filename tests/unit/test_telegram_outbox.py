"""The durable Telegram outbox against the fake Bot API and a real database (SQLite file; PostgreSQL too).

The outbox runs on a fast clock (its minutes pass in real seconds), so outages
far longer than a test can wait are simulated without waiting for them.
"""
import asyncio
import logging
import time
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.request import HTTPXRequest

from bot.channels.telegram.outbox import Clock, Outbox, Timing
from bot.channels.telegram.outbox_store import OutboxStore
from bot.channels.telegram.store import TelegramStore
from bot.store.db import make_engine, session_scope
from bot.store.models import TelegramOutgoing
from tests.telegram_api import until

STAFF_CHAT = -3003


class FastClock(Clock):
    """The outbox's time running `speed` times faster than real time (one clock shared by all outboxes)."""

    def __init__(self, speed: float):
        self.speed = speed
        self._start, self._real_start = datetime.utcnow(), time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._real_start) * self.speed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


async def connected_bot(fake) -> Bot:
    bot = Bot(fake.token, base_url=f"{fake.url}/bot", request=HTTPXRequest(connection_pool_size=8))
    await bot.initialize()
    return bot


def rows(factory, **match):
    with session_scope(factory) as session:
        query = select(TelegramOutgoing).filter_by(**match).order_by(TelegramOutgoing.id)
        return session.execute(query).scalars().all()


def attempts_of(fake, text):
    return [c for c in fake.calls if c["method"] == "sendMessage" and c["params"].get("text") == text]


def test_an_outage_much_longer_than_minutes_still_delivers_everything_in_order(db_factory, fake_telegram):
    clock = FastClock(speed=100)

    async def main():
        bot = await connected_bot(fake_telegram)
        outbox = Outbox(OutboxStore(db_factory), bot, clock=clock)
        outbox.start()
        fake_telegram.outage(4.0)  # 400 s of the outbox's time; the in-memory outbox gave up after about 150
        began = clock.now()
        for i in range(4):
            await outbox.put(601, "send_message", text=f"tin {i}")
        await outbox.put(602, "send_message", text="chat khác")
        await until(lambda: len(fake_telegram.sent_to(601)) == 4 and fake_telegram.sent_to(602), 30, "all five")
        delivered_after = clock.now() - began
        await outbox.flush()
        await outbox.close()
        await bot.shutdown()
        return delivered_after

    delivered_after = asyncio.run(main())
    assert delivered_after > timedelta(minutes=5)
    assert [m["text"] for m in fake_telegram.sent_to(601)] == ["tin 0", "tin 1", "tin 2", "tin 3"]
    first = attempts_of(fake_telegram, "tin 0")
    assert len(first) > 10 and [c["ok"] for c in first].count(True) == 1
    # A chat's later message waited for its earlier one: never tried before "tin 0" went through.
    assert attempts_of(fake_telegram, "tin 1")[0]["at"] >= first[-1]["at"]
    assert all(len([c for c in attempts_of(fake_telegram, f"tin {i}") if c["ok"]]) == 1 for i in range(4))
    assert [(r.status, r.claimed_by) for r in rows(db_factory)] == [("sent", None)] * 5
    assert rows(db_factory, chat_id=601)[0].attempts == len(first)


def test_after_a_day_of_failures_a_send_is_given_up_with_an_error_and_no_text_in_the_log(
        db_factory, fake_telegram, caplog):
    clock = FastClock(speed=100)

    async def main():
        bot = await connected_bot(fake_telegram)
        outbox = Outbox(OutboxStore(db_factory), bot, Timing(give_up_after=120), clock)
        outbox.start()
        fake_telegram.outage(600)
        await outbox.put(603, "send_message", text="bí mật 0912345678")
        await until(lambda: rows(db_factory)[0].status == "failed", 30, "the give-up")
        await outbox.close()
        await bot.shutdown()

    with caplog.at_level(logging.INFO):
        asyncio.run(main())
    [row] = rows(db_factory)
    assert row.attempts > 3 and row.last_error == "NetworkError" and row.sent_at is None
    ours = [r for r in caplog.records if r.name.startswith("bot.")]  # httpx logs URLs, hence setup.py quietens it
    assert any(r.levelno == logging.ERROR and "gave up" in r.getMessage() for r in ours)
    logged = "\n".join(r.getMessage() for r in ours)
    assert "0912345678" not in logged and "bí mật" not in logged and fake_telegram.token not in logged


def test_a_refusal_is_failed_at_once_and_the_chats_next_message_still_goes(db_factory, fake_telegram):
    async def main():
        bot = await connected_bot(fake_telegram)
        outbox = Outbox(OutboxStore(db_factory), bot, clock=FastClock(speed=100))
        outbox.start()
        await outbox.put(604, "send_message", text="x" * 5000)  # too long: Telegram answers 400
        await outbox.put(604, "send_message", text="sau đó")
        await until(lambda: fake_telegram.sent_to(604), 15, "the next message")
        await outbox.flush()
        await outbox.close()
        await bot.shutdown()

    asyncio.run(main())
    assert len(attempts_of(fake_telegram, "x" * 5000)) == 1
    refused, after = rows(db_factory, chat_id=604)
    assert (refused.status, refused.attempts, refused.last_error) == ("failed", 1, "BadRequest: Message is too long")
    assert (after.status, after.message_id) == ("sent", fake_telegram.sent_to(604)[0]["message_id"])


def test_a_new_outbox_after_a_crash_sends_what_was_pending_exactly_once(db_factory, fake_telegram):
    clock = FastClock(speed=100)
    card_id = TelegramStore(db_factory).new_card(STAFF_CHAT, "tg-605", "queued")
    claim = InlineKeyboardMarkup([[InlineKeyboardButton("Nhận / Claim", callback_data=f"sc:{card_id}")]])

    async def before_the_crash():
        bot = await connected_bot(fake_telegram)
        outbox = Outbox(OutboxStore(db_factory), bot, clock=clock)
        outbox.start()
        fake_telegram.outage(600)
        await outbox.put(605, "send_message", text="một")
        await outbox.put(605, "send_message", text="hai", reply_markup=claim)
        await outbox.put(STAFF_CHAT, "send_message", "staff card", card_id=card_id, text="thẻ", reply_markup=claim)
        await outbox.put(606, "send_message", text="ba",
                         reply_parameters=ReplyParameters(message_id=77, allow_sending_without_reply=True))
        await until(lambda: attempts_of(fake_telegram, "thẻ") and attempts_of(fake_telegram, "ba"), 15, "attempts")
        await bot.shutdown()
        # Neither flush() nor close(): the process dies; asyncio.run cancels whatever was running.

    asyncio.run(before_the_crash())
    # Say a send was in flight when it died (once its back-off was over): the row stays claimed until the lease ends.
    OutboxStore(db_factory).claim_next(606, "the-dead-gateway", clock.now() + timedelta(minutes=1), timedelta(minutes=2))
    assert rows(db_factory, chat_id=606)[0].claimed_until > clock.now()
    fake_telegram.outage(0)

    async def after_the_restart():
        bot = await connected_bot(fake_telegram)
        outbox = Outbox(OutboxStore(db_factory), bot, clock=clock)
        outbox.start()
        await until(lambda: all(r.status == "sent" for r in rows(db_factory)), 30, "everything sent")
        await asyncio.sleep(0.5)  # several scans: nothing goes twice
        await outbox.flush()
        await outbox.close()
        await bot.shutdown()

    asyncio.run(after_the_restart())
    assert [m["text"] for m in fake_telegram.sent_to(605)] == ["một", "hai"]
    assert fake_telegram.sent_to(605)[1]["reply_markup"] == claim.to_dict()
    sent_ok = Counter(c["params"]["text"] for c in fake_telegram.calls_to("sendMessage"))
    assert sent_ok == Counter({"một": 1, "hai": 1, "thẻ": 1, "ba": 1})
    [answer] = fake_telegram.calls_to("sendMessage", chat_id=606)
    assert answer["params"]["reply_parameters"] == {"message_id": 77, "allow_sending_without_reply": True}
    # The card learned its message id from a send made by the restarted outbox.
    [card] = fake_telegram.sent_to(STAFF_CHAT)
    assert TelegramStore(db_factory).card(card_id) == ("tg-605", card["message_id"])
    assert TelegramStore(db_factory).sender_for_card_message(STAFF_CHAT, card["message_id"]) == "tg-605"


def test_two_outboxes_on_one_database_never_send_a_message_twice(any_db_factory, fake_telegram):
    # Two gateways: each its own engine (connection pool) on the same database, the same clock.
    other_engine = make_engine(any_db_factory.kw["bind"].url.render_as_string(hide_password=False))
    other_factory = sessionmaker(bind=other_engine, future=True, expire_on_commit=False)
    clock = FastClock(speed=10)
    chats = [611, 612, 613]
    fake_telegram.latency = 0.02  # sends overlap, so both outboxes are busy with the same chats at once

    async def main():
        bots = [await connected_bot(fake_telegram) for _ in range(2)]
        outboxes = [Outbox(OutboxStore(f), b, clock=clock) for f, b in zip((any_db_factory, other_factory), bots)]
        for outbox in outboxes:
            outbox.start()
        for i in range(24):
            if i == 8:
                fake_telegram.outage(1.0)  # retries: rows become due again while both outboxes scan
            await outboxes[i % 2].put(chats[i % 3], "send_message", text=f"{chats[i % 3]}-{i}")
        await until(lambda: len(fake_telegram.calls_to("sendMessage")) >= 24, 60, "all 24 messages")
        await asyncio.sleep(1.0)  # two scans of each outbox more
        for outbox in outboxes:
            await outbox.flush()
            await outbox.close()
        for bot in bots:
            await bot.shutdown()

    try:
        asyncio.run(main())
    finally:
        other_engine.dispose()
    sent_ok = Counter(c["params"]["text"] for c in fake_telegram.calls_to("sendMessage"))
    assert set(sent_ok.values()) == {1} and len(sent_ok) == 24
    for n, chat in enumerate(chats):
        assert [m["text"] for m in fake_telegram.sent_to(chat)] == [f"{chat}-{i}" for i in range(n, 24, 3)]
    assert {r.status for r in rows(any_db_factory)} == {"sent"}


def test_a_lease_held_by_a_dead_process_of_this_machine_is_not_waited_out(db_factory, fake_telegram):
    """kill -9 in the middle of a send: the restarted gateway sends the chat's replies at once, not two minutes later."""
    import subprocess
    import sys

    from bot.channels.telegram.outbox import holder_is_gone, process_space

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = f"{process_space()}:{gone.pid}:deadbeef"
    alive = f"{process_space()}:1:x"  # init: alive whoever it is
    elsewhere = f"other-host/1:{gone.pid}:cafe"
    assert holder_is_gone(dead, process_space())
    assert not holder_is_gone(elsewhere, process_space()) and not holder_is_gone(alive, process_space())

    store = OutboxStore(db_factory)
    now = datetime.utcnow()
    store.add(607, "send_message", {"text": "đã nhận"}, "message", None, now)
    store.add(607, "send_message", {"text": "câu tiếp"}, "message", None, now)
    assert store.claim_next(607, dead, now, timedelta(minutes=2)) is not None

    async def restarted():
        bot = await connected_bot(fake_telegram)
        outbox = Outbox(OutboxStore(db_factory), bot)  # real time: the lease would hold for two minutes
        outbox.start()
        try:
            await until(lambda: len(fake_telegram.sent_to(607)) == 2, 10, "both replies")
        finally:
            await outbox.close()
            await bot.shutdown()

    asyncio.run(restarted())
    assert [m["text"] for m in fake_telegram.sent_to(607)] == ["đã nhận", "câu tiếp"]
