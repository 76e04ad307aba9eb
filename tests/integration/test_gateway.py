"""The gateway in front of the real Rasa: transcript, and ownership that keeps Rasa out."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

from bot.services.conversations import ConversationService
from bot.store.db import session_factory
from tests.integration.conftest import TOKEN, staff_api


def rasa_user_messages(stack, sender):
    return [e["text"] for e in _rasa_events(stack, sender) if e["event"] == "user"]


def test_the_gateway_speaks_rasa_rest_and_keeps_the_transcript(chat, stack):
    c = chat("gw-transcript", via_gateway=True)
    reply = c.say("tôi muốn khiếu nại")
    assert "mã đơn" in reply
    lines = ConversationService(session_factory(stack.db_url)).transcript("gw-transcript")
    assert [(line.author_type, line.text) for line in lines][:2] == [
        ("customer", "tôi muốn khiếu nại"),
        ("bot", reply),
    ]


def test_no_message_reaches_rasa_while_a_person_owns_the_conversation(chat, stack):
    conversations = ConversationService(session_factory(stack.db_url))
    c = chat("gw-owned", via_gateway=True)
    c.say("xin chào")
    before = rasa_user_messages(stack, "gw-owned")
    conversations.set_owner("gw-owned", "agent", agent="lan")
    assert c.say("cho tôi gặp nhân viên, số tôi 0912345678") == ""
    conversations.set_owner("gw-owned", "queued")
    assert c.say("còn ai không?") == ""
    assert rasa_user_messages(stack, "gw-owned") == before
    # Kept for the person who answers.
    texts = [line.text for line in conversations.transcript("gw-owned") if line.author_type == "customer"]
    assert texts[-2:] == ["cho tôi gặp nhân viên, số tôi 0912345678", "còn ai không?"]
    # Back to the bot: Rasa answers again.
    conversations.set_owner("gw-owned", "bot")
    assert "Xin chào" in c.say("xin chào")




def test_staff_take_over_through_the_api_and_give_back(chat, stack, tickets):
    from bot.services.staff import StaffService

    staff = StaffService(session_factory(stack.db_url))
    staff.add("minh", "correct horse battery", "Minh")
    token = staff.issue_token("minh")
    c = chat("gw-api", via_gateway=True)
    c.say("đơn DH100004 bị giao sai size")
    before = rasa_user_messages(stack, "gw-api")
    assert staff_api(stack, "POST", "/api/conversations/gw-api/claim", token)["owner"] == "agent"
    assert c.say("alo có ai không") == ""
    staff_api(stack, "POST", "/api/conversations/gw-api/messages", token, {"text": "Chào anh, em là Minh"})
    detail = staff_api(stack, "GET", "/api/conversations/gw-api", token)
    assert [line["author"] for line in detail["transcript"]][-3:] == ["system", "customer", "staff"]
    assert rasa_user_messages(stack, "gw-api") == before
    staff_api(stack, "POST", "/api/conversations/gw-api/release", token)
    assert "Xin chào" in c.say("xin chào")
    try:
        urllib.request.urlopen(f"{stack.gateway_url}/api/conversations", timeout=10)
        raise AssertionError("expected 401 without a token")
    except urllib.error.HTTPError as err:
        assert err.code == 401


def test_the_widget_socket_talks_to_the_real_bot_and_a_reload_keeps_the_history(stack):
    import asyncio

    import aiohttp

    from tests.serving import new_widget_chat, widget_socket

    async def main():
        async with aiohttp.ClientSession() as session:
            sender, secret = await new_widget_chat(session, stack.gateway_url)
            async with widget_socket(session, stack.gateway_url, sender, secret) as ws:
                assert (await ws.receive_json(timeout=10))["messages"] == []
                await ws.send_json({"type": "message", "text": "xin chào"})
                greeting = await ws.receive_json(timeout=30)
            async with widget_socket(session, stack.gateway_url, sender, secret) as ws:  # the page was reloaded
                history = await ws.receive_json(timeout=10)
        return greeting, history

    greeting, history = asyncio.run(main())
    assert greeting["author"] == "bot" and "Xin chào" in greeting["text"]
    assert [b["payload"] for b in greeting["buttons"]][0] == "/file_complaint"
    assert [(m["author"], m["text"]) for m in history["messages"]] == [
        ("customer", "xin chào"), ("bot", greeting["text"])]


def test_live_handoff_when_staff_are_online(chat, stack):
    from bot.services.staff import StaffService

    staff = StaffService(session_factory(stack.db_url))
    staff.add("thu", "correct horse battery", "Thu")
    token = staff.issue_token("thu")
    staff_api(stack, "GET", "/api/conversations?owner=queued", token)  # Thu is at the desk
    c = chat("gw-live", via_gateway=True)
    c.say("đơn DH100001 bị vỡ")
    reply = c.say("cho tôi gặp nhân viên")
    assert "hàng chờ" in reply and "KN-" in reply
    queued = [row["id"] for row in staff_api(stack, "GET", "/api/conversations?owner=queued", token)]
    assert "gw-live" in queued
    before = rasa_user_messages(stack, "gw-live")
    assert c.say("mình chờ nhé") == ""  # waiting for a person: the bot stays quiet
    assert rasa_user_messages(stack, "gw-live") == before
    staff_api(stack, "POST", "/api/conversations/gw-live/claim", token)
    staff_api(stack, "POST", "/api/conversations/gw-live/messages", token, {"text": "Chào anh, em là Thu"})
    staff_api(stack, "POST", "/api/conversations/gw-live/release", token)
    assert c.say("cảm ơn") != ""


def test_handback_asks_for_a_rating_which_is_stored(stack):
    import asyncio

    import aiohttp
    from sqlalchemy import select

    from bot.services.staff import StaffService
    from bot.store.db import session_scope
    from bot.store.models import Rating

    staff = StaffService(session_factory(stack.db_url))
    staff.add("hoa", "correct horse battery", "Hoa")
    token = staff.issue_token("hoa")
    headers = {"Authorization": f"Bearer {token}"}

    from tests.serving import new_widget_chat, widget_socket

    async def main():
        async with aiohttp.ClientSession() as session:
            sender, secret = await new_widget_chat(session, stack.gateway_url)
            async with widget_socket(session, stack.gateway_url, sender, secret) as ws:
                await ws.receive_json(timeout=10)  # history
                await ws.send_json({"type": "message", "text": "tôi muốn khiếu nại"})
                await ws.receive_json(timeout=30)
                base = f"{stack.gateway_url}/api/conversations/{sender}"
                await session.post(f"{base}/claim", headers=headers)
                await session.post(f"{base}/messages", headers=headers, json={"text": "Em đã xử lý xong ạ"})
                staff_line = await ws.receive_json(timeout=10)
                await session.post(f"{base}/release", headers=headers)
                ask = await ws.receive_json(timeout=30)
                five = [b for b in ask["buttons"] if b["title"] == "5"][0]
                await ws.send_json({"type": "message", "text": five["payload"]})
                thanks = await ws.receive_json(timeout=30)
                # Typed, a rating is words: it stores nothing (the customer cannot rate without a hand-back).
                await ws.send_json({"type": "message", "text": '/rate{"rating":1}'})
                await ws.receive_json(timeout=30)
        return sender, staff_line, ask, thanks

    sender, staff_line, ask, thanks = asyncio.run(asyncio.wait_for(main(), 120))
    assert staff_line["author"] == "staff" and staff_line["name"] == "Hoa"
    assert "mấy điểm" in ask["text"] and [b["title"] for b in ask["buttons"]] == ["1", "2", "3", "4", "5"]
    assert "Cảm ơn bạn đã đánh giá" in thanks["text"]
    with session_scope(session_factory(stack.db_url)) as session:
        ratings = [(r.score, r.agent) for r in session.execute(select(Rating).where(Rating.sender_id == sender)).scalars()]
    assert ratings == [(5, "Hoa")]


def test_a_huge_message_is_refused_politely_and_holds_nobody_up(stack):
    """200,000 characters never reach Rasa whole; another customer's message sent at the same moment is answered."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    def post(sender, text):
        started = time.monotonic()
        request = urllib.request.Request(f"{stack.gateway_url}/webhooks/rest/webhook",
                                         data=json.dumps({"sender": sender, "message": text}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, replies = response.status, json.load(response)
        except urllib.error.HTTPError as err:
            status, replies = err.code, []
        return status, replies, time.monotonic() - started

    huge = "hàng bị vỡ, tôi muốn khiếu nại " * 6700  # about 200,000 characters
    with ThreadPoolExecutor(2) as pool:
        flood = pool.submit(post, "gw-huge", huge)
        normal = pool.submit(post, "gw-neighbour", "xin chào")
        (huge_status, huge_replies, huge_took), (status, replies, took) = flood.result(), normal.result()
    assert len(huge) >= 200_000
    assert (huge_status == 200 and "dài quá" in huge_replies[0]["text"]) or 400 <= huge_status < 500
    assert status == 200 and "Xin chào" in replies[0]["text"]
    # Bounds from the issue, far above what these take; they fail only if one message stalls the gateway.
    assert huge_took < 2 and took < 2, (huge_took, took)
    assert rasa_user_messages(stack, "gw-huge") == []
    kept = ConversationService(session_factory(stack.db_url)).transcript("gw-huge")
    assert kept[0].text == huge


def test_typed_payloads_are_words_to_the_real_bot(chat, stack):
    c = chat("gw-typed-payload", via_gateway=True)
    c.say('/rate{"rating":1}')
    c.say("/handback")
    intents = [e.get("parse_data", {}).get("intent", {}).get("name") for e in _rasa_events(stack, "gw-typed-payload")
               if e["event"] == "user"]
    assert "rate" not in intents and "handback" not in intents
    from sqlalchemy import select

    from bot.store.db import session_scope
    from bot.store.models import Rating

    with session_scope(session_factory(stack.db_url)) as session:
        assert session.execute(select(Rating).where(Rating.sender_id == "gw-typed-payload")).first() is None


def _rasa_events(stack, sender):
    url = f"{stack.rasa_url}/conversations/{sender}/tracker?token={TOKEN}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)["events"]
