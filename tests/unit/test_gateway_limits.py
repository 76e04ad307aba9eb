"""Per-client limits at the gateway, over real HTTP: clients are real TCP peers (127.0.0.x), Rasa a stand-in.

Linux answers on every 127.0.0.0/8 address, so a client bound to 127.0.0.2 is another address than one on
127.0.0.3, as two customers' phones would be.
"""
import asyncio
import json
import logging
import uuid
from contextlib import asynccontextmanager

import aiohttp

from bot.gateway.client_address import parse_trusted
from bot.gateway.limits import GatewayLimits
from bot.ratelimit import LimitSettings, MemoryLimiter, Rate, RedisLimiter, refusal
from bot.services.conversations import ConversationService
from bot.services.uploads import StoreFull, UploadStore
from tests.serving import Clock, FakeRasa, gateway_app, new_widget_chat, serve, web_chat, widget_socket
from tests.telegram_api import png
from tests.unit.test_gateway_fanout import redis_url  # noqa: F401 - the fixture: real Redis, required in CI

WEBHOOK = "/webhooks/rest/webhook"
ATTACKER, CUSTOMER = "127.0.0.2", "127.0.0.3"


def limits(clock=None, trusted="", **settings) -> GatewayLimits:
    """Generous limits but the ones a test sets (LimitSettings' fields), counted in memory on `clock`."""
    settings = dict(dict(messages=Rate(1000, 60), conversations=Rate(1000, 60), uploads=Rate(1000, 60)), **settings)
    return GatewayLimits(LimitSettings(**settings), MemoryLimiter(clock or Clock()), parse_trusted(trusted))


def from_address(address: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))


@asynccontextmanager
async def gateway(db_factory, gateway_limits, rasa=None, **options):
    """The gateway's base URL, in front of `rasa` (an echoing FakeRasa by default)."""
    rasa = await (rasa or FakeRasa()).start()
    runner, base = await serve(gateway_app(db_factory, rasa.url, with_staff=False, limits=gateway_limits, **options))
    try:
        yield base
    finally:
        await runner.cleanup()
        await rasa.stop()


async def say(session, base, sender, text="cho tôi gặp nhân viên", headers=None, **body):
    async with session.post(base + WEBHOOK, json={"sender": sender, "message": text, **body},
                            headers=headers or {}) as response:
        return response.status, await response.json(), response.headers


def test_a_flood_of_new_senders_from_one_address_is_cut_off_while_another_address_chats(db_factory):
    """The attack of issue 10: 50 new sender ids asking for a person, from one address."""
    rasa = FakeRasa()

    async def scenario():
        async with gateway(db_factory, limits(conversations=Rate(10, 600)), rasa) as base:
            async with from_address(ATTACKER) as attacker, from_address(CUSTOMER) as customer:
                flood = [await say(attacker, base, f"bot-{n}") for n in range(50)]
                again = await say(attacker, base, "bot-0", "vẫn là tôi")  # a conversation it already has
                others = [await say(customer, base, f"khach-{n}", "xin chào") for n in range(3)]
        return flood, again, others

    flood, again, others = asyncio.run(scenario())
    assert [status for status, _, _ in flood] == [200] * 10 + [429] * 40
    status, body, headers = flood[10]
    assert body == {"error": refusal("conversations", "vi", int(headers["Retry-After"]))}
    assert 0 < int(headers["Retry-After"]) <= 60  # one more new conversation a minute (10 per 10 minutes)
    assert again[0] == 200 and [s for s, _, _ in others] == [200] * 3
    # Refused means not recorded and never asked of Rasa: no ticket, no queue entry can come of it.
    assert len(ConversationService(db_factory).list()) == 13 and len(rasa.received) == 14


def test_messages_over_the_limit_are_refused_in_the_customers_language_and_not_recorded(db_factory):
    clock = Clock()

    async def scenario():
        async with gateway(db_factory, limits(clock, messages=Rate(3, 60))) as base:
            async with from_address(ATTACKER) as session:
                first = [await say(session, base, "an", f"tin {n}") for n in range(3)]
                vi = await say(session, base, "an", "tin 3")
                en = await say(session, base, "an", "hello", metadata={"language": "en"})
                browser = await say(session, base, "an", "hello", headers={"Accept-Language": "en-US,en;q=0.9"})
                clock.advance(seconds=20)
                later = await say(session, base, "an", "tin 4")
        return first, vi, en, browser, later

    first, vi, en, browser, later = asyncio.run(scenario())
    assert [s for s, _, _ in first] == [200] * 3 and later[0] == 200
    assert (vi[0], vi[2]["Retry-After"]) == (429, "20") and vi[1]["error"] == refusal("messages", "vi", 20)
    assert en[0] == 429 and en[1]["error"] == refusal("messages", "en", 20)
    assert browser[1]["error"] == refusal("messages", "en", 20)
    customer_lines = [l.text for l in ConversationService(db_factory).transcript("an") if l.author_type == "customer"]
    assert customer_lines == ["tin 0", "tin 1", "tin 2", "tin 4"]


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(db_factory):
    """Behind our proxy (127.0.0.2 here) each customer is their own client; anyone else cannot pick an address."""
    proxy, stranger = ATTACKER, CUSTOMER

    async def scenario():
        async with gateway(db_factory, limits(trusted=f"{proxy}/32", conversations=Rate(2, 600))) as base:
            async with from_address(proxy) as via_proxy, from_address(stranger) as direct:
                forwarded = [await say(via_proxy, base, f"p-{n}", headers={"X-Forwarded-For": f"198.51.100.{n}"})
                             for n in range(5)]
                same_customer = [await say(via_proxy, base, f"q-{n}", headers={
                    "X-Forwarded-For": "203.0.113.9, 198.51.100.77"}) for n in range(3)]
                invented = [await say(direct, base, f"s-{n}", headers={"X-Forwarded-For": f"198.51.100.{n + 100}"})
                            for n in range(3)]
        return forwarded, same_customer, invented

    forwarded, same_customer, invented = asyncio.run(scenario())
    assert [s for s, _, _ in forwarded] == [200] * 5  # five customers behind the proxy
    # What the client wrote left of our proxy's entry is not believed: one customer, 198.51.100.77.
    assert [s for s, _, _ in same_customer] == [200, 200, 429]
    assert [s for s, _, _ in invented] == [200, 200, 429]  # an untrusted peer's header is ignored


def test_new_website_chats_are_limited_per_address(db_factory):
    async def scenario():
        async with gateway(db_factory, limits(conversations=Rate(2, 600)), origins=frozenset({"https://shop.vn"})) as base:
            async with from_address(ATTACKER) as attacker, from_address(CUSTOMER) as customer:
                opened = [await new_widget_chat(attacker, base) for _ in range(2)]
                async with attacker.post(f"{base}/conversations", data={"language": "en"},
                                         headers={"Origin": "https://shop.vn"}) as response:
                    refused = response.status, await response.json(), response.headers
                mine = await new_widget_chat(customer, base)
        return opened, refused, mine

    opened, (status, body, headers), mine = asyncio.run(scenario())
    assert len({sender for sender, _ in opened}) == 2 and mine[0].startswith("web-")
    assert status == 429 and body == {"error": refusal("conversations", "en", 300)} and headers["Retry-After"] == "300"
    # The widget on the shop's own site may read the answer and when to try again.
    assert headers["Access-Control-Allow-Origin"] == "https://shop.vn"
    assert headers["Access-Control-Expose-Headers"] == "Retry-After"
    assert len(ConversationService(db_factory).list()) == 3


def test_the_widget_socket_refuses_a_frame_over_the_limit_and_stays_open(db_factory):
    clock = Clock()
    secret = web_chat(db_factory, "web-lim")

    async def scenario():
        async with gateway(db_factory, limits(clock, messages=Rate(2, 60))) as base:
            async with from_address(ATTACKER) as session, widget_socket(session, base, "web-lim", secret) as ws:
                await ws.receive_json(timeout=5)  # history
                replies = []
                for n in range(2):
                    await ws.send_json({"type": "message", "text": f"tin {n}"})
                    replies.append(await ws.receive_json(timeout=5))
                await ws.send_json({"type": "message", "text": "quá nhanh", "ref": "m-3",
                                    "metadata": {"language": "en"}})
                limited = await ws.receive_json(timeout=5)
                await ws.send_str("not json")  # every frame counts
                limited_garbage = await ws.receive_json(timeout=5)
                clock.advance(seconds=30)
                await ws.send_json({"type": "message", "text": "gửi lại"})
                after = await ws.receive_json(timeout=5)
        return replies, limited, limited_garbage, after

    replies, limited, limited_garbage, after = asyncio.run(scenario())
    assert [r["text"] for r in replies] == ["echo tin 0", "echo tin 1"]
    assert limited == {"type": "error", "code": "rate_limited", "error": refusal("messages", "en", 30),
                       "retry_after": 30, "ref": "m-3"}
    assert limited_garbage["code"] == "rate_limited" and "ref" not in limited_garbage
    assert after["text"] == "echo gửi lại"  # the same socket, still open
    customer_lines = [l.text for l in ConversationService(db_factory).transcript("web-lim") if l.author_type == "customer"]
    assert customer_lines == ["tin 0", "tin 1", "gửi lại"]


def _upload_form(sender):
    form = aiohttp.FormData()
    form.add_field("secret", f"secret-of-{sender}")
    form.add_field("file", png(8, 6), filename="anh.png", content_type="image/png")
    return form


async def _upload(session, base, sender, language=None):
    query = f"?sender={sender}" + (f"&language={language}" if language else "")
    async with session.post(f"{base}/upload{query}", data=_upload_form(sender)) as response:
        return response.status, await response.json(), response.headers


def test_uploads_are_limited_per_address_across_conversations(db_factory, tmp_path):
    for sender in ("web-u1", "web-u2", "web-u3"):
        web_chat(db_factory, sender)

    async def scenario():
        async with gateway(db_factory, limits(uploads=Rate(2, 3600)), upload_dir=tmp_path / "up") as base:
            async with from_address(ATTACKER) as attacker, from_address(CUSTOMER) as customer:
                mine = [await _upload(attacker, base, sender) for sender in ("web-u1", "web-u2", "web-u3")]
                english = await _upload(attacker, base, "web-u3", "en")
                other = await _upload(customer, base, "web-u3")
        return mine, english, other

    mine, english, other = asyncio.run(scenario())
    assert [s for s, _, _ in mine] == [201, 201, 429] and other[0] == 201
    assert mine[2][2]["Retry-After"] == "1800" and mine[2][1] == {"error": refusal("uploads", "vi", 1800)}
    assert english[1] == {"error": refusal("uploads", "en", 1800)}
    assert len(list((tmp_path / "up").iterdir())) == 3


def test_the_upload_folder_has_a_cap_for_everyone_together(db_factory, tmp_path, caplog):
    for sender in ("web-c1", "web-c2"):
        web_chat(db_factory, sender)
    folder = tmp_path / "up"
    folder.mkdir()
    (folder / ("0" * 32)).write_bytes(b"x" * 900)  # an earlier customer's file
    cap = limits(upload_max_bytes=900 + len(png(8, 6)))  # room for one more photo

    async def scenario():
        async with gateway(db_factory, cap, upload_dir=folder) as base:
            async with from_address(ATTACKER) as first, from_address(CUSTOMER) as second:
                fits = await _upload(first, base, "web-c1")
                full = await _upload(second, base, "web-c2", "en")
        return fits, full

    with caplog.at_level(logging.ERROR, logger="bot.services.uploads"):
        fits, (status, body, _) = asyncio.run(scenario())
    assert fits[0] == 201
    assert status == 507 and body == {"error": "We cannot take more files just now. Please describe it in a "
                                               "message, or send the file again later."}
    assert len(list(folder.iterdir())) == 2
    assert any("HOTRO_UPLOAD_MAX_MB" in r.getMessage() and "is full" in r.getMessage() for r in caplog.records)
    lines = ConversationService(db_factory).transcript("web-c2")
    assert [l for l in lines if l.author_type == "customer"] == []  # refused: nothing recorded


def test_the_store_refuses_a_file_that_would_pass_its_cap(tmp_path):
    store = UploadStore(tmp_path / "up", max_bytes=1000)
    kept = store.save(b"a" * 600)
    try:
        store.save(b"b" * 401)
        raise AssertionError("the cap was passed")
    except StoreFull:
        pass
    assert store.used_bytes() == 600
    store.save(b"c" * 400)
    store.delete([kept])
    store.save(b"d" * 600)  # room again once files are erased
    assert store.used_bytes() == 1000 and UploadStore(tmp_path / "other").used_bytes() == 0


def test_limits_hold_across_gateway_instances_through_redis(db_factory, redis_url):  # noqa: F811
    salt = uuid.uuid4().hex  # this run's clients are not an earlier run's

    def shared():
        return GatewayLimits(LimitSettings(conversations=Rate(3, 600)), RedisLimiter(redis_url), salt=salt)

    async def scenario():
        async with gateway(db_factory, shared()) as first, gateway(db_factory, shared()) as second:
            async with from_address(ATTACKER) as session:
                statuses = []
                for base in (first, second, first, second):
                    async with session.post(f"{base}/conversations", data={"language": "vi"}) as response:
                        statuses.append(response.status)
        return statuses

    assert asyncio.run(scenario()) == [201, 201, 201, 429]
