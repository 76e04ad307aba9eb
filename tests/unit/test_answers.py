"""Typed replies read against the buttons the bot has just offered (bot/services/answers.py)."""
import pytest

from bot.services.answers import Button, buttons_from, parse_payload, read_answer

RATING = [Button(str(i), '/rate{"rating":"%d"}' % i) for i in range(1, 6)]
CONFIRM_PHONE = [Button("Đồng ý", "/affirm"), Button("Dùng số/email khác", "/deny")]
CATEGORIES = [
    Button(title, '/inform{"complaint_category":"%s"}' % value)
    for title, value in [
        ("Giao sai hàng", "wrong_item"), ("Hàng hư hỏng, vỡ", "damaged"), ("Giao chậm / chưa nhận", "late_delivery"),
        ("Thiếu hàng", "missing_item"), ("Hoàn tiền / thanh toán", "refund_payment"),
        ("Thái độ phục vụ", "service_attitude"), ("Vấn đề khác", "other"),
    ]
]
SUMMARY = [
    Button("Xác nhận gửi", "/affirm"), Button("Sửa mã đơn", '/change_field{"field":"order_number"}'),
    Button("Sửa mô tả", '/change_field{"field":"complaint_description"}'), Button("Hủy", "/cancel"),
]
HELPFUL = [Button("👍", '/faq_feedback{"faq_id":"ship","helpful":"yes"}'),
           Button("👎", '/faq_feedback{"faq_id":"ship","helpful":"no"}')]
OFFER_HUMAN = [Button("Gặp nhân viên", "/request_human"), Button("Không, cảm ơn", "/deny")]


def title(text, buttons):
    found = read_answer(text, buttons)
    return found.title if found else None


@pytest.mark.parametrize("text, score", [
    ("5", "5"), ("5 sao", "5"), ("năm", "5"), ("nam", "5"), ("rất hài lòng", "5"), ("rat hai long", "5"),
    ("tệ quá", "1"), ("5/5", "5"), ("4 trên 5", "4"), ("mình chấm 4 điểm nhé", "4"), ("5 sao, cảm ơn shop", "5"),
    ("bình thường", "3"), ("hài lòng", "4"), ("không hài lòng", "2"), ("1 sao thôi", "1"),
    ("very good", "5"), ("four stars", "4"), ("terrible", "1"), ("3 points", "3"), ("Hai", "2"),
    ("  5  ", "5"), ("５", None),
    # A word before, or a comment after: still the rating.
    ("ok 5 sao", "5"), ("5 diem nha shop, nv nhiet tinh", "5"), ("2/5, took too long", "2"),
    ("4 stars. the staff were kind", "4"), ("tệ quá, chờ cả buổi", "1"),
])
def test_a_rating_typed_in_words_or_numbers(text, score):
    assert title(text, RATING) == score


@pytest.mark.parametrize("text", [
    "ok", "ok cảm ơn", "cảm ơn", "10", "0", "5 ngày rồi chưa nhận hàng", "phí ship bao nhiêu vậy",
    "đơn DH100005 bị vỡ", "tôi muốn khiếu nại", "/rate{\"rating\":\"5\"}", "",
    # A comment that carries something new is more than a comment.
    "5, đơn DH100003 vẫn chưa giao", "ok, gọi mình số 0912345678",
])
def test_what_is_not_a_rating_is_left_to_the_classifier(text):
    assert read_answer(text, RATING) is None


@pytest.mark.parametrize("text, expected", [
    ("ok", "Đồng ý"), ("đúng", "Đồng ý"), ("đúng rồi", "Đồng ý"), ("dạ", "Đồng ý"), ("dạ vâng", "Đồng ý"),
    ("ừ", "Đồng ý"), ("yes", "Đồng ý"), ("đồng ý", "Đồng ý"), ("Đồng ý ạ", "Đồng ý"),
    ("không", "Dùng số/email khác"), ("ko", "Dùng số/email khác"), ("sai rồi bạn ơi", "Dùng số/email khác"),
    ("nope", "Dùng số/email khác"), ("dùng số/email khác", "Dùng số/email khác"),
    ("thiếu cái ốp lưng trong hộp", None), ("0912345678", None), ("ok nhưng gọi sau 6h nhé", None),
    # Yes-words together, "that number" pointed at, a comment after a comma.
    ("ok đc", "Đồng ý"), ("ok số đó đc, xin lỗi nãy mình hơi nóng", "Đồng ý"), ("ừ đúng, số đó đó", "Đồng ý"),
    ("ko phải, số đó mình ko dùng nữa", "Dùng số/email khác"),
    ("ok, nhưng gọi sau 6h nhé", None), ("ko, gọi 0912345678 nhé", None), ("ok, số nào cũng được à?", None),
    ("nồi chiên bật ko lên, đèn ko sáng", None), ("ko dc", None),
])
def test_yes_and_no_follow_the_buttons_meaning(text, expected):
    assert title(text, CONFIRM_PHONE) == expected


@pytest.mark.parametrize("text, expected", [
    ("cái thứ hai", "Hàng hư hỏng, vỡ"), ("thứ 3", "Giao chậm / chưa nhận"), ("số 2", "Hàng hư hỏng, vỡ"),
    ("2", "Hàng hư hỏng, vỡ"), ("the second one", "Hàng hư hỏng, vỡ"), ("first", "Giao sai hàng"),
    ("cái đầu tiên", "Giao sai hàng"), ("cái cuối", "Vấn đề khác"),
    ("giao chậm", "Giao chậm / chưa nhận"), ("thiếu hàng", "Thiếu hàng"), ("Thái độ phục vụ", "Thái độ phục vụ"),
    ("vấn đề khác", "Vấn đề khác"), ("thai do phuc vu", "Thái độ phục vụ"),
    # "sáu" alone is "later", "hai" alone is not a position, 9 is past the end, "ok" chooses nothing.
    ("sau", None), ("hai", None), ("9", None), ("ok", None), ("hàng bị móp méo hết", None),
])
def test_a_choice_by_title_or_position(text, expected):
    assert title(text, CATEGORIES) == expected


def test_summary_ok_submits_and_a_title_changes_that_field():
    assert title("ok", SUMMARY) == "Xác nhận gửi"
    assert title("sửa mô tả", SUMMARY) == "Sửa mô tả"
    assert title("hủy", SUMMARY) == "Hủy"
    # No "no" button here: the classifier's deny (which asks what to change) decides.
    assert read_answer("không", SUMMARY) is None


def test_helpful_and_offer_of_a_person():
    assert title("có", HELPFUL) == "👍" and title("không", HELPFUL) == "👎" and title("👍", HELPFUL) == "👍"
    assert title("ko, chả giúp dc j", HELPFUL) == "👎" and title("có, cảm ơn shop nhiều", HELPFUL) == "👍"
    # "ok" to "shall I put you through?" has no yes-button to stand for: the classifier's affirm and the rule do.
    assert read_answer("ok", OFFER_HUMAN) is None
    assert title("không", OFFER_HUMAN) == "Không, cảm ơn"
    assert title("gặp nhân viên", OFFER_HUMAN) == "Gặp nhân viên"


def test_payloads_and_raw_buttons():
    assert parse_payload('/rate{"rating":"5"}') == ("rate", {"rating": "5"})
    assert parse_payload("/affirm") == ("affirm", {})
    assert parse_payload("/rate{oops") == (None, {})
    assert parse_payload("hello") == (None, {})
    assert buttons_from([{"title": "5", "payload": "/rate"}, {"title": "link", "url": "https://x"}]) == [
        Button("5", "/rate")]


NPS = [Button(str(i), '/rate_nps{"nps_score":"%d"}' % i) for i in range(0, 11)]
CES = [Button(str(i), '/rate_ces{"ces_score":"%d"}' % i) for i in range(1, 6)]


@pytest.mark.parametrize("text, score", [
    ("10", "10"), ("10 điểm", "10"), ("10/10", "10"), ("mười", "10"), ("muoi diem", "10"), ("0", "0"),
    ("chín", "9"), ("8 nhé", "8"), ("seven", "7"), ("11", None), ("rất hài lòng", None),
    ("10 ngày rồi chưa nhận hàng", None),
])
def test_nps_typed_on_the_0_to_10_scale(text, score):
    assert title(text, NPS) == score


@pytest.mark.parametrize("text, score", [
    ("rất dễ", "5"), ("rat de", "5"), ("very easy", "5"), ("dễ", "4"), ("khá dễ", "4"), ("easy", "4"),
    ("bình thường", "3"), ("hơi khó", "2"), ("difficult", "2"), ("khó quá", "1"), ("very hard", "1"),
    ("4", "4"), ("5 điểm", "5"),
    ("rất hài lòng", None),  # satisfaction is not ease: asked how easy, that is no answer
])
def test_ces_typed_in_words_of_ease(text, score):
    assert title(text, CES) == score
