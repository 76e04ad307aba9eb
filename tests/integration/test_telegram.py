"""Telegram customers and the Telegram staff group, against the real stack and a fake Bot API.

The stack's gateway runs the Telegram channel (TELEGRAM_BOT_TOKEN set by the
`stack` fixture) and long-polls `telegram_api` (tests/telegram_api.py), which
records what the bot sends and lets these tests play the customers and staff.
"""
from __future__ import annotations

import asyncio
import re
import urllib.request

import aiohttp
from sqlalchemy import select

from bot.services.conversations import ConversationService
from bot.services.staff import StaffService
from bot.store.db import session_factory, session_scope
from bot.store.models import Customer
from tests.integration.conftest import TELEGRAM_STAFF_CHAT, staff_api
from tests.telegram_api import png
from tests.serving import new_widget_chat, widget_socket

CODE = re.compile(r"KN-\d{6}")


def transcript(stack, sender):
    return [(line.author_type, line.text, line.data)
            for line in ConversationService(session_factory(stack.db_url)).transcript(sender)]


def buttons_of(sent):
    return [button for row in (sent.get("reply_markup") or {}).get("inline_keyboard", []) for button in row]


def _api(stack, method, path, token, body=None):
    return staff_api(stack, method, path, token, body, timeout=20)  # a split reply takes several sends


def _card_for(telegram_api, sender, timeout=60):
    """The staff-group card about `sender` (the message the bot posted)."""
    def find():
        for sent in telegram_api.sent_to(TELEGRAM_STAFF_CHAT):
            if f"Conversation: {sender}\n" in sent["text"]:
                return sent
        return None
    return telegram_api.wait_for(find, timeout, f"a staff card about {sender}")


def text_of(messages):
    return "\n".join(m["text"] for m in messages)


def all_buttons(messages):
    return [button for m in messages for button in buttons_of(m)]


def test_a_telegram_customer_files_a_complaint_from_start_to_ticket(stack, telegram_api, tickets):
    user = telegram_api.user(710001, "Lan", "vi")
    greeting = telegram_api.say(user, "/start")
    assert "Xin chào" in text_of(greeting)
    assert [b["callback_data"] for b in all_buttons(greeting)][0] == "p/file_complaint"
    offer = text_of(telegram_api.say(user, "đơn DH100003 bị giao sai màu, tôi muốn khiếu nại"))
    assert "DH100003" in offer and "0903***222" in offer
    assert "Giao sai hàng" in text_of(telegram_api.say(user, "đồng ý"))
    done = text_of(telegram_api.say(user, "đúng rồi, gửi đi"))
    code = CODE.search(done).group(0)
    ticket = tickets.get(code)
    assert (ticket.channel, ticket.order_number, ticket.contact) == ("telegram", "DH100003", "0903111222")
    lines = transcript(stack, "tg-710001")
    customer_lines = [text for author, text, _ in lines if author == "customer"]
    assert customer_lines == ["/greet", "đơn DH100003 bị giao sai màu, tôi muốn khiếu nại", "đồng ý", "đúng rồi, gửi đi"]
    bot_lines = [text for author, text, _ in lines if author == "bot"]
    assert bot_lines == [m["text"] for m in telegram_api.sent_to(710001)]
    # The phone on the order belongs to a demo customer: the Telegram user is now that customer.
    with session_scope(session_factory(stack.db_url)) as session:
        owners = session.execute(select(Customer).where(Customer.telegram_user_id == "710001")).scalars().all()
        assert [c.phone for c in owners] == ["0903111222"]


def test_english_start_greets_in_english_and_restart_starts_over(stack, telegram_api):
    user = telegram_api.user(710002, "Ann", "en-US")
    assert "Hello" in text_of(telegram_api.say(user, "/start"))
    assert "order number" in text_of(telegram_api.say(user, "I want to file a complaint"))
    again = text_of(telegram_api.say(user, "/restart"))
    assert "Hello" in again and "order number" not in again
    texts = [text for author, text, _ in transcript(stack, "tg-710002") if author == "customer"]
    assert "/restart" in texts


def test_pressing_buttons_answers_the_query_and_sends_the_payload(stack, telegram_api):
    user = telegram_api.user(710003, "Minh", "vi")
    greeting = telegram_api.say(user, "/start")
    holder = [m for m in greeting if any(b["callback_data"] == "p/file_complaint" for b in buttons_of(m))][0]
    before = len(telegram_api.sent_to(710003))
    query_id = telegram_api.press(user, holder, "p/file_complaint")
    assert "mã đơn" in text_of(telegram_api.replies(710003, before))
    assert telegram_api.wait_for(lambda: telegram_api.calls_to("answerCallbackQuery", callback_query_id=query_id),
                                 30, "the button press to be answered")
    categories = telegram_api.say(user, "DH100001")
    damaged = [(m, b) for m in categories for b in buttons_of(m) if "damaged" in b["callback_data"]]
    assert damaged, text_of(categories)
    message, button = damaged[0]
    assert len(button["callback_data"].encode()) <= 64
    before = len(telegram_api.sent_to(710003))
    telegram_api.press(user, message, button["callback_data"])
    assert "mô tả" in text_of(telegram_api.replies(710003, before))
    customer_lines = [text for author, text, _ in transcript(stack, "tg-710003") if author == "customer"]
    assert customer_lines[-1] == '/inform{"complaint_category":"damaged"}'


def test_an_edited_message_is_a_new_message(stack, telegram_api):
    user = telegram_api.user(710004, "Hoa", "vi")
    before = len(telegram_api.sent_to(710004))
    first = telegram_api.send_text(user, "xin chào")
    telegram_api.replies(710004, before)
    before = len(telegram_api.sent_to(710004))
    telegram_api.edit_text(first, "tôi muốn khiếu nại")
    assert "mã đơn" in text_of(telegram_api.replies(710004, before))
    customer_lines = [text for author, text, _ in transcript(stack, "tg-710004") if author == "customer"]
    assert customer_lines == ["xin chào", "tôi muốn khiếu nại"]


def test_photos_are_acknowledged_attached_and_shown_to_staff(stack, telegram_api):
    user = telegram_api.user(710005, "Bao", "vi")
    telegram_api.send_photo(user, caption="hàng bị vỡ như này", data=png())
    [ack] = telegram_api.wait_sent(710005, 1)
    assert "ảnh" in ack["text"] and "đính kèm" in ack["text"]
    telegram_api.send_document(user, "hoa-don.pdf", data=b"%PDF-1.4 receipt")
    telegram_api.wait_sent(710005, 2)
    attachments = [data["attachment"] for author, _, data in transcript(stack, "tg-710005")
                   if author == "customer" and data]
    assert attachments == [{"kind": "photo", "file_id": "photo-big-710005", "file_name": None},
                           {"kind": "document", "file_id": "doc-710005", "file_name": "hoa-don.pdf"}]
    staff = StaffService(session_factory(stack.db_url))
    staff.add("tg-files", "correct horse battery", "Files")
    token = staff.issue_token("tg-files")
    links = [line["attachment_url"] for line in _api(stack, "GET", "/api/conversations/tg-710005", token)["transcript"]
             if line["attachment_url"]]
    (photo_type, photo_disposition, photo), (document_type, document_disposition, document) = (
        _download(stack, link, token) for link in links)
    assert (photo_type, photo) == ("image/png", png()) and photo_disposition.startswith("inline")
    assert (document_type, document) == ("application/octet-stream", b"%PDF-1.4 receipt")
    assert document_disposition.startswith('attachment; filename="hoa-don.pdf"')


def _download(stack, path, token):
    """(Content-Type, Content-Disposition, body) of a file from the staff API."""
    request = urllib.request.Request(stack.gateway_url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.headers["Content-Type"], response.headers["Content-Disposition"], response.read()


def test_a_staff_reply_longer_than_telegram_allows_arrives_in_pieces(stack, telegram_api):
    staff = StaffService(session_factory(stack.db_url))
    staff.add("tg-long", "correct horse battery", "Long")
    token = staff.issue_token("tg-long")
    user = telegram_api.user(710006, "Quang", "vi")
    greeting = telegram_api.say(user, "xin chào")
    _api(stack, "POST", "/api/conversations/tg-710006/claim", token)
    long_text = "\n".join(f"Dòng {i}: " + " ".join(["chi tiết xử lý đơn hàng"] * 8) for i in range(30))
    assert len(long_text) > 5000
    reply = _api(stack, "POST", "/api/conversations/tg-710006/messages", token, {"text": long_text})
    assert reply["delivered_live"] is True
    pieces = [m["text"] for m in telegram_api.replies(710006, len(greeting))]
    assert len(pieces) == 2 and all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == "Long: " + long_text


def test_a_telegram_outage_while_replying_loses_nothing(stack, telegram_api):
    user = telegram_api.user(710007, "Tuan", "vi")
    telegram_api.say(user, "xin chào")
    # The next reply the bot sends meets a 502, and Telegram stays down for 4 seconds.
    telegram_api.outage_at_next("sendMessage", seconds=4, status=502)
    before = len(telegram_api.sent_to(710007))
    telegram_api.send_text(user, "tôi muốn khiếu nại")
    telegram_api.wait_for(lambda: telegram_api._outage_on is None, 60, "the outage to start")
    telegram_api.send_text(user, "DH100001")  # written during the outage
    telegram_api.wait_for(lambda: "vấn đề" in text_of(telegram_api.sent_to(710007)[before:]), 120, "both replies")
    replies = text_of(telegram_api.replies(710007, before))
    assert "mã đơn" in replies and "vấn đề" in replies
    assert replies.index("mã đơn") < replies.index("vấn đề")  # still in order
    failed = [c for c in telegram_api.calls if c["method"] == "sendMessage" and not c["ok"]
              and str(c["params"].get("chat_id")) == "710007"]
    assert failed, "the outage should have made a send fail"
    lines = transcript(stack, "tg-710007")
    assert [t for a, t, _ in lines if a == "customer"] == ["xin chào", "tôi muốn khiếu nại", "DH100001"]
    assert [t for a, t, _ in lines if a == "bot"] == [m["text"] for m in telegram_api.sent_to(710007)]


def _linked_staff(stack, name, display, telegram_user_id):
    staff = StaffService(session_factory(stack.db_url))
    staff.add(name, "correct horse battery", display)
    staff.link_telegram(name, str(telegram_user_id))
    return staff.issue_token(name)


def test_a_handoff_card_in_the_staff_group_and_a_reply_reaches_the_telegram_customer(stack, telegram_api):
    _linked_staff(stack, "tg-thu", "Thu", 820001)
    user = telegram_api.user(710008, "Nam", "vi")
    telegram_api.say(user, "đơn DH100001 bị vỡ")
    assert "KN-" in text_of(telegram_api.say(user, "cho tôi gặp nhân viên, số tôi 0912345678"))
    card = _card_for(telegram_api, "tg-710008")
    assert "DH100001" in card["text"] and "telegram" in card["text"]
    assert "0912345678" not in card["text"]
    assert [b["text"] for b in buttons_of(card)] == ["Nhận / Claim", "Trả cho bot / Return to bot"]
    # Someone in the group who is not linked to a staff account cannot answer.
    stranger = telegram_api.user(820999, "Khách lạ", "vi")
    telegram_api.group_reply(TELEGRAM_STAFF_CHAT, stranger, card, "để tôi trả lời")
    telegram_api.wait_for(lambda: any("chưa được liên kết" in m["text"] for m in telegram_api.sent_to(TELEGRAM_STAFF_CHAT)),
                          30, "the refusal")
    staff_user = telegram_api.user(820001, "Thu", "vi")
    before = len(telegram_api.sent_to(710008))
    telegram_api.group_reply(TELEGRAM_STAFF_CHAT, staff_user, card, "Chào anh, em là Thu, em xem đơn cho anh nhé")
    [arrived] = telegram_api.replies(710008, before)
    assert arrived["text"] == "Thu: Chào anh, em là Thu, em xem đơn cho anh nhé"
    summary = ConversationService(session_factory(stack.db_url)).summary("tg-710008")
    assert (summary.owner, summary.agent) == ("agent", "tg-thu")
    staff_lines = [(text, data) for author, text, data in transcript(stack, "tg-710008") if author == "staff"]
    assert staff_lines == [("Chào anh, em là Thu, em xem đơn cho anh nhé", None)]
    assert "để tôi trả lời" not in [t for _, t, _ in transcript(stack, "tg-710008")]


def test_a_staff_reply_in_the_group_reaches_a_website_customer(stack, telegram_api):
    _linked_staff(stack, "tg-hanh", "Hạnh", 820002)

    async def main():
        async with aiohttp.ClientSession() as session:
            sender, secret = await new_widget_chat(session, stack.gateway_url)
            async with widget_socket(session, stack.gateway_url, sender, secret) as ws:
                await ws.receive_json(timeout=10)
                await ws.send_json({"type": "message", "text": "cho tôi gặp nhân viên"})
                await ws.receive_json(timeout=60)
                card = await asyncio.to_thread(_card_for, telegram_api, sender)
                staff_user = telegram_api.user(820002, "Hạnh", "vi")
                telegram_api.group_reply(TELEGRAM_STAFF_CHAT, staff_user, card, "Chào chị, em là Hạnh")
                return await ws.receive_json(timeout=60)

    message = asyncio.run(asyncio.wait_for(main(), 180))
    assert (message["author"], message["name"], message["text"]) == ("staff", "Hạnh", "Chào chị, em là Hạnh")


def test_claim_and_return_to_bot_from_the_card(stack, telegram_api):
    _linked_staff(stack, "tg-vy", "Vy", 820003)
    user = telegram_api.user(710009, "Son", "vi")
    telegram_api.say(user, "cho tôi gặp nhân viên")
    card = _card_for(telegram_api, "tg-710009")
    staff_user = telegram_api.user(820003, "Vy", "vi")
    claim = [b for b in buttons_of(card) if b["text"].startswith("Nhận")][0]
    claim_query = telegram_api.press(staff_user, card, claim["callback_data"])
    conversations = ConversationService(session_factory(stack.db_url))
    telegram_api.wait_for(lambda: conversations.summary("tg-710009").owner == "agent", 30, "the claim")
    assert telegram_api.wait_for(lambda: telegram_api.calls_to("answerCallbackQuery", callback_query_id=claim_query), 30)
    back = [b for b in buttons_of(card) if b["text"].startswith("Trả")][0]
    before = len(telegram_api.sent_to(710009))
    telegram_api.press(staff_user, card, back["callback_data"])
    telegram_api.wait_for(lambda: conversations.summary("tg-710009").owner == "bot", 30, "the return to the bot")
    # The bot says it is back and asks the Telegram customer for a rating.
    rating = telegram_api.replies(710009, before)
    assert [b["text"] for b in all_buttons(rating)] == ["1", "2", "3", "4", "5"]
    edits = telegram_api.calls_to("editMessageText", message_id=card["message_id"])
    assert "Vy" in edits[-1]["params"]["text"]
