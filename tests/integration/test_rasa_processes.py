"""Two Rasa processes behind one gateway, as `make run` starts them on a 2-core machine (in-memory trackers).

Each conversation is served by the instance its sender id hashes to, every message of it; each instance
is supervised and probed on its own, and the other keeps answering while one is down.
"""
from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request

import pytest

from bot.channels.common import APOLOGY
from bot.rasa_instances import instance_for
from bot.runner import Stack, free_port
from bot.store.seed import prepare_demo_database
from bot.supervisor import RUNNING
from tests.integration.conftest import MODEL, TOKEN

STEPS = [("tôi muốn khiếu nại", "mã đơn"), ("DH100004", "DH100004"), ("hàng bị vỡ", None)]


@pytest.fixture(scope="module")
def two_rasa(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("two-rasa")
    db_url = f"sqlite:///{workdir / 'hotro.db'}"
    prepare_demo_database(db_url)
    env = dict(os.environ, HOTRO_DATABASE_URL=db_url, RASA_TOKEN=TOKEN, RASA_TELEMETRY_ENABLED="false",
               TF_CPP_MIN_LOG_LEVEL="2", HOTRO_OPENING_HOURS="00:00-24:00", HOTRO_UPLOAD_DIR=str(workdir / "up"),
               HOTRO_LIMIT_MESSAGES="off", HOTRO_LIMIT_CONVERSATIONS="off", HOTRO_LIMIT_HANDOFFS="off",
               HOTRO_HEALTH_EVERY="0.5")
    for name in ("ACTION_SERVER_URL", "HOTRO_REDIS_URL", "HOTRO_TRACKER_STORE_URL", "TELEGRAM_BOT_TOKEN",
                 "HOTRO_RASA_URLS", "RASA_URL"):
        env.pop(name, None)
    stack = Stack(free_port(), free_port(), MODEL, env, workdir / "logs", gateway_port=free_port(),
                  more_rasa_ports=[free_port()])
    try:
        yield stack.start(timeout=300)
    finally:
        stack.stop()


def say(stack, sender: str, text: str) -> str:
    request = urllib.request.Request(f"{stack.gateway_url}/webhooks/rest/webhook",
                                     data=json.dumps({"sender": sender, "message": text}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return "\n".join(reply.get("text", "") for reply in json.load(response))


def user_messages(rasa_url: str, sender: str) -> list:
    with urllib.request.urlopen(f"{rasa_url}/conversations/{sender}/tracker?token={TOKEN}", timeout=10) as response:
        return [e["text"] for e in json.load(response)["events"] if e["event"] == "user"]


def health(stack) -> dict:
    with urllib.request.urlopen(f"{stack.gateway_url}/health", timeout=5) as response:
        return json.load(response)


def senders_on_each(stack, count: int, tag: str) -> dict:
    """`count` new conversation ids for each instance."""
    chosen = {url: [] for url in stack.rasa_urls}
    n = 0
    while any(len(ids) < count for ids in chosen.values()):
        sender = f"{tag}-{os.getpid()}-{n}"
        ids = chosen[instance_for(stack.rasa_urls, sender)]
        if len(ids) < count:
            ids.append(sender)
        n += 1
    return chosen


def test_every_message_of_a_conversation_reaches_the_instance_it_hashes_to(two_rasa):
    chosen = senders_on_each(two_rasa, 2, "hash")
    for text, expected in STEPS:  # the conversations interleave, as customers do
        for ids in chosen.values():
            for sender in ids:
                answer = say(two_rasa, sender, text)
                assert APOLOGY not in answer and (expected is None or expected in answer), answer
    for url, ids in chosen.items():
        other = next(u for u in two_rasa.rasa_urls if u != url)
        for sender in ids:
            assert user_messages(url, sender) == [text for text, _ in STEPS]  # the whole form, in one place
            assert user_messages(other, sender) == []
    assert {name: part["status"] for name, part in health(two_rasa)["parts"].items()
            if name.startswith("rasa")} == {"rasa": "ok", "rasa-2": "ok"}


def test_one_instance_down_is_restarted_and_the_other_keeps_answering(two_rasa):
    supervisor = two_rasa.supervise()
    try:
        chosen = senders_on_each(two_rasa, 1, "down")
        first, second = (chosen[url][0] for url in two_rasa.rasa_urls)
        victim = next(p for p in two_rasa.processes if two_rasa.names[p.pid] == "rasa-2")
        os.kill(victim.pid, signal.SIGKILL)
        killed = time.monotonic()
        victim.wait(timeout=10)
        assert APOLOGY in say(two_rasa, second, "tôi muốn khiếu nại")  # its instance is away: the apology
        assert "mã đơn" in say(two_rasa, first, "tôi muốn khiếu nại")  # the other answers as usual
        seen = set()
        while not (supervisor.state("rasa-2") == RUNNING and health(two_rasa)["parts"]["rasa-2"]["status"] == "ok"
                   and supervisor.children["rasa-2"].process is not victim):
            assert time.monotonic() - killed < 120, "rasa-2 not back within 2 minutes"
            parts = health(two_rasa)["parts"]
            seen.add((parts["rasa"]["status"], parts["rasa-2"]["status"]))
            time.sleep(0.5)
        assert ("ok", "down") in seen  # /health told which one was away
        assert supervisor.state("rasa") == RUNNING
        # The restarted process serves its conversations again (from the start: its memory went with it).
        assert "mã đơn" in say(two_rasa, second, "tôi muốn khiếu nại")
        assert "DH100004" in say(two_rasa, first, "DH100004")
    finally:
        supervisor.stop()
