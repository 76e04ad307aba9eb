"""Routing: skills, capacity, availability, the fallback, fairness, and assignments recorded with their reason."""
import random
import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.services.conversations import ConversationService
from bot.services.handoff import HandoffRequest, HandoffService, LiveHandoff
from bot.services.routing import (Candidate, Need, RoutingError, RoutingService, Skills, choose, choose_for_ticket,
                                  effective_availability, parse_capacity, parse_skills)
from bot.services.staff import StaffError, StaffService, skills_from
from bot.services.tickets import ComplaintSubmission, TicketService
from bot.store.db import session_scope
from bot.store.models import Message, OwnershipEvent
from tests.serving import Clock

PASSWORD = "correct horse battery"
FALLBACK = timedelta(seconds=120)
DAMAGED_VI = Need("damaged", "vi", "web")


def agent(name, capacity=3, load=0, available=True, last=None, **skills):
    return Candidate(name, Skills(**{k: tuple(v) for k, v in skills.items()}), capacity, load, available, last)


# -- the rules (pure) -------------------------------------------------------------------------

def test_the_fitting_person_with_the_most_free_places_gets_the_chat_with_the_reason():
    lan = agent("lan", capacity=3, load=2, categories=["damaged"], languages=["vi"])
    minh = agent("minh", capacity=3, load=1, categories=["damaged"])
    en_only = agent("an", capacity=5, load=0, languages=["en"])
    choice = choose(DAMAGED_VI, [lan, minh, en_only], timedelta(0), FALLBACK)
    assert (choice.name, choice.fallback) == ("minh", False)
    assert choice.reason == "skill damaged+vi, 2/3 chats"


def test_a_tie_goes_to_whoever_waited_longest_since_their_last_assignment():
    early, late = datetime(2026, 12, 1, 8, 0), datetime(2026, 12, 1, 9, 0)
    candidates = [agent("lan", last=late), agent("minh", last=early), agent("thu", last=late)]
    assert choose(DAMAGED_VI, candidates, timedelta(0), FALLBACK).name == "minh"
    # Never assigned at all waited longest of everyone.
    assert choose(DAMAGED_VI, candidates + [agent("new")], timedelta(0), FALLBACK).name == "new"


def test_nobody_away_offline_or_full_is_given_a_chat():
    candidates = [agent("away", available=False), agent("full", capacity=2, load=2)]
    assert choose(DAMAGED_VI, candidates, timedelta(hours=5), FALLBACK) is None


def test_without_a_fitting_person_the_chat_waits_then_goes_to_anyone_available():
    candidates = [agent("an", languages=["en"], load=1), agent("binh", categories=["refund_payment"], load=2)]
    assert choose(DAMAGED_VI, candidates, timedelta(seconds=119), FALLBACK) is None
    choice = choose(DAMAGED_VI, candidates, timedelta(seconds=120), FALLBACK)
    assert (choice.name, choice.fallback) == ("an", True)
    assert choice.reason == "nobody with skill damaged+vi within 120 s: anyone available, 2/3 chats"


def test_empty_skills_mean_any_and_every_listed_dimension_must_fit():
    assert Skills().fits(DAMAGED_VI)
    assert Skills(categories=("damaged",), channels=("web",)).fits(DAMAGED_VI)
    assert not Skills(categories=("damaged",), channels=("telegram",)).fits(DAMAGED_VI)
    assert not Skills(languages=("en",)).fits(DAMAGED_VI)


def test_tickets_go_to_the_fitting_available_person_with_the_fewest_open_tickets():
    candidates = [agent("lan", load=4, categories=["damaged"]), agent("minh", load=1, categories=["damaged"]),
                  agent("an", load=0, languages=["en"]), agent("off", load=0, available=False)]
    choice = choose_for_ticket(DAMAGED_VI, candidates, timedelta(0), FALLBACK)
    assert (choice.name, choice.reason) == ("minh", "skill damaged+vi, 2 open tickets")
    alone = [agent("an", load=0, languages=["en"])]
    assert choose_for_ticket(DAMAGED_VI, alone, timedelta(0), FALLBACK) is None
    assert choose_for_ticket(DAMAGED_VI, alone, FALLBACK, FALLBACK).name == "an"


def test_skills_capacity_and_availability_are_checked_when_typed():
    assert parse_skills("damaged, wrong_item", ["en"], "") == Skills(("wrong_item", "damaged"), ("en",), ())
    for bad in ({"categories": "broken"}, {"languages": ["fr"]}, {"channels": 5}):
        with pytest.raises(RoutingError):
            parse_skills(**bad)
    assert parse_capacity("4") == 4
    for bad in (0, 51, "two", True, 2.5, None):
        with pytest.raises(RoutingError):
            parse_capacity(bad)
    with pytest.raises(StaffError):
        skills_from(languages="klingon")
    now = datetime(2026, 12, 1, 9, 0)
    window = timedelta(minutes=10)
    assert effective_availability("online", now - timedelta(minutes=9), now, window) == "online"
    assert effective_availability("online", now - timedelta(minutes=11), now, window) == "offline"
    assert effective_availability("away", now, now, window) == "away"
    assert effective_availability("offline", now, now, window) == "offline"
    assert effective_availability("online", None, now, window) == "offline"


def test_fairness_100_handoffs_across_3_agents_nobody_over_capacity_nobody_starved():
    """100 chats arrive while agents finish chats at random; each arrival is routed by the rules."""
    rng = random.Random(13)
    capacity = {"lan": 3, "minh": 3, "thu": 2}
    held = {name: [] for name in capacity}
    last = {name: None for name in capacity}
    got = Counter()
    waiting = []
    clock = datetime(2026, 12, 1, 8, 0)
    for arrival in range(100):
        clock += timedelta(seconds=30)
        for name in held:  # some chats end
            held[name] = [c for c in held[name] if rng.random() > 0.4]
        waiting.append((arrival, clock))
        still = []
        for chat, since in waiting:  # the queue, oldest first
            candidates = [Candidate(n, Skills(), capacity[n], len(held[n]), True, last[n]) for n in capacity]
            choice = choose(DAMAGED_VI, candidates, clock - since, FALLBACK)
            if choice is None:
                still.append((chat, since))
                continue
            held[choice.name].append(chat)
            last[choice.name] = clock
            got[choice.name] += 1
            assert len(held[choice.name]) <= capacity[choice.name]
        waiting = still
    assert sum(got.values()) + len(waiting) == 100
    assert all(len(held[n]) <= capacity[n] for n in capacity)
    # None starved: each gets at least half the share its capacity is of the team's.
    total = sum(capacity.values())
    assert all(got[n] >= 0.5 * 100 * capacity[n] / total for n in capacity), got
    assert len(waiting) <= 1  # and the queue never builds up while places come free


# -- the service, on a real database ------------------------------------------------------------

@pytest.fixture
def clock():
    return Clock(datetime(2026, 12, 1, 3, 0))


@pytest.fixture
def team(any_db_factory, clock):
    """(staff, conversations, tickets, routing) sharing one clock."""
    staff = StaffService(any_db_factory, clock=clock, online_minutes=10)
    conversations = ConversationService(any_db_factory, clock=clock)
    return (staff, conversations, TicketService(any_db_factory, clock=clock),
            RoutingService(any_db_factory, conversations, online_minutes=10, fallback_seconds=120, clock=clock))


def handed_off(conversations, tickets, sender, category, language, channel="web"):
    """A customer whose complaint is filed and who waits for a person."""
    conversations.record(sender, "customer", "cho tôi gặp nhân viên", channel)
    tickets.open(ComplaintSubmission(f"{sender}:k", sender, channel, language, None, False, category, "hỏng", None))
    conversations.change_owner(sender, "queued", allowed=lambda owner, _agent: owner == "bot", channel=channel)


def test_each_chat_goes_to_the_person_with_its_skills_and_the_reason_is_kept(team, any_db_factory):
    staff, conversations, tickets, routing = team
    staff.add("lan", PASSWORD, "Lan", skills=skills_from("damaged", "vi"), capacity=3)
    staff.add("an", PASSWORD, "An", skills=skills_from("wrong_item", "en"), capacity=2)
    staff.add("editor", PASSWORD, "Ed", roles=["editor"])  # takes no chats whatever happens
    staff.add("owner", PASSWORD, "Chủ", roles=["admin"], capacity=50)  # claims by hand, routing gives them none
    for name in ("lan", "an", "editor", "owner"):
        staff.set_availability(name, "online")
    handed_off(conversations, tickets, "web-vi", "damaged", "vi")
    handed_off(conversations, tickets, "web-en", "wrong_item", "en")

    done = routing.sweep()

    assert {(a.sender_id, a.agent) for a in done} == {("web-vi", "lan"), ("web-en", "an")}
    assert (conversations.summary("web-vi").owner, conversations.summary("web-vi").agent) == ("agent", "lan")
    assert tickets.for_sender("web-vi")[0].assignee == "lan"  # the chat's ticket follows it
    with session_scope(any_db_factory) as session:
        reasons = {e.agent: e.reason for e in session.execute(select(OwnershipEvent)
                                                              .where(OwnershipEvent.owner_to == "agent")).scalars()}
        notes = [m.text for m in session.execute(select(Message).where(Message.author_type == "note")).scalars()]
    assert reasons == {"lan": "skill damaged+vi, 1/3 chats", "an": "skill wrong_item+en, 1/2 chats"}
    assert "Assigned to Lan: skill damaged+vi, 1/3 chats" in notes
    customer_view = [line.text for line in conversations.transcript("web-vi")]
    assert "Lan joined the conversation" in customer_view and not any("skill" in t for t in customer_view)


def test_nobody_fitting_waits_for_the_fallback_time_then_anyone_available_takes_it(team, clock):
    staff, conversations, tickets, routing = team
    staff.add("an", PASSWORD, "An", skills=skills_from(languages="en"))
    staff.set_availability("an", "online")
    handed_off(conversations, tickets, "web-vi", "damaged", "vi")
    assert routing.sweep() == []
    clock.advance(seconds=100)
    staff.set_availability("an", "online")  # still at the desk
    assert routing.sweep() == []
    clock.advance(seconds=20)
    [done] = routing.sweep()
    assert done.agent == "an" and done.reason.startswith("nobody with skill damaged+vi within 120 s")


def test_capacity_holds_and_a_freed_place_takes_the_oldest_waiting_chat(team, clock):
    staff, conversations, tickets, routing = team
    staff.add("lan", PASSWORD, "Lan", capacity=2)
    staff.set_availability("lan", "online")
    for n in range(4):
        handed_off(conversations, tickets, f"web-{n}", "damaged", "vi")
        clock.advance(seconds=5)
    assert [a.sender_id for a in routing.sweep()] == ["web-0", "web-1"]
    assert conversations.held("lan") == 2 and routing.sweep() == []
    conversations.change_owner("web-0", "bot", allowed=lambda *_: True, create=False)  # Lan hands one back
    assert [a.sender_id for a in routing.sweep()] == ["web-2"]  # the oldest waiting, not the newest


def test_away_offline_and_stale_people_get_no_chats_until_they_come_online(team, clock):
    staff, conversations, tickets, routing = team
    staff.add("lan", PASSWORD, "Lan")
    staff.add("minh", PASSWORD, "Minh")
    staff.set_availability("minh", "online")
    clock.advance(minutes=11)  # Minh closed the laptop without logging out
    staff.set_availability("lan", "away")  # at the desk, taking no new chats
    handed_off(conversations, tickets, "web-1", "damaged", "vi")
    assert routing.sweep() == []
    assert {a.name: a.availability for a in staff.accounts()} == {"lan": "away", "minh": "offline"}
    session, _ = staff.start_session("minh", PASSWORD)  # logging in is coming online
    assert [a.agent for a in routing.sweep()] == ["minh"]
    staff.end_session(session)
    assert staff.account("minh").availability == "offline"


def test_staff_writing_in_the_telegram_group_count_as_online(team):
    staff, conversations, tickets, routing = team
    staff.add("lan", PASSWORD, "Lan")
    staff.set_availability("lan", "offline")
    handed_off(conversations, tickets, "tg-1", "late_delivery", "vi", channel="telegram")
    assert routing.sweep() == []
    assert staff.seen_in_telegram("lan") is True  # they came online: the caller routes at once
    assert staff.seen_in_telegram("lan") is False
    assert [a.agent for a in routing.sweep()] == ["lan"]


def test_a_handoff_is_assigned_at_once_and_the_customer_is_told_who(team, any_db_factory, clock):
    staff, conversations, tickets, routing = team
    staff.add("lan", PASSWORD, "Chị Lan", skills=skills_from("damaged"))
    staff.set_availability("lan", "online")
    live = LiveHandoff(conversations, staff.last_seen, "00:00-24:00", 10, clock=clock, routing=routing)
    outcome = HandoffService(tickets, live).request(HandoffRequest(
        "web-h:1", "web-h", "web", "vi", "customer_asked", category="damaged", description="vỡ"))
    assert (outcome.mode, outcome.agent_name, outcome.queue_position) == ("queued", "Chị Lan", 0)
    assert conversations.summary("web-h").agent == "lan"
    assert outcome.ticket.code and tickets.get(outcome.ticket.code).assignee == "lan"
    without = LiveHandoff(conversations, staff.last_seen, "00:00-24:00", 10, clock=clock)
    outcome = HandoffService(tickets, without).request(HandoffRequest("web-q:1", "web-q", "web", "vi", "customer_asked"))
    assert (outcome.agent_name, outcome.queue_position, conversations.summary("web-q").owner) == (None, 1, "queued")


def test_new_tickets_nobody_follows_live_are_routed_the_same_way(team, clock):
    staff, conversations, tickets, routing = team
    staff.add("lan", PASSWORD, "Lan", skills=skills_from("damaged"))
    staff.add("an", PASSWORD, "An", skills=skills_from("wrong_item"))
    ticket, _ = tickets.open(ComplaintSubmission("t:1", "web-t", "web", "vi", None, False, "wrong_item", "sai", None))
    assert routing.sweep() == []  # nobody online yet: it waits
    staff.set_availability("lan", "online")
    staff.set_availability("an", "online")
    [done] = routing.sweep()
    assert (done.agent, done.reason) == ("an", "skill wrong_item+vi, 1 open tickets")
    assert tickets.get(ticket.code).assignee == "an"
    notes = [line.text for line in conversations.transcript("web-t", for_staff=True) if line.author_type == "note"]
    assert notes == [f"Ticket {ticket.code} assigned to an: skill wrong_item+vi, 1 open tickets"]


def test_two_routers_at_once_never_fill_a_place_twice(any_db_factory, clock):
    """Two gateways sweep at the same moment: the agent's last place goes to one chat only."""
    staff = StaffService(any_db_factory, clock=clock, online_minutes=10)
    conversations = ConversationService(any_db_factory, clock=clock)
    tickets = TicketService(any_db_factory, clock=clock)
    staff.add("lan", PASSWORD, "Lan", capacity=1)
    staff.set_availability("lan", "online")
    handed_off(conversations, tickets, "web-a", "damaged", "vi")
    handed_off(conversations, tickets, "web-b", "damaged", "vi")
    start = threading.Barrier(2, timeout=10)
    results = {}

    def route(sender):
        router = RoutingService(any_db_factory, ConversationService(any_db_factory, clock=clock), 10, 120, clock=clock)
        start.wait()
        results[sender] = router.route(sender)

    threads = [threading.Thread(target=route, args=(s,)) for s in ("web-a", "web-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert conversations.held("lan") == 1
    assert sorted(r is not None for r in results.values()) == [False, True]


def test_fairness_100_handoffs_through_the_database(db_factory, clock):
    """The same fairness, end to end through the database: capacity never exceeded, everyone used."""
    staff = StaffService(db_factory, clock=clock, online_minutes=10)
    conversations = ConversationService(db_factory, clock=clock)
    tickets = TicketService(db_factory, clock=clock)
    routing = RoutingService(db_factory, conversations, 10, 120, clock=clock)
    capacity = {"lan": 3, "minh": 2, "thu": 3}
    for name, places in capacity.items():
        staff.add(name, PASSWORD, name.title(), capacity=places)
    rng = random.Random(5)
    got = Counter()
    for n in range(100):
        clock.advance(seconds=20)
        for name in capacity:
            staff.set_availability(name, "online")
        for chat in conversations.list("agent"):
            if rng.random() < 0.35:
                conversations.change_owner(chat.id, "bot", allowed=lambda *_: True, create=False)
        handed_off(conversations, tickets, f"web-{n}", rng.choice(["damaged", "wrong_item"]), "vi")
        for done in routing.sweep():
            got[done.agent] += 1
        for name, places in capacity.items():
            assert conversations.held(name) <= places
    total = sum(capacity.values())
    assert all(got[n] >= 0.5 * sum(got.values()) * capacity[n] / total for n in capacity), got
