import pytest

from bot.categories import CATEGORIES, LABELS, classify_category


@pytest.mark.parametrize(
    "text, category",
    [
        ("giao sai màu", "wrong_item"),
        ("đơn DH100003 bị giao sai màu", "wrong_item"),
        ("you sent me the wrong size", "wrong_item"),
        ("hàng bị vỡ", "damaged"),
        ("hang bi vo", "damaged"),
        ("my order arrived damaged", "damaged"),
        ("chưa nhận được hàng", "late_delivery"),
        ("the package never arrived", "late_delivery"),
        ("shop giao thiếu 1 món", "missing_item"),
        ("muốn hoàn tiền", "refund_payment"),
        ("I was charged twice", "refund_payment"),
        ("nhân viên thái độ", "service_attitude"),
        ("shipper thiếu tôn trọng khách", "service_attitude"),
        ("the courier was rude", "service_attitude"),
        ("other", "other"),
        # Words in between, and teen-code negations.
        ("giao hàng gì mà chậm quá trời", "late_delivery"),
        ("ship hang cham qua", "late_delivery"),
        ("máy bật ko lên", "damaged"),
        ("quạt mở không được", "damaged"),
        ("đèn ko sáng nữa", "damaged"),
        ("may k hoat dong", "damaged"),
    ],
)
def test_classify(text, category):
    assert classify_category(text) == category


@pytest.mark.parametrize("text", ["tôi muốn khiếu nại", "xin chào", "", "vợ tôi nhờ hỏi", "giao hàng mất bao lâu",
                                  "giao hàng nhanh lắm"])
def test_no_category(text):
    assert classify_category(text) is None


def test_every_category_has_labels_in_both_languages():
    for language in ("vi", "en"):
        assert set(LABELS[language]) == set(CATEGORIES)
