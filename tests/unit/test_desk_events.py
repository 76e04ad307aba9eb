"""Desk events: what happened in conversations, pushed to open desks over GET /api/events (server-sent events)."""
from __future__ import annotations

import asyncio
import json

import aiohttp

from bot.conversation.desk_events import QUEUE_SIZE, RESYNC, DeskEvents
from bot.services.conversations import ConversationService
from bot.services.staff import StaffService
from bot.services.tickets import ComplaintSubmission, TicketService
from bot.gateway.app import CORE
from tests.serving import FakeRasa, gateway_app, serve, web_chat, widget_socket
from tests.unit.test_gateway_fanout import redis_url  # noqa: F401 - a fixture

PASSWORD = "correct horse battery"


def test_the_bus_hands_each_event_to_every_open_desk_and_tells_a_slow_one_to_reload():
    async def scenario():
        bus = DeskEvents()
        one, two = bus.subscribe(), bus.subscribe()
        await bus.publish({"type": "owner", "conversation": "c1"})
        assert one.get_nowait() == two.get_nowait() == {"type": "owner", "conversation": "c1"}
        bus.unsubscribe(two)
        for n in range(QUEUE_SIZE + 5):
            await bus.publish({"type": "note", "conversation": f"c{n}"})
        assert two.empty() and bus.listeners == 1
        assert one.get_nowait() == RESYNC  # too far behind: read the lists again (then the events after it)
        assert one.qsize() < 10
        bus.close()
        rest = [one.get_nowait() for _ in range(one.qsize())]
        assert rest[-1] is None  # the gateway is stopping: the stream ends

    asyncio.run(scenario())


async def _events(response, until, timeout=10):
    """Read server-sent events until `until(events)` holds; the events seen (the `ready` one as {"ready": True})."""
    seen = []

    async def read():
        name = None
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                seen.append({"ready": True} if name == "ready" else json.loads(line[6:]))
                name = None
                if until(seen):
                    return seen

    return await asyncio.wait_for(read(), timeout)


def test_a_desk_hears_of_handoffs_claims_and_customer_messages_without_asking(db_factory):
    staff = StaffService(db_factory)
    staff.add("lan", PASSWORD, "Lan")
    auth = {"Authorization": "Bearer " + staff.issue_token("lan")}
    secret = web_chat(db_factory, "web-ev1")
    TicketService(db_factory).open(ComplaintSubmission("k", "web-ev1", "web", "vi", "DH100001", False, "damaged",
                                                       "vỡ", "0912345678"))

    def rasa_hands_off(body):
        # What the bot's handoff action does: the conversation waits for a person.
        ConversationService(db_factory).set_owner(body["sender"], "queued")
        return [{"recipient_id": body["sender"], "text": "Bạn đang trong hàng chờ"}]

    async def main():
        rasa = await FakeRasa(rasa_hands_off).start()
        runner, base = await serve(gateway_app(db_factory, rasa.url))
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(base + "/api/events") as refused:
                    assert refused.status == 401
                async with session.get(base + "/api/events", headers=auth) as stream:
                    assert stream.status == 200 and stream.content_type == "text/event-stream"
                    await _events(stream, lambda seen: seen[-1] == {"ready": True})
                    async with widget_socket(session, base, "web-ev1", secret) as ws:
                        await ws.receive_json(timeout=5)  # history
                        await ws.send_json({"type": "message", "text": "cho tôi gặp nhân viên"})
                        handoff = await _events(stream, lambda seen: seen[-1].get("type") == "handoff")
                        assert handoff[-1] == {"type": "handoff", "conversation": "web-ev1", "owner": "queued"}
                        async with session.post(base + "/api/conversations/web-ev1/claim", headers=auth) as r:
                            assert r.status == 200
                        owner = await _events(stream, lambda seen: seen[-1].get("type") == "owner")
                        assert owner[-1] == {"type": "owner", "conversation": "web-ev1", "owner": "agent",
                                             "agent": "lan", "by": "lan"}
                        await ws.send_json({"type": "message", "text": "ảnh đây ạ"})
                        wrote = await _events(stream, lambda seen: seen[-1].get("type") == "customer_message")
                        # Who wrote what stays behind the API: the event only says where to look.
                        assert wrote[-1] == {"type": "customer_message", "conversation": "web-ev1", "owner": "agent"}
                async with session.get(base + "/api/conversations?owner=agent", headers=auth) as r:
                    listed = (await r.json())[0]
                assert listed["id"] == "web-ev1" and listed["category"] == "damaged"
                assert listed["customer_phone"] == "0912***678" and listed["sla"]["kind"] == "acknowledge"
        finally:
            await runner.cleanup()
            await rasa.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_one_person_keeps_only_a_few_event_streams_the_newest_ones(db_factory):
    from bot.gateway.desk_live_api import MAX_STREAMS_PER_PERSON, OPEN_STREAMS

    staff = StaffService(db_factory)
    staff.add("lan", PASSWORD, "Lan")
    staff.add("minh", PASSWORD, "Minh")
    lan = {"Authorization": "Bearer " + staff.issue_token("lan")}
    minh = {"Authorization": "Bearer " + staff.issue_token("minh")}

    async def main():
        rasa = await FakeRasa(lambda body: []).start()
        app = gateway_app(db_factory, rasa.url)
        runner, base = await serve(app)
        try:
            async with aiohttp.ClientSession() as session:
                other = await session.get(base + "/api/events", headers=minh)
                await _events(other, lambda seen: seen[-1] == {"ready": True})
                streams = []
                for _ in range(MAX_STREAMS_PER_PERSON + 3):
                    stream = await session.get(base + "/api/events", headers=lan)
                    assert stream.status == 200  # the desk just opened always works
                    await _events(stream, lambda seen: seen[-1] == {"ready": True})
                    streams.append(stream)
                for oldest in streams[:3]:  # ended by the server: the bytes stop and the stream closes
                    assert (await asyncio.wait_for(oldest.content.read(), 10)).strip() == b""
                assert len(app[OPEN_STREAMS]["lan"]) == MAX_STREAMS_PER_PERSON
                assert len(app[OPEN_STREAMS]["minh"]) == 1  # the cap is per person
                await app[CORE].events.publish({"type": "note", "conversation": "c1"})
                for stream in streams[3:] + [other]:
                    seen = await _events(stream, lambda seen: seen[-1].get("type") == "note")
                    assert seen[-1] == {"type": "note", "conversation": "c1"}
                for stream in streams[3:] + [other]:
                    stream.close()
        finally:
            await runner.cleanup()
            await rasa.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_a_ticket_script_is_read_and_ticked_over_the_api(db_factory):
    staff = StaffService(db_factory)
    staff.add("lan", PASSWORD, "Lan")
    auth = {"Authorization": "Bearer " + staff.issue_token("lan")}
    ticket, _ = TicketService(db_factory).open(ComplaintSubmission("k", "web-s1", "web", "en", "DH100001", False,
                                                                   "damaged", "broken", None))

    async def main():
        runner, base = await serve(gateway_app(db_factory))
        try:
            async with aiohttp.ClientSession(headers=auth) as session:
                url = f"{base}/api/tickets/{ticket.code}"
                async with session.get(url + "/script") as r:
                    script = await r.json()
                assert script["language"] == "en" and script["steps"][0]["id"] == "ask-photos"
                assert ticket.code in script["replies"][0]["en"]["text"]
                async with session.put(url + "/steps/ask-photos", json={"done": True}) as r:
                    assert r.status == 200 and (await r.json())["by"] == "lan"
                async with session.put(url + "/steps/ask-photos", json={"done": "yes"}) as r:
                    assert r.status == 400
                async with session.put(url + "/steps/dance", json={"done": True}) as r:
                    assert r.status == 400 and "no step 'dance'" in (await r.json())["error"]
                async with session.put(f"{base}/api/tickets/KN-999999/steps/ask-photos", json={"done": True}) as r:
                    assert r.status == 404
                async with session.get(url + "/script") as r:
                    assert (await r.json())["steps"][0]["done"] is True
                async with session.get(f"{base}/api/tickets") as r:
                    assert [t["steps"] for t in await r.json()] == [{"done": 1, "total": 4}]
        finally:
            await runner.cleanup()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_a_desk_on_one_gateway_hears_what_happens_on_another(db_factory, redis_url):
    staff = StaffService(db_factory)
    staff.add("lan", PASSWORD, "Lan")
    auth = {"Authorization": "Bearer " + staff.issue_token("lan")}
    web_chat(db_factory, "web-ev2")
    ConversationService(db_factory).set_owner("web-ev2", "queued")

    async def main():
        first, first_base = await serve(gateway_app(db_factory, redis_url=redis_url))
        second, second_base = await serve(gateway_app(db_factory, redis_url=redis_url))
        try:
            async with aiohttp.ClientSession(headers=auth) as session:
                async with session.get(first_base + "/api/events") as stream:
                    await _events(stream, lambda seen: seen[-1] == {"ready": True})
                    async with session.post(second_base + "/api/conversations/web-ev2/claim") as r:
                        assert r.status == 200
                    owner = await _events(stream, lambda seen: seen[-1].get("type") == "owner")
                    assert owner[-1]["conversation"] == "web-ev2" and owner[-1]["agent"] == "lan"
        finally:
            await first.cleanup()
            await second.cleanup()

    asyncio.run(asyncio.wait_for(main(), 60))
