import pytest

from bot.services.intake import (
    adds_detail, append_detail, describes_problem, field_to_change, is_digression, new_order_number, summary_description,
)


def test_faq_question_interrupts_a_form_question():
    assert is_digression("order_number", "faq", 0.9, "phí ship bao nhiêu")


def test_low_confidence_does_not_interrupt():
    assert not is_digression("order_number", "faq", 0.3, "phí ship bao nhiêu")


def test_a_message_with_data_is_an_answer_even_if_it_sounds_like_chat():
    assert not is_digression("contact", "thank", 0.9, "sđt của mình 0912345678 cảm ơn")


def test_description_takes_any_free_text_except_stopping():
    assert not is_digression("complaint_description", "faq", 0.95, "tôi hỏi shop phí ship thì không ai trả lời")
    assert is_digression("complaint_description", "cancel", 0.9, "thôi hủy đi")
    assert is_digression("complaint_description", "request_human", 0.9, "cho tôi gặp nhân viên")


def test_a_question_is_answered_even_when_it_names_a_problem():
    # "refund" is a category word, yet this asks: answered, then the same question again.
    assert is_digression("contact", "faq", 0.95, "how long does a refund take?")
    assert is_digression("complaint_confirmed", "faq", 0.9, "đổi trả hàng lỗi trong bao lâu vậy shop")
    # At the description, only a question that names no problem leaves it.
    assert is_digression("complaint_description", "faq", 1.0, "sp bảo hành bao lâu v shop")
    assert not is_digression("complaint_description", "faq", 0.9, "sao hàng lại bị vỡ vậy?")
    # A question that also answers the question asked, or carries an order number or a phone, answers the form.
    assert not is_digression("complaint_category", "faq", 0.9, "hàng bị vỡ thì đổi được không?")
    assert not is_digression("contact", "faq", 0.9, "gọi 0912345678 được không?")


def test_button_presses_are_exact():
    assert is_digression("order_number", "cancel", 1.0, "/cancel")
    assert not is_digression("complaint_confirmed", "affirm", 1.0, "/affirm")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("đơn DH100003 bị giao sai màu", True),
        ("my order arrived damaged and the box was crushed", True),
        ("tôi muốn khiếu nại", False),
        ("hàng bị vỡ", True),
        ("vỡ", False),
        ("/file_complaint", False),
    ],
)
def test_describes_problem(text, expected):
    assert describes_problem(text) is expected


@pytest.mark.parametrize(
    "text, field",
    [
        ("sửa số điện thoại", "contact"),
        ("change the phone number", "contact"),
        ("đổi mã đơn hàng", "order_number"),
        ("the order number is wrong", "order_number"),
        ("sửa lại mô tả", "complaint_description"),
        ("loại vấn đề chưa đúng", "complaint_category"),
        ("sửa giúp mình", None),
    ],
)
def test_field_to_change(text, field):
    assert field_to_change(text) == field


def test_button_entity_wins():
    assert field_to_change("/change_field", "contact") == "contact"
    assert field_to_change("/change_field", "not_a_field") is None


def test_summary_clips_long_descriptions():
    assert summary_description("x" * 1000).endswith("…")
    assert len(summary_description("x" * 1000)) == 301
    assert summary_description("ngắn") == "ngắn"


def test_intents_triggered_by_the_gateway_are_exact():
    assert is_digression("order_number", "handback", 0.0, "EXTERNAL: handback")


def test_escalate_interrupts_questions_but_not_the_description():
    from bot.services.intake import is_digression

    # The description is free text: a threat in it is part of the complaint (the ticket turns urgent).
    assert not is_digression("complaint_description", "escalate", 1.0, "shop lừa đảo, áo rách hết")
    assert is_digression("order_number", "escalate", 1.0, "shop lừa đảo")
    assert not is_digression("order_number", "escalate", 1.0, "DH100001 đây, đồ lừa đảo")  # it answers
    # Checking a ticket and chasing it: escalate, even with the code in the message.
    assert is_digression("ticket_code", "escalate", 1.0, "KN-000123 chưa ai xử lý")


@pytest.mark.parametrize("step, text, intent, expected", [
    ("contact", "thiếu cái ốp lưng trong hộp", "inform", True),
    ("contact", "thieu cai op lung trong hop", "inform", True),
    ("contact", "the phone case wasn't in the box either", "inform", True),
    ("order_number", "cái áo bị rách ở tay", "faq", True),  # the problem words are enough
    ("complaint_confirmed", "à quên, hộp cũng bị móp", "inform", True),
    ("complaint_category", "cái ốp lưng không thấy đâu", "inform", True),
    # Answers to the question, however badly typed:
    ("complaint_category", "hàng bị vỡ hết rồi", "inform", False),
    ("contact", "0912 345", "inform", False),
    ("contact", "dùng số khác giúp mình", "inform", False),
    ("contact", "gọi cho mình qua zalo nhé", "inform", False),
    ("order_number", "mình không nhớ mã đơn", "inform", False),
    ("contact", "đơn DH100014 cũng thiếu", "inform", False),  # another order: offer to switch instead
    ("contact", "ok", "affirm", False),
    ("contact", "để mình hỏi lại vợ đã", "out_of_scope", False),
    ("complaint_description", "thiếu cái ốp lưng trong hộp", "inform", False),  # there it is the answer
    ("contact", "/inform", "inform", False),
    # Once the order is known, words the classifier could not place are a detail, not a broken phone...
    ("contact", "nồi chiên bật ko lên, đèn ko sáng", "nlu_fallback", True),
    ("complaint_confirmed", "cái nắp cũng mất luôn rồi", "nlu_fallback", True),
    ("order_number", "mình để quên đâu rồi", "nlu_fallback", False),
    # ...and a question is asked, not told.
    ("contact", "how long does a refund take?", "faq", False),
    ("contact", "hoàn tiền mất bao lâu vậy shop", "faq", False),
    ("contact", "đóng gói kiểu gì vậy???", "nlu_fallback", True),
    ("contact", "mở hộp ra thì đèn không sáng, bấm nút cũng không", "nlu_fallback", True),
])
def test_a_detail_instead_of_an_answer(step, text, intent, expected):
    assert adds_detail(step, text, intent) is expected


def test_details_are_appended_once_within_the_size_kept():
    assert append_detail("bị giao thiếu 1 món", "thiếu ốp lưng") == "bị giao thiếu 1 món. thiếu ốp lưng"
    assert append_detail("bị giao thiếu 1 món!", "thiếu ốp lưng") == "bị giao thiếu 1 món! thiếu ốp lưng"
    assert append_detail(None, "thiếu ốp lưng") == "thiếu ốp lưng"
    assert append_detail("thiếu ốp lưng", "thiếu ốp lưng") == "thiếu ốp lưng"
    assert len(append_detail("x" * 4990, "y" * 100)) == 5000


def test_another_order_number():
    assert new_order_number("à nhầm, đơn dh 100 014 mới đúng", "DH100013") == "DH100014"
    assert new_order_number("đơn DH100013 đó", "DH100013") is None
    assert new_order_number("đơn DH100014", None) is None
    assert new_order_number("0912345678", "DH100013") is None
