from datetime import datetime

from bot.services.priority import derive_priority
from bot.services.sla import SERVICE_LEVELS, due_times


def test_normal_complaint_gets_the_seed_service_level():
    assert derive_priority("wrong_item", ["áo giao sai màu"]) == "normal"
    created = datetime(2026, 11, 25, 8, 0)
    ack, resolve = due_times("normal", created)
    assert (ack - created).total_seconds() == 24 * 3600
    assert (resolve - created).total_seconds() == 48 * 3600


def test_urgency_words_raise_priority():
    assert derive_priority("damaged", ["cần gấp, mai tôi đi rồi"]) == "high"
    assert derive_priority("damaged", ["please fix this asap"]) == "high"


def test_meeting_a_person_is_not_urgency():
    # "gặp" (meet) and "gấp" (urgent) fold alike; only the accented form counts.
    assert derive_priority("other", ["cho tôi gặp nhân viên"]) == "normal"


def test_fraud_and_police_threats_are_urgent():
    assert derive_priority("other", ["shop lừa đảo, tôi sẽ báo công an"]) == "urgent"
    assert derive_priority("other", ["shop lua dao"]) == "urgent"
    assert derive_priority("other", ["this is a scam"]) == "urgent"


def test_opinion_is_not_a_lawsuit():
    assert derive_priority("other", ["tôi có ý kiến về đơn hàng"]) == "normal"


def test_money_and_repeat_complaints_are_high():
    assert derive_priority("refund_payment", ["muốn hoàn tiền"]) == "high"
    assert derive_priority("wrong_item", ["sai màu"], earlier_tickets_for_order=1) == "high"


def test_higher_priority_means_shorter_promises():
    assert SERVICE_LEVELS["high"].acknowledge < SERVICE_LEVELS["normal"].acknowledge
    assert SERVICE_LEVELS["urgent"].resolve < SERVICE_LEVELS["high"].resolve <= SERVICE_LEVELS["normal"].resolve
