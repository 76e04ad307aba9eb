"""Erasing a customer also empties the running Rasa's copy of the conversation (kept in memory here)."""
import json
import urllib.request

from bot.services.privacy import erase_rasa_history
from tests.integration.conftest import TOKEN


def _tracker(stack, sender):
    url = f"{stack.rasa_url}/conversations/{sender}/tracker?token={TOKEN}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_rasa_forgets_what_the_customer_said(stack, chat):
    customer = chat("privacy-lan")
    customer.say("tôi muốn khiếu nại")
    customer.say("DH100013")
    texts = [e.get("text") for e in _tracker(stack, "privacy-lan")["events"] if e["event"] == "user"]
    assert "DH100013" in texts

    assert erase_rasa_history(["privacy-lan"], None, stack.rasa_url, "wrong-token").startswith("Rasa refused")
    said = erase_rasa_history(["privacy-lan"], None, stack.rasa_url, TOKEN)
    assert said == "Rasa: emptied the history of 1 conversation(s) in the running server"
    tracker = _tracker(stack, "privacy-lan")
    assert not [e for e in tracker["events"] if e["event"] == "user"]
    assert tracker["slots"].get("order_number") is None
