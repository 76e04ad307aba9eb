"""Parts of the system going down. Runs last: it stops and restarts the shared action server."""
from __future__ import annotations

import time
import unicodedata
import urllib.request

from bot.channels.common import APOLOGY
from bot.internal_auth import gateway_headers


def test_nfd_text_is_understood_like_nfc(chat):
    c = chat("nfd-typist")
    reply = c.say(unicodedata.normalize("NFD", "tôi muốn khiếu nại"))
    assert "mã đơn" in reply


def test_bad_requests_get_a_clear_error(stack):
    request = urllib.request.Request(
        f"{stack.rasa_url}/webhooks/rest/webhook", data=b'{"message": "hi"}',
        headers={"Content-Type": "application/json", **gateway_headers(stack.env)},
    )
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("expected HTTP 400")
    except urllib.error.HTTPError as err:
        assert err.code == 400
        assert b"sender" in err.read()


def test_action_server_down_gets_an_apology_and_the_conversation_goes_on(stack, chat, tickets):
    c = chat("during-outage")
    c.say("tôi muốn khiếu nại")
    actions = stack.processes[0]
    actions.terminate()
    actions.wait(timeout=15)
    assert APOLOGY in c.say("DH100001")
    # The action server comes back on the same port: the same conversation continues.
    # Under its role's name (its log is appended to): later tests find the stack's action server by it.
    restarted = stack.spawn_action_server("actions")
    stack.processes.remove(restarted)
    stack.processes[0] = restarted
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{stack.action_url}/health", timeout=2)
            break
        except OSError:
            assert time.monotonic() < deadline, "action server did not restart"
            time.sleep(0.5)
    # The customer repeats the answer that was lost and the form goes on from there.
    reply = c.say("DH100001")
    assert "DH100001" in reply and "vấn đề gì" in reply
