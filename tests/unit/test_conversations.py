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


def test_live_handoff_needs_opening_hours_and_someone_online(db_factory):
    from datetime import datetime, timedelta

    from bot.services.handoff import HandoffRequest, HandoffService, LiveHandoff, within_hours
    from bot.services.tickets import TicketService

    assert within_hours(datetime(2026, 11, 26, 8, 0), "08:00-21:00")
    assert not within_hours(datetime(2026, 11, 26, 21, 30), "08:00-21:00")
    assert within_hours(datetime(2026, 11, 26, 23, 59), "00:00-24:00")

    now = datetime(2026, 11, 26, 3, 0)  # 10:00 in Vietnam
    seen = {"at": None}
    conversations = ConversationService(db_factory)
    live = LiveHandoff(conversations, lambda: seen["at"], "08:00-21:00", 10, clock=lambda: now)
    service = HandoffService(TicketService(db_factory), live)
    request = lambda key, sender: HandoffRequest(key, sender, "web", "vi", "customer_asked", recent_customer_texts=("cần người",))

    nobody = service.request(request("k1", "c1"))
    assert nobody.mode == "ticket" and conversations.owner("c1") == "bot"
    seen["at"] = now - timedelta(minutes=3)
    first = service.request(request("k2", "c2"))
    second = service.request(request("k3", "c3"))
    assert (first.mode, first.queue_position, second.queue_position) == ("queued", 1, 2)
    assert conversations.owner("c2") == "queued" and first.ticket.code  # a ticket all the same
    seen["at"] = now - timedelta(minutes=30)
    assert service.request(request("k4", "c4")).mode == "ticket"


def test_a_rating_goes_to_whoever_held_the_chat_even_without_a_word(any_db_factory):
    """A staff member who phoned the customer and handed the chat back in silence still gets the rating."""
    from bot.services.staff import StaffService

    StaffService(any_db_factory).add("thu.le", "correct horse battery staple", "Thu")
    service = ConversationService(any_db_factory)
    service.record("silent", "customer", "alo shop")
    assert service.last_agent("silent") is None
    service.set_owner("silent", "agent", agent="thu.le")
    service.set_owner("silent", "bot")
    assert service.last_agent("silent") == "Thu"  # the display name, as a staff line would carry it
    # A hold by a name with no staff row (an old account) still names someone.
    service.set_owner("silent", "agent", agent="gone")
    service.set_owner("silent", "bot")
    assert service.last_agent("silent") == "gone"


def test_without_a_recorded_hold_the_last_staff_line_names_the_agent(any_db_factory):
    service = ConversationService(any_db_factory)
    service.record("old", "staff", "Em xử lý xong rồi ạ", author_name="Lan")
    assert service.last_agent("old") == "Lan"


def test_a_chat_is_asked_for_a_rating_once(any_db_factory):
    service = ConversationService(any_db_factory)
    service.record("r1", "bot", "Bạn cần gì thêm không?", data={"buttons": [
        {"title": "0", "payload": '/rate_nps{"nps_score":"0"}'}]})  # an NPS question is not the rating
    assert not service.rating_asked("r1")
    service.record("r1", "bot", "Bạn chấm mấy điểm?", data={"buttons": [
        {"title": str(i), "payload": '/rate{"rating":"%d"}' % i} for i in range(1, 6)]})
    assert service.rating_asked("r1")  # asked, even if never answered
    assert not service.rating_asked("r2")
    service.rate("r2", 4, "Lan")  # rated (by a button the transcript lost): asked too
    assert service.rating_asked("r2")
