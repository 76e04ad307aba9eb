"""Several Rasa processes: each conversation always reaches the same one, from any gateway."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter

import aiohttp
import pytest

from bot.config import ROOT
from bot.gateway.limits import GatewayLimits
from bot.ratelimit import LimitSettings
from bot.rasa_instances import instance_for, instance_names, process_count, rasa_urls
from tests.serving import GATEWAY_SECRET, FakeRasa, gateway_app, serve

URLS = ["http://10.0.0.1:5005", "http://10.0.0.1:5006", "http://10.0.0.2:5005"]
SENDERS = [f"web-{n:05d}" for n in range(3000)] + [f"tg-{n}" for n in range(1000)]


def test_the_urls_come_from_hotro_rasa_urls_else_rasa_url_else_rasa_port():
    assert rasa_urls({"HOTRO_RASA_URLS": " http://a:1/, http://b:2 ,", "RASA_URL": "http://c:3"}) == \
        ["http://a:1", "http://b:2"]
    assert rasa_urls({"RASA_URL": "http://c:3/"}) == ["http://c:3"]
    # A gateway started on its own (systemd, beside one Rasa) looks for no other process.
    assert rasa_urls({"RASA_PORT": "5099", "HOTRO_RASA_PROCESSES": "3"}) == ["http://127.0.0.1:5099"]
    assert rasa_urls({}) == ["http://127.0.0.1:5005"]


def test_commands_find_the_processes_make_run_starts_and_route_as_its_gateway_does():
    env = {"RASA_PORT": "5099", "HOTRO_RASA_PROCESSES": "3"}
    assert rasa_urls(env, local_processes=True) == [f"http://127.0.0.1:{port}" for port in (5099, 5100, 5101)]
    assert len(rasa_urls({}, local_processes=True)) == process_count({})
    assert rasa_urls({"RASA_URL": "http://c:3"}, local_processes=True) == ["http://c:3"]
    # make run gives its gateway exactly these addresses (Stack.rasa_urls): the same conversation, the same one.
    from bot.runner import Stack

    stack = Stack(5099, 0, None, {}, None, more_rasa_ports=[5100, 5101])
    assert stack.rasa_urls == rasa_urls(env, local_processes=True)


def test_a_conversation_goes_to_the_same_instance_whatever_the_order_of_the_list():
    # Two gateways configured by different people (or a list rebuilt in another order) agree.
    for sender in SENDERS[:500]:
        assert instance_for(URLS, sender) == instance_for(list(reversed(URLS)), sender) == \
            instance_for(URLS[1:] + URLS[:1], sender)


def test_the_choice_is_the_same_in_another_process_with_another_hash_seed():
    # Gateways are separate processes (and machines): Python's own hash() differs between them.
    code = ("import json, sys; from bot.rasa_instances import instance_for; "
            f"print(json.dumps([instance_for({URLS!r}, s) for s in json.loads(sys.argv[1])]))")
    senders = SENDERS[:200]
    elsewhere = subprocess.run([sys.executable, "-c", code, json.dumps(senders)], cwd=ROOT, check=True,
                               capture_output=True, text=True, env=dict(os.environ, PYTHONHASHSEED="12345"))
    assert json.loads(elsewhere.stdout) == [instance_for(URLS, s) for s in senders]


def test_conversations_are_spread_evenly():
    counts = Counter(instance_for(URLS, sender) for sender in SENDERS)
    assert set(counts) == set(URLS)
    assert all(abs(count - len(SENDERS) / 3) < len(SENDERS) * 0.05 for count in counts.values()), counts


def test_removing_or_adding_an_instance_moves_only_its_own_share():
    before = {s: instance_for(URLS, s) for s in SENDERS}
    without = {s: instance_for(URLS[:2], s) for s in SENDERS}
    moved = [s for s in SENDERS if before[s] != without[s]]
    assert moved and all(before[s] == URLS[2] for s in moved)  # only the removed instance's conversations
    grown = {s: instance_for(URLS + ["http://10.0.0.3:5005"], s) for s in SENDERS}
    moved = [s for s in SENDERS if before[s] != grown[s]]
    assert all(grown[s] == "http://10.0.0.3:5005" for s in moved)
    assert 0.15 < len(moved) / len(SENDERS) < 0.35  # about a quarter, not a reshuffle


def test_one_instance_serves_everything():
    assert {instance_for(["http://only:5005"], s) for s in SENDERS} == {"http://only:5005"}


def test_process_count_is_the_setting_else_one_per_core_up_to_four():
    assert process_count({"HOTRO_RASA_PROCESSES": "3"}, cores=2) == 3
    assert process_count({}, cores=2) == 2
    assert process_count({}, cores=1) == 1
    assert process_count({}, cores=32) == 4
    with pytest.raises(ValueError):
        process_count({"HOTRO_RASA_PROCESSES": "0"})
    assert instance_names(1) == ["rasa"] and instance_names(3) == ["rasa", "rasa-2", "rasa-3"]


def test_the_gateway_sends_every_message_of_a_conversation_to_its_instance(db_factory):
    async def main():
        fakes = [await FakeRasa().start() for _ in range(3)]
        urls = [fake.url for fake in fakes]
        unlimited = GatewayLimits(LimitSettings(messages=None, conversations=None, uploads=None))
        runner, base = await serve(gateway_app(db_factory, urls, with_staff=False, limits=unlimited))
        senders = [f"route-{n}" for n in range(12)]
        try:
            async with aiohttp.ClientSession() as http:
                for round_ in range(2):
                    for sender in senders:
                        async with http.post(f"{base}/webhooks/rest/webhook",
                                             json={"sender": sender, "message": f"hi {round_}"}) as response:
                            assert response.status == 200
                            assert (await response.json())[0]["text"] == f"echo hi {round_}"
        finally:
            await runner.cleanup()
            for fake in fakes:
                await fake.stop()
        return senders, urls, fakes

    senders, urls, fakes = asyncio.run(main())
    for fake in fakes:
        got = [body["sender"] for body in fake.received]
        assert got == [s for s in senders if instance_for(urls, s) == fake.url] * 2
    assert sum(len(fake.received) for fake in fakes) == 2 * len(senders)
    assert sum(1 for fake in fakes if fake.received) >= 2  # 12 conversations did not all land on one


def test_the_hand_back_reaches_the_instance_that_holds_the_conversation():
    from bot.conversation.rasa import RasaClient

    async def main():
        fakes = [await FakeRasa().start() for _ in range(2)]
        client = RasaClient([fake.url for fake in fakes], gateway_secret=GATEWAY_SECRET)
        await client.start()
        try:
            for n in range(8):
                assert await client.trigger_intent(f"back-{n}", "handback") == [
                    {"recipient_id": f"back-{n}", "text": "bot is back"}]
        finally:
            await client.close()
            for fake in fakes:
                await fake.stop()
        return fakes

    fakes = asyncio.run(main())
    urls = [fake.url for fake in fakes]
    for fake in fakes:
        assert [sender for sender, _ in fake.triggered] == [f"back-{n}" for n in range(8)
                                                           if instance_for(urls, f"back-{n}") == fake.url]


def test_health_probes_each_instance_under_its_supervision_name():
    from bot.gateway.health import standard_monitor

    monitor = standard_monitor({}, ["http://127.0.0.1:9", "http://127.0.0.1:10"])
    assert list(monitor.probes) == ["rasa", "rasa-2", "action_server"]
    assert list(standard_monitor({}, "http://127.0.0.1:9").probes) == ["rasa", "action_server"]


def test_the_gateway_drops_idle_connections_to_rasa_before_rasa_does():
    """Sanic closes an idle keep-alive connection after KEEP_ALIVE_TIMEOUT; a message sent on it just then fails."""
    import asyncio

    from sanic.config import DEFAULT_CONFIG

    from bot.conversation.rasa import RasaClient

    async def idle_limit():
        client = RasaClient("http://127.0.0.1:5005")
        await client.start()
        try:
            return client._http.connector._keepalive_timeout
        finally:
            await client.close()

    assert 0 < asyncio.run(idle_limit()) < DEFAULT_CONFIG["KEEP_ALIVE_TIMEOUT"]
