"""The Telegram channel's pure parts: mapping updates, splitting text, button data, language, cards."""
from datetime import datetime

import pytest
from telegram import Update

from bot.channels.telegram.cards import CardFacts, card_text
from bot.channels.telegram.messages import (
    MAX_CALLBACK_DATA, callback_data_for, chat_for_sender, incoming_from_button, incoming_from_update,
    language_from_code, payload_from_callback_data, render, sender_for_chat, split_text,
)

USER = {"id": 42, "is_bot": False, "first_name": "Lan", "last_name": "Trần", "language_code": "en-GB"}
PRIVATE = {"id": 42, "type": "private", "first_name": "Lan"}


def update(**fields) -> Update:
    return Update.de_json({"update_id": 7, **fields}, None)


def message(**fields):
    return {"message_id": 5, "date": 1700000000, "chat": PRIVATE, "from": USER, **fields}


@pytest.mark.parametrize("code, language", [("en", "en"), ("en-US", "en"), ("EN", "en"), ("vi", "vi"), ("fr", "vi"),
                                            (None, "vi"), ("", "vi")])
def test_language_from_the_telegram_app(code, language):
    assert language_from_code(code) == language


def test_a_text_message_becomes_a_customer_message_with_language_metadata():
    incoming = incoming_from_update(update(message=message(text="tôi muốn khiếu nại")))
    assert (incoming.sender, incoming.chat_id, incoming.user_id, incoming.kind) == ("tg-42", 42, 42, "text")
    assert incoming.text == "tôi muốn khiếu nại" and incoming.user_name == "Lan Trần"
    assert incoming.metadata == {"language": "en", "channel": "telegram"}
    assert not incoming.edited


def test_nfd_text_is_normalised_to_nfc():
    nfd = "mu\u006f\u0302\u0301n"  # "muốn" typed as o + combining marks
    assert incoming_from_update(update(message=message(text=nfd))).text == "muốn"


def test_commands_edits_photos_documents_and_other_kinds():
    assert incoming_from_update(update(message=message(text="/start"))).kind == "start"
    assert incoming_from_update(update(message=message(text="/start@hotro_bot promo"))).kind == "start"
    assert incoming_from_update(update(message=message(text="/restart"))).kind == "restart"
    edited = incoming_from_update(update(edited_message=message(text="đơn DH100001", edit_date=1700000100)))
    assert (edited.kind, edited.text, edited.edited) == ("text", "đơn DH100001", True)
    photo = incoming_from_update(update(message=message(caption="hàng vỡ", photo=[
        {"file_id": "small", "file_unique_id": "a", "width": 90, "height": 90},
        {"file_id": "big", "file_unique_id": "b", "width": 900, "height": 900}])))
    assert photo.kind == "attachment" and photo.text == "hàng vỡ"
    assert photo.attachment.as_data() == {"attachment": {"kind": "photo", "file_id": "big", "file_name": None}}
    document = incoming_from_update(update(message=message(document={"file_id": "d", "file_unique_id": "d",
                                                                      "file_name": "hoa-don.pdf"})))
    assert document.attachment.as_data()["attachment"] == {"kind": "document", "file_id": "d", "file_name": "hoa-don.pdf"}
    sticker = incoming_from_update(update(message=message(sticker={
        "file_id": "s", "file_unique_id": "s", "width": 1, "height": 1, "is_animated": False, "is_video": False,
        "type": "regular"})))
    assert sticker.kind == "unsupported"


def test_group_messages_are_not_customer_messages():
    group = {"id": -100, "type": "supergroup", "title": "Staff"}
    assert incoming_from_update(update(message=message(chat=group, text="hello"))) is None


def test_a_button_press_is_the_payload_as_a_customer_message():
    pressed = update(callback_query={"id": "q", "from": USER, "chat_instance": "c", "data": "p/file_complaint",
                                     "message": message(text="Xin chào")})
    incoming = incoming_from_button(pressed, "/file_complaint")
    assert (incoming.sender, incoming.text, incoming.language) == ("tg-42", "/file_complaint", "en")


def test_senders_map_to_chats_and_back():
    assert sender_for_chat(42) == "tg-42" and chat_for_sender("tg-42") == 42
    assert chat_for_sender("tg--1001") == -1001
    assert chat_for_sender("web-42") is None and chat_for_sender("tg-abc") is None


@pytest.mark.parametrize("payload", [
    "/file_complaint",
    '/choose_category{"complaint_category":"damaged"}',
    '/choose_category{"complaint_category":"refund_payment","order_number":"DH100001"}',
    "/inform" + "x" * 300,
    '/chọn{"mô_tả":"hàng bị vỡ hết cả rồi, giao lại giúp mình nhé"}',
])
def test_callback_data_fits_64_bytes_and_gives_the_payload_back(payload):
    data, must_store = callback_data_for(payload)
    assert len(data.encode()) <= MAX_CALLBACK_DATA
    stored = {data: payload} if must_store else {}
    assert payload_from_callback_data(data, stored) == payload
    assert must_store == (len(("p" + payload).encode()) > MAX_CALLBACK_DATA)


def test_unknown_hashed_callback_data_gives_nothing():
    data, must_store = callback_data_for("/x" + "y" * 100)
    assert must_store and payload_from_callback_data(data, {}) is None
    assert payload_from_callback_data("zz", {}) is None


def test_long_text_is_split_at_line_then_word_boundaries():
    paragraph = "Xin chào bạn, đây là một dòng khá dài. " * 30
    text = "\n".join([paragraph.strip()] * 6)
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(len(piece) <= 4096 for piece in pieces)
    assert "\n".join(pieces) == text  # cut exactly at line breaks
    words = " ".join(["từ"] * 3000)
    pieces = split_text(words)
    assert all(len(p) <= 4096 and not p.startswith(" ") and not p.endswith(" ") for p in pieces)
    assert " ".join(pieces).split() == words.split()
    assert split_text("ngắn") == ["ngắn"]


def test_a_text_without_spaces_is_cut_hard_and_emoji_count_twice():
    assert [len(p) for p in split_text("a" * 9000)] == [4096, 4096, 808]
    emoji = "😀" * 3000  # 2 UTF-16 units each, as Telegram counts
    pieces = split_text(emoji)
    assert [len(p) for p in pieces] == [2048, 952] and "".join(pieces) == emoji


def test_render_puts_buttons_on_the_last_piece_and_names_staff():
    pieces, stored = render({"author": "bot", "text": "x " * 3000, "buttons": [
        {"title": "Gửi", "payload": "/affirm"}, {"title": "Hư hỏng", "payload": "/x" + "y" * 80}]})
    assert len(pieces) == 2 and pieces[0].markup() is None
    keyboard = pieces[1].markup().inline_keyboard
    assert [row[0].text for row in keyboard] == ["Gửi", "Hư hỏng"]
    assert keyboard[0][0].callback_data == "p/affirm" and list(stored.values()) == ["/x" + "y" * 80]
    staff, _ = render({"author": "staff", "name": "Lan", "text": "Chào anh"})
    assert staff[0].text == "Lan: Chào anh"
    assert render({"author": "bot", "text": "", "buttons": []}) == ([], {})
    # A 0-10 scale (NPS) is two rows of numbers, not eleven rows.
    scale, _ = render({"author": "bot", "text": "0-10?", "buttons": [
        {"title": str(i), "payload": '/rate_nps{"nps_score":"%d"}' % i} for i in range(11)]})
    assert [[key.text for key in row] for row in scale[0].markup().inline_keyboard] == [
        ["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]


def test_cards_mask_contacts_and_show_what_the_bot_learned():
    text = card_text(CardFacts(
        kind="queued", sender="tg-42", channel="telegram", contact="0912345678", ticket_code="KN-000007",
        priority="high", order_number="DH100001", category="damaged", description="vỡ, gọi 0903111222",
        acknowledge_due_at=datetime(2026, 1, 1, 3, 0),
        turns=(("customer", "cho tôi gặp nhân viên, email lan.tran@example.com"), ("bot", "Bạn chờ chút nhé")),
    ))
    assert "0912***678" in text and "0912345678" not in text
    assert "0903***222" in text and "0903111222" not in text
    assert "l***@example.com" in text and "lan.tran@example.com" not in text
    for expected in ("KN-000007", "DH100001", "telegram", "tg-42", "Bạn chờ chút nhé"):
        assert expected in text
    assert "Hàng bị hư hỏng" in text
