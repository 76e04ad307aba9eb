import pytest

from bot.services.intake import describes_problem, field_to_change, is_digression, summary_description


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
