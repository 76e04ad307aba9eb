"""A customer's request to erase their personal data, on a real database and Rasa's real tracker store."""
import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from bot import cli
from bot.services import registry
from bot.services.conversations import ConversationService
from bot.services.faq import FaqService
from bot.services.kpis import KpiService
from bot.services.privacy import ERASED, PrivacyService, erase_rasa_history, rasa_settings
from bot.services.tickets import ComplaintSubmission, TicketService
from bot.store.db import session_scope
from bot.store.models import Customer, Message, Order, Ticket


def _complaint(factory, key, sender, contact, order=None, customer_id=None, channel="web"):
    ticket, _ = TicketService(factory).open(ComplaintSubmission(
        key, sender, channel, "vi", order, order is not None, "damaged", f"vỡ ly, gọi tôi {contact}", contact,
        customer_id=customer_id))
    return ticket.code


def _people(factory):
    """Lan on the website and on Telegram (same phone), and Minh, who asked for nothing."""
    chats = ConversationService(factory)
    with session_scope(factory) as session:
        lan_id = session.execute(select(Order.customer_id).where(Order.number == "DH100001")).scalar_one()
    chats.record("web-lan", "customer", "đơn DH100001 bị vỡ, số tôi 0912 345 678")
    chats.record("web-lan", "staff", "Chị Lan ơi, em gọi lại số 0912***678 nhé", author_name="thu")
    web = _complaint(factory, "lan-web", "web-lan", "0912345678", "DH100001", lan_id)
    chats.record("tg-5551", "customer", "lại là tôi, 0912345678", channel="telegram")
    telegram = _complaint(factory, "lan-tg", "tg-5551", "0912345678", channel="telegram")
    TicketService(factory).set_status(web, "in_progress", "thu", "Đã gọi chị Lan ở 0912345678")
    FaqService(None, factory).record("unanswered", "ship về nhà tôi ở 12 Lý Thường Kiệt được không", "vi", "web-lan")
    chats.record("web-minh", "customer", "giao thiếu hàng, email minh@example.com")
    minh = _complaint(factory, "minh", "web-minh", "minh@example.com")
    return lan_id, {web, telegram}, minh


def test_everything_of_the_person_is_found_from_any_of_their_details(db_factory):
    lan_id, lan_tickets, minh = _people(db_factory)
    service = PrivacyService(db_factory)
    for who in ("0912 345 678", "+84912345678", sorted(lan_tickets)[0], "tg-5551"):
        found = service.find(who)
        assert set(found.sender_ids) >= {"web-lan", "tg-5551"} and "web-minh" not in found.sender_ids, who
        assert lan_tickets <= set(found.ticket_codes) and minh not in found.ticket_codes
        assert lan_id in found.customer_ids
    assert service.find("0999 999 999") is None and service.find("KN-999999") is None


def test_erasing_removes_texts_and_contacts_but_keeps_the_figures(db_factory):
    lan_id, lan_tickets, minh = _people(db_factory)
    before = KpiService(db_factory).report(datetime.utcnow() - timedelta(days=1)).tickets.opened
    service = PrivacyService(db_factory)
    service.erase(service.find("0912345678"))

    chats = ConversationService(db_factory)
    for sender in ("web-lan", "tg-5551"):
        assert {line.text for line in chats.transcript(sender, for_staff=True)} == {ERASED}
    assert "minh@example.com" in chats.transcript("web-minh")[0].text  # someone else's data stays
    tickets = TicketService(db_factory)
    for code in lan_tickets:
        ticket = tickets.get(code)
        assert ticket.description == ERASED and ticket.contact is None
    assert tickets.get(minh).contact == "minh@example.com"
    with session_scope(db_factory) as session:
        lan = session.get(Customer, lan_id)
        assert (lan.name, lan.phone, lan.email) == ("", None, None)
        everything = " ".join(session.execute(select(Message.text)).scalars()) + " ".join(
            t.description + (t.contact or "") + " ".join(e.note for e in t.events)
            for t in session.execute(select(Ticket)).scalars())
        assert "0912345678" not in everything and "0912 345 678" not in everything
        assert session.execute(select(Order).where(Order.number == "DH100001")).scalar_one() is not None
    assert [line.question for line in FaqService(None, db_factory).report()] == [ERASED]
    assert KpiService(db_factory).report(datetime.utcnow() - timedelta(days=1)).tickets.opened == before


def test_cli_shows_first_and_erases_with_yes(db_factory, sqlite_url, monkeypatch, capsys):
    _people(db_factory)
    monkeypatch.setenv("HOTRO_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")  # no Rasa running: said so, nothing fails
    registry.settings.cache_clear()
    try:
        assert cli.main(["customers", "forget", "0912 345 678"]) == 0
        assert "add --yes" in capsys.readouterr().out
        assert "0912 345 678" in ConversationService(db_factory).transcript("web-lan")[0].text
        assert cli.main(["customers", "forget", "0912 345 678", "--yes"]) == 0
        out = capsys.readouterr().out
        assert "erased" in out and "Rasa is not running" in out
        assert ConversationService(db_factory).transcript("web-lan")[0].text == ERASED
        assert cli.main(["customers", "forget", "nobody@example.com"]) == 1
    finally:
        registry.settings.cache_clear()


def test_rasa_tracker_store_history_is_deleted(any_db_factory):
    """Rasa's own SQLTrackerStore (PostgreSQL in production) on the same kind of database."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    url = any_db_factory.kw["bind"].url
    if url.get_backend_name() == "sqlite":
        store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=url.database)
    else:
        store = SQLTrackerStore(Domain.empty(), dialect="postgresql", host=url.host, port=url.port,
                                db=url.database, username=url.username)
    for sender in ("web-lan", "web-minh"):
        tracker = DialogueStateTracker.from_events(sender, [UserUttered(f"số tôi 0912345678 ({sender})")])
        asyncio.run(store.save(tracker))

    said = erase_rasa_history(["web-lan"], url.render_as_string(hide_password=False), "http://127.0.0.1:9")
    assert said == "Rasa: deleted 1 tracker events from the tracker store"
    assert asyncio.run(store.retrieve("web-lan")) is None
    assert len(asyncio.run(store.retrieve("web-minh")).events) == 1


def test_rasa_settings_come_from_the_environment():
    assert rasa_settings({"RASA_TOKEN": "abc", "RASA_PORT": "5099", "HOTRO_RASA_PROCESSES": "2"}) == (
        None, ["http://127.0.0.1:5099", "http://127.0.0.1:5100"], "abc")
    tracker, url, token = rasa_settings({"HOTRO_DATABASE_URL": "postgresql://u@db/hotro", "RASA_TOKEN": "x",
                                         "RASA_URL": "http://rasa:5005"})
    assert (tracker, url, token) == ("postgresql://u@db/hotro", ["http://rasa:5005"], "x")
