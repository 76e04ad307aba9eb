"""The NLU components that look at the conversation: a typed answer to buttons, and chasing with nothing to chase."""
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.answers import ButtonAnswerReader, offered_buttons
from bot.nlu.escalation import EscalationDetector

RATING_BUTTONS = [{"title": str(i), "payload": '/rate{"rating":"%d"}' % i} for i in range(1, 6)]


def tracker_after(*events):
    return DialogueStateTracker.from_events("t-nlu", [ActionExecuted("action_listen"), *events])


def classified(text, intent="inform", confidence=0.94, ranking=None):
    ranking = ranking or [{"name": intent, "confidence": confidence}, {"name": "faq", "confidence": 0.03}]
    return Message(data={"text": text, "intent": {"name": intent, "confidence": confidence},
                         "intent_ranking": ranking, "entities": []})


def read(text, tracker, **kwargs):
    message = classified(text, **kwargs)
    ButtonAnswerReader().process([message], tracker)
    return message


def test_a_typed_5_after_the_rating_question_is_the_5_button():
    tracker = tracker_after(BotUttered("Bạn chấm mấy điểm?", data={"buttons": RATING_BUTTONS}))
    message = read("5 sao", tracker)
    assert message.get("intent") == {"name": "rate", "confidence": 1.0}
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [("rating", "5")]
    assert [r["name"] for r in message.get("intent_ranking")] == ["rate", "inform", "faq"]
    assert message.get("text") == "5 sao"  # the customer's words are kept
    # The form learns that these words answered (and are no detail of a complaint).
    assert message.get("button_answer") == {"title": "5", "payload": '/rate{"rating":"5"}'}
    assert "button_answer" in message.as_dict(only_output_properties=True)


def test_a_rating_with_a_reason_after_it():
    tracker = tracker_after(BotUttered("How would you rate?", data={"buttons": RATING_BUTTONS}))
    message = read("2/5, took too long", tracker)
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [("rating", "2")]


def test_not_an_answer_keeps_the_classifier_guess():
    tracker = tracker_after(BotUttered("Bạn chấm mấy điểm?", data={"buttons": RATING_BUTTONS}))
    message = read("phí ship đi Hà Nội bao nhiêu", tracker, intent="faq")
    assert message.get("intent")["name"] == "faq" and message.get("entities") == []
    assert message.get("button_answer") is None


def test_only_the_question_just_asked_counts():
    answered = tracker_after(BotUttered("?", data={"buttons": RATING_BUTTONS}), UserUttered("5"),
                             BotUttered("Cảm ơn bạn đã đánh giá!"))
    assert offered_buttons(answered) == []
    assert read("4", answered).get("intent")["name"] == "inform"
    new_session = tracker_after(BotUttered("?", data={"buttons": RATING_BUTTONS}), SessionStarted())
    assert offered_buttons(new_session) == []
    # Slots set after the question (a form's bookkeeping) do not hide it.
    later = tracker_after(BotUttered("?", data={"buttons": RATING_BUTTONS}), SlotSet("requested_slot", "x"))
    assert [b.title for b in offered_buttons(later)] == ["1", "2", "3", "4", "5"]


def test_without_a_tracker_nothing_changes():
    message = classified("5")
    ButtonAnswerReader().process([message], None)
    assert message.get("intent")["name"] == "inform"


def test_yes_to_the_phone_on_the_order():
    tracker = tracker_after(BotUttered("Shop liên hệ qua số 0903***222 được không ạ?", data={"buttons": [
        {"title": "Đồng ý", "payload": "/affirm"}, {"title": "Dùng số/email khác", "payload": "/deny"}]}))
    assert read("ok", tracker, intent="thank").get("intent")["name"] == "affirm"
    assert read("sai rồi bạn ơi", tracker, intent="greet").get("intent")["name"] == "deny"


def escalation(text, intent="escalate", confidence=0.8, ranking=None, tracker=None):
    ranking = ranking or [{"name": intent, "confidence": confidence},
                          {"name": "file_complaint", "confidence": 0.12}, {"name": "faq", "confidence": 0.05}]
    message = classified(text, intent=intent, confidence=confidence, ranking=ranking)
    EscalationDetector({}).process([message], tracker)
    return message.get("intent")


def test_a_late_parcel_is_a_first_report_not_chasing():
    assert escalation("đơn của mình giao chậm cả tuần nay rồi") == {"name": "file_complaint", "confidence": 0.8}
    assert escalation("my package is a week late")["name"] == "file_complaint"


def test_chasing_stands_with_a_reference_or_a_ticket():
    assert escalation("mình đã khiếu nại mấy hôm rồi mà giao chậm quá")["name"] == "escalate"
    assert escalation("mấy ngày rồi chưa ai trả lời mình")["name"] == "escalate"
    with_ticket = tracker_after(SlotSet("last_ticket_code", "KN-000001"))
    assert escalation("sao lâu vậy, cả tuần rồi", tracker=with_ticket)["name"] == "escalate"
    # Threats and abuse need nothing to chase.
    assert escalation("shop lừa đảo", intent="faq")["name"] == "escalate"


def test_without_a_problem_the_next_guess_or_a_fallback():
    ranking = [{"name": "escalate", "confidence": 0.6}, {"name": "request_human", "confidence": 0.3},
               {"name": "faq", "confidence": 0.1}]
    chosen = escalation("sao lâu vậy, cả tuần rồi", confidence=0.6, ranking=ranking)
    assert chosen["name"] == "request_human" and abs(chosen["confidence"] - 0.75) < 1e-9
    weak = [{"name": "escalate", "confidence": 0.6}, {"name": "faq", "confidence": 0.15},
            {"name": "greet", "confidence": 0.15}, {"name": "thank", "confidence": 0.1}]
    assert escalation("sao lâu vậy, cả tuần rồi", confidence=0.6, ranking=weak)["name"] == "nlu_fallback"


def test_a_problem_split_between_inform_and_file_complaint_is_a_complaint():
    from bot.nlu.complaints import ComplaintAmbiguityResolver

    hesitant = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "inform", "confidence": 0.51},
                {"name": "file_complaint", "confidence": 0.46}, {"name": "faq", "confidence": 0.01}]
    message = classified("đơn DH100012 bị vỡ nát hết, đóng gói kiểu j vậy???", intent="nlu_fallback",
                         confidence=0.5, ranking=hesitant)
    ComplaintAmbiguityResolver().process([message])
    assert message.get("intent")["name"] == "file_complaint"
    assert abs(message.get("intent")["confidence"] - 0.97) < 1e-9
    assert [r["name"] for r in message.get("intent_ranking")] == ["file_complaint", "inform", "faq"]

    # No problem named, another pair of intents, or a weak pair: the fallback stands.
    for text, ranking in [
        ("ờ thì cũng được", hesitant),
        ("hàng bị vỡ", [hesitant[0], {"name": "inform", "confidence": 0.4}, {"name": "faq", "confidence": 0.38}]),
        ("hàng bị vỡ", [hesitant[0], {"name": "inform", "confidence": 0.2}, {"name": "file_complaint", "confidence": 0.2}]),
    ]:
        message = classified(text, intent="nlu_fallback", confidence=0.5, ranking=ranking)
        ComplaintAmbiguityResolver().process([message])
        assert message.get("intent")["name"] == "nlu_fallback", text
