"""The FAQ through the real bot: answers, digressions, feedback, and an editor's change going live."""
from __future__ import annotations

import os
import time

from sqlalchemy import select

from bot.store.db import session_factory, session_scope
from bot.store.models import FaqEvent
from tests.faq_fixtures import WHOLESALE as NEW_TOPIC
from tests.integration.conftest import load_stretch


def faq_events(stack, kind):
    with session_scope(session_factory(stack.db_url)) as session:
        return session.execute(select(FaqEvent).where(FaqEvent.kind == kind)).scalars().all()


def test_faq_answered_in_each_language_form(chat):
    assert "1–2 ngày" in chat("faq-vi").say("Shop ơi giao hàng mất mấy ngày vậy?")
    assert "1–2 ngày" in chat("faq-kd").say("giao hang mat may ngay vay shop")
    assert "1–2 working days" in chat("faq-en").say("How long does delivery take?")


def test_answers_ask_for_feedback_and_a_thumbs_down_is_recorded(chat, stack):
    c = chat("faq-feedback")
    c.say("Phí ship bao nhiêu vậy shop?")
    thumbs = [b for b in c.buttons() if b["title"] == "👎"]
    assert thumbs, "an answer offers 👍 / 👎"
    reply = c.say(thumbs[0]["payload"])
    assert "Xin lỗi" in reply
    recorded = [e for e in faq_events(stack, "not_helpful") if e.sender_id == "faq-feedback"]
    assert [(e.faq_id, e.question) for e in recorded] == [("delivery-fee", "Phí ship bao nhiêu vậy shop?")]


def test_faq_question_in_the_middle_of_a_complaint_then_back_to_the_form(chat):
    c = chat("faq-in-form")
    c.say("tôi muốn khiếu nại")
    c.say("DH100002")
    reply = c.say("shop ơi phí ship bao nhiêu vậy")
    assert "30.000" in reply or "freeship" in reply.lower() or "miễn phí" in reply
    assert "vấn đề gì" in reply  # the form asks its question again
    assert "mô tả" in c.say("hàng bị vỡ")


def test_unanswerable_question_offers_a_way_forward_and_is_recorded(chat, stack):
    c = chat("faq-unknown")
    question = "shop có bán vé máy bay không?"
    reply = c.say(question)
    none_button = [b for b in c.buttons() if b["title"] == "Không phải các câu trên"]
    if none_button:  # "did you mean…" came first: none of them fits
        reply = c.say(none_button[0]["payload"])
    assert "khiếu nại" in reply and "nhân viên" in reply
    recorded = [e.question for e in faq_events(stack, "unanswered") if e.sender_id == "faq-unknown"]
    assert recorded == [question]


def test_did_you_mean_offers_up_to_three_entries_and_answers_the_chosen_one(chat):
    c = chat("faq-did-you-mean")
    # Vague: several entries are about the same thing.
    reply = c.say("cho mình hỏi về thanh toán")
    assert "Có phải bạn muốn hỏi" in reply
    choices = [b for b in c.buttons() if b["payload"].startswith("/faq_select")]
    entries = [b for b in choices if '"none"' not in b["payload"]]
    assert 1 <= len(entries) <= 3
    answer = c.say(entries[0]["payload"])
    assert "Câu trả lời này có giúp được bạn không?" in answer


def test_an_editor_change_is_live_within_five_seconds(chat, stack):
    path = stack.faq_dir / "lien-he.yml"
    text = path.read_text(encoding="utf-8")
    assert "1900 1234" in text
    path.write_text(text.replace("1900 1234", "1900 9999"), encoding="utf-8")
    os.utime(path)
    deadline = time.monotonic() + 5
    c = chat("faq-hot-reload")
    while True:
        reply = c.say("số hotline của shop là gì?")
        if "1900 9999" in reply:
            break
        assert time.monotonic() < deadline, f"old answer after 5 s: {reply}"
        time.sleep(0.5)
    path.write_text(text, encoding="utf-8")


def test_a_broken_faq_file_keeps_the_last_good_answers(chat, stack):
    path = stack.faq_dir / "giao-hang.yml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good + "\n  - id: [broken\n", encoding="utf-8")
    os.utime(path)
    time.sleep(1.5)
    try:
        assert "1–2 ngày" in chat("faq-broken").say("giao hàng mất mấy ngày vậy shop")
    finally:
        path.write_text(good, encoding="utf-8")




def test_a_new_topic_with_three_questions_is_answered_within_five_seconds(chat, stack):
    # The intent model has never seen this topic. The FAQ answers it when the NLU sends it there,
    # and also when the NLU calls it out_of_scope without conviction (0.56 for the issue's
    # "mua si co giam gia khong"); in the customer's language, with the link titled in it.
    path = stack.faq_dir / "ban-si.yml"
    path.write_text(NEW_TOPIC, encoding="utf-8")
    try:
        limit = 5 * load_stretch()
        deadline = time.monotonic() + limit
        attempt = 0
        while True:
            attempt += 1  # a new conversation each time: a miss must not leave a form behind
            reply = chat(f"faq-new-topic-vi-{attempt}").say("mua sỉ có giá riêng không shop")
            if "chiết khấu 10%" in reply:
                break
            assert time.monotonic() < deadline, f"no answer from the new entry after {limit:.0f} s: {reply}"
            time.sleep(0.5)
        assert "Bảng giá sỉ: https://shop.example.vn/gia-si" in reply
        assert "chiết khấu 10%" in chat("faq-new-topic-oos").say("mua si co giam gia khong")
        reply = chat("faq-new-topic-en").say("do you give a discount if I buy in bulk to resell?")
        assert "wholesale prices" in reply and "Wholesale price list: https://shop.example.vn/gia-si" in reply
        assert "Bảng giá sỉ" not in reply
        # The complaint intake is not taken over by the new topic.
        assert "mã đơn" in chat("faq-new-topic-complaint").say("tôi muốn khiếu nại").lower()
    finally:
        path.unlink()
