"""The conversation core's ownership rules, on SQLite and PostgreSQL: one winner, clear refusals."""
import asyncio
import threading

from bot.conversation.core import Actor
from bot.services.conversations import ConversationService
from bot.store.db import session_scope
from bot.store.models import OwnershipEvent
from tests.serving import FakeRasa, gateway_app

LAN, MINH = Actor("lan", "Lan"), Actor("minh", "Minh")


def test_two_claims_at_the_same_moment_give_one_winner_and_one_refusal(any_db_factory):
    conversations = ConversationService(any_db_factory)
    conversations.record("web-race", "customer", "cho tôi gặp nhân viên")
    conversations.set_owner("web-race", "queued")
    both_read = threading.Barrier(2, timeout=10)
    first_look = set()

    def allowed_after_both_have_read(owner, agent):
        # Both claims have read "queued" before either writes: the race a check-then-act claim loses.
        if threading.get_ident() not in first_look:
            first_look.add(threading.get_ident())
            both_read.wait()
        return owner != "agent"

    def claim(name):
        return conversations.change_owner("web-race", "agent", name, allowed=allowed_after_both_have_read,
                                          note=f"{name} joined the conversation", create=False)

    results = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, claim(n))) for n in ("lan", "minh")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [name for name, outcome in results.items() if outcome.changed]
    losers = [outcome for outcome in results.values() if outcome.refused]
    assert len(winners) == 1 and len(losers) == 1 and losers[0].agent == winners[0]
    summary = conversations.summary("web-race")
    assert (summary.owner, summary.agent) == ("agent", winners[0])
    notes = [line.text for line in conversations.transcript("web-race") if line.author_type == "system"]
    assert notes == [f"{winners[0]} joined the conversation"]
    with session_scope(any_db_factory) as session:
        assert session.query(OwnershipEvent).filter_by(owner_to="agent").count() == 1


def _core_scenario(factory, scenario):
    async def main():
        rasa = await FakeRasa().start()
        app = gateway_app(factory, rasa.url)
        from bot.gateway.app import CORE

        core = app[CORE]
        await core.start()
        try:
            return await scenario(core), rasa
        finally:
            await core.close()
            await rasa.stop()

    return asyncio.run(main())


def test_only_the_holder_replies_or_returns_the_chat_and_anyone_takes_a_waiting_one(db_factory):
    conversations = ConversationService(db_factory)
    conversations.record("web-1", "customer", "cho tôi gặp nhân viên")
    conversations.set_owner("web-1", "queued")

    async def scenario(core):
        return {
            "minh_before_claim": (await core.staff_reply("web-1", MINH, "chào"))[0].refused,
            "lan_claims": (await core.claim("web-1", LAN)).changed,
            "minh_claims": await core.claim("web-1", MINH),
            "lan_again": (await core.claim("web-1", LAN)).changed,
            "minh_replies": (await core.staff_reply("web-1", MINH, "em là Minh"))[0].refused,
            "lan_replies": (await core.staff_reply("web-1", LAN, "em là Lan"))[0].refused,
            "minh_returns": (await core.release("web-1", MINH)).refused,
            "lan_passes_on": (await core.claim("web-1", LAN, MINH)).agent,
            "unknown": await core.claim("web-nobody", LAN),
            "minh_returns_his": (await core.release("web-1", MINH)).changed,
        }

    r, rasa = _core_scenario(db_factory, scenario)
    assert r["minh_before_claim"] and r["lan_claims"] and not r["lan_again"]
    assert r["minh_claims"].refused and r["minh_claims"].agent == "lan"
    assert r["minh_replies"] and not r["lan_replies"] and r["minh_returns"]
    assert r["lan_passes_on"] == "minh" and r["unknown"] is None and r["minh_returns_his"]
    assert rasa.triggered == [("web-1", "handback")]
    lines = [(line.author_type, line.text) for line in conversations.transcript("web-1")]
    assert ("staff", "em là Lan") in lines and ("staff", "em là Minh") not in lines and ("staff", "chào") not in lines
    assert lines[-2:] == [("system", "Minh returned the conversation to the bot"), ("bot", "bot is back")]


def test_a_closed_case_goes_back_to_the_bot_whoever_holds_it(db_factory):
    conversations = ConversationService(db_factory)
    conversations.set_owner("web-2", "agent", "minh")

    async def scenario(core):
        return await core.release("web-2", LAN, case_closed=True)

    outcome, rasa = _core_scenario(db_factory, scenario)
    assert outcome.changed and conversations.owner("web-2") == "bot" and rasa.triggered == [("web-2", "handback")]


def test_a_known_conversation_is_not_looked_up_again_to_learn_it_is_not_new(db_factory):
    asked = []

    async def scenario(core):
        real_exists = core.conversations.exists
        core.conversations.exists = lambda sender: asked.append(sender) or real_exists(sender)
        seen = [await core.is_new("rest-known")]
        await core.customer_message("rest-known", "xin chào", "rest")
        seen += [await core.is_new("rest-known"), await core.is_new("rest-known")]
        ConversationService(db_factory).record("rest-elsewhere", "customer", "hi")  # e.g. through another gateway
        seen += [await core.is_new("rest-elsewhere"), await core.is_new("rest-elsewhere"), await core.is_new("rest-x")]
        return seen

    seen, _ = _core_scenario(db_factory, scenario)
    assert seen == [True, False, False, False, False, True]
    # Asked once for each conversation not yet known to exist, never again once it is.
    assert asked == ["rest-known", "rest-elsewhere", "rest-x"]


def test_a_conversations_messages_reach_rasa_one_at_a_time_and_others_are_not_held_up(db_factory):
    """Rasa would make a second message of a conversation wait in its lock store, polling once a second."""
    import aiohttp

    from tests.serving import serve

    in_flight, most_per_conversation, most_overall, first_arrived = {}, {}, [0], asyncio.Event()

    async def slow_rasa(body):
        sender = body["sender"]
        in_flight[sender] = in_flight.get(sender, 0) + 1
        most_per_conversation[sender] = max(most_per_conversation.get(sender, 0), in_flight[sender])
        most_overall[0] = max(most_overall[0], sum(in_flight.values()))
        first_arrived.set()
        await asyncio.sleep(0.2)
        in_flight[sender] -= 1
        return [{"recipient_id": sender, "text": f"re {body['message']}"}]

    async def main():
        rasa = await FakeRasa(slow_rasa).start()
        app = gateway_app(db_factory, rasa.url)
        runner, base = await serve(app)
        try:
            async with aiohttp.ClientSession() as http:
                async def say(sender, text):
                    async with http.post(f"{base}/webhooks/rest/webhook",
                                         json={"sender": sender, "message": text}) as response:
                        return [r["text"] for r in await response.json()]

                first = asyncio.ensure_future(say("rest-quick", "một"))
                await first_arrived.wait()  # the customer's second and third lines come while the first is answered
                answers = await asyncio.gather(first, say("rest-quick", "hai"), say("rest-quick", "ba"),
                                               say("rest-other", "khác"))
        finally:
            await runner.cleanup()
            await rasa.stop()
        from bot.gateway.app import CORE
        return answers, len(app[CORE].turns)

    answers, locks_left = asyncio.run(asyncio.wait_for(main(), 30))
    assert answers == [["re một"], ["re hai"], ["re ba"], ["re khác"]]
    assert most_per_conversation == {"rest-quick": 1, "rest-other": 1}
    assert most_overall[0] == 2  # another customer's message went alongside
    assert locks_left == 0
    lines = ConversationService(db_factory).transcript("rest-quick")
    texts = [line.text for line in lines]
    assert texts[:2] == ["một", "re một"]  # each answer right after the message it answers
    assert sorted(texts[2:]) == sorted(["hai", "re hai", "ba", "re ba"])
    assert [line.author_type for line in lines] == ["customer", "bot"] * 3
