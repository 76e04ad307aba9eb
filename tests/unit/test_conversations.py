import pytest

from bot.services.conversations import ConversationError, ConversationService


def test_owner_defaults_to_the_bot_and_changes_are_kept(any_db_factory):
    service = ConversationService(any_db_factory)
    assert service.owner("new-customer") == "bot"
    service.set_owner("new-customer", "queued")
    assert service.owner("new-customer") == "queued"
    service.set_owner("new-customer", "agent", agent="lan")
    assert service.owner("new-customer") == "agent"


def test_invalid_owners_are_refused(any_db_factory):
    service = ConversationService(any_db_factory)
    with pytest.raises(ConversationError):
        service.set_owner("c", "robot")
    with pytest.raises(ConversationError):
        service.set_owner("c", "agent")  # which staff member?


def test_transcript_keeps_order_authors_and_markup_as_text(any_db_factory):
    service = ConversationService(any_db_factory)
    service.record("c1", "customer", "<script>alert(1)</script>")
    service.record("c1", "bot", "Xin chào", data={"buttons": [{"title": "A", "payload": "/a"}]})
    service.record("c1", "staff", "Chào chị, em là Lan", author_name="lan")
    lines = service.transcript("c1")
    assert [(l.author_type, l.author_name) for l in lines] == [("customer", None), ("bot", None), ("staff", "lan")]
    assert lines[0].text == "<script>alert(1)</script>"
    assert lines[1].data["buttons"][0]["payload"] == "/a"
    with pytest.raises(ConversationError):
        service.record("c1", "robot", "x")
