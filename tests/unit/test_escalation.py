"""What hands a conversation to a person at once: threats, abuse, a customer chasing a complaint."""
import pytest

from bot.services.escalation import asks_to_escalate, classify, complaint_needs_person, trigger
from bot.services.priority import derive_priority, raised


@pytest.mark.parametrize(
    "text",
    [
        "shop lừa đảo, tôi sẽ báo công an",
        "shop lua dao",
        "đồ lừa đảo",
        "SHOP LỪA ĐẢO",
        "bao cong an bay gio",
        "tôi sẽ kiện shop",
        "toi se kien shop",
        "tôi sẽ khởi kiện",
        "gặp nhau ở toà án",  # tone mark on the other vowel
        "gặp nhau ở tòa án",
        "tôi nhờ luật sư rồi",
        "kiện!",
        "this is a scam",
        "I'm calling the police",
        "I will sue you",
        "you scammers",
        "muốn khiếu nại mà bị lừa đảo",
    ],
)
def test_threats(text):
    assert classify(text) == "threat"


@pytest.mark.parametrize(
    "text",
    [
        "kiện hàng bị móp",  # parcel
        "kien hang bi mop",
        "tôi nhận được 2 kiện",
        "các kiện hàng đến đủ chưa",
        "bưu kiện chưa tới",
        "thiếu phụ kiện sạc",
        "phu kien bi thieu",
        "điều kiện đổi trả là gì",
        "sự kiện khuyến mãi tháng 11",
        "linh kiện bị lỗi",
        "tôi sẽ kiên nhẫn chờ",  # patience: kiên, not kiện
        "toi se kien nhan cho",
        "tôi có ý kiến về đơn hàng",  # opinion
        "y kien cua toi",
        "tôi muốn kiến nghị",
        "cộng ăn",  # folds like "cong an"
        "tổng cộng ăn uống hết 200k",
        "lụa đào mềm lắm",  # folds like "lua dao"
        "ra toa tàu",
        "sản phẩm tốt",
        "tôi muốn tố cáo nhân viên tư vấn hỗn láo",  # a complaint about staff, not a threat
        "",
        None,
        "/inform",
    ],
)
def test_not_threats(text):
    assert classify(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "dm shop",
        "đm giao chậm thế",
        "ĐM",
        "giao chậm vl",
        "vcl thật",
        "đồ ngu",
        "bọn óc chó",
        "oc cho",
        "làm ăn khốn nạn",
        "mất dạy",
        "đéo hiểu nổi",
        "ngu như bò",
        "this is fucking ridiculous",
        "what the fuck",
        "you idiots",
        "bullshit service",
        "screw you",
    ],
)
def test_abuse(text):
    assert classify(text) == "abuse"


@pytest.mark.parametrize(
    "text",
    [
        "áo đẹp vl",  # praise: slang intensifier
        "giao nhanh vcl",
        "DM me the code please",  # a direct message
        "send a dm",
        "đồ ngủ bị rách",  # pyjamas, not "đồ ngu"
        "do ngu bi rach",  # without diacritics: could be pyjamas
        "đeo thử thấy chật",  # "đeo" (wear) folds like "đéo"
        "deo thu thay chat",
        "lon nước ngọt bị móp",  # a can
        "các sản phẩm",  # "các" folds like a swear word
        "cho má tôi một cái",  # "for my mum"
        "mình ngu quá không biết dùng",  # self-deprecation is not abuse
        "shop ơi cho mình hỏi",
        "I'm so frustrated, nothing arrived",
    ],
)
def test_not_abuse(text):
    assert classify(text) is None


def test_a_threat_wins_over_abuse():
    assert classify("đm lừa đảo") == "threat"


@pytest.mark.parametrize(
    "text",
    [
        "KN-000123 mấy ngày rồi chưa ai xử lý, tôi muốn gặp quản lý",
        "escalate my ticket",
        "please escalate this",
        "sao khiếu nại của tôi chưa được giải quyết",
        "sao khieu nai cua toi chua duoc giai quyet",
        "phiếu của tôi không ai trả lời",
        "my complaint still hasn't been resolved",
        "nobody has contacted me about my ticket",
        "kn 12 chua ai lien he",
    ],
)
def test_chasing_a_complaint(text):
    assert asks_to_escalate(text)
    assert trigger(text) == "escalation"


@pytest.mark.parametrize(
    "text",
    [
        "đơn của tôi chưa được xử lý",  # an order, not a complaint
        "tôi muốn gặp quản lý",  # a person, no complaint mentioned
        "I need to speak with a manager",
        "phiếu KN-000040 của tôi giải quyết xong chưa",  # a status question
        "has KN 000046 been resolved yet",
        "sao phiếu khiếu nại của tôi chưa thấy cập nhật",
        "tôi muốn khiếu nại",
        "/escalate",
    ],
)
def test_not_chasing(text):
    assert not asks_to_escalate(text)


def test_threat_words_make_a_complaint_urgent_and_parcels_do_not():
    assert derive_priority("damaged", ["kiện hàng bị móp, tôi sẽ kiện shop"]) == "urgent"
    assert derive_priority("damaged", ["kiện hàng bị móp"]) == "normal"
    assert derive_priority("other", ["tổng cộng ăn uống hết 200k"]) == "normal"


def test_priority_steps():
    assert raised("normal") == "high"
    assert raised("high") == "urgent"
    assert raised("urgent") == "urgent"
    assert raised("normal", minimum="urgent") == "urgent"
    assert raised("high", minimum="normal") == "urgent"


def test_which_complaints_go_to_a_person():
    assert complaint_needs_person("high") and complaint_needs_person("urgent")
    assert not complaint_needs_person("normal")
