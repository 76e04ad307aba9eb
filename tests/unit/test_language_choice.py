"""The rule behind the `language` slot, and Rasa running it in-process (no action server call per message)."""
import asyncio

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_speedups
from bot.config import ROOT
from bot.services.language import EARLY_EVENTS, next_language


@pytest.mark.parametrize("text, channel, events, current, expected", [
    ("I would like to file a complaint please", None, 20, "vi", "en"),
    ("tôi muốn khiếu nại", "en", 2, "en", "vi"),  # the words win over the browser
    ("I would like to file a complaint please", None, 20, "en", None),  # already English: nothing to set
    ("DH100002", None, 3, "vi", None),  # an order number says nothing
    ("DH100002", "en", 3, "vi", "en"),  # ... so early on, the channel's language counts
    ("DH100002", "en", EARLY_EVENTS, "vi", None),  # ... but not later in the conversation
    ("ok", "fr", 1, "vi", None),  # only the languages the bot speaks
    ("", None, 0, None, None),
])
def test_the_language_follows_the_words_and_early_on_the_channel(text, channel, events, current, expected):
    assert next_language(text, channel, events, current) == expected


def _extract(tracker, domain):
    action = ActionExtractSlots(action_endpoint=None)  # no action server: a remote call could only fail
    return asyncio.run(action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses),
                                  tracker, domain))


def test_rasa_fills_the_language_slot_itself_after_every_message():
    rasa_speedups.apply()
    domain = Domain.load(str(ROOT / "domain.yml"))
    mapping = domain.as_dict()["slots"]["language"]["mappings"]
    assert mapping == [{"type": "custom", "action": "action_detect_language"}]
    assert "action_detect_language" in rasa_speedups.LOCAL_MAPPING_ACTIONS

    def tracker(text, metadata=None, earlier=()):
        return DialogueStateTracker.from_events("web-lang", [*earlier, ActionExecuted("action_listen"), UserUttered(
            text, {"name": "inform", "confidence": 0.9}, metadata=metadata)], slots=domain.slots)

    assert SlotSet("language", "en") in _extract(tracker("I would like to file a complaint please"), domain)
    assert _extract(tracker("DH100002"), domain) == []
    assert SlotSet("language", "en") in _extract(tracker("DH100002", {"language": "en"}), domain)
    later = [ActionExecuted("action_listen"), UserUttered("xin chào"), ActionExecuted("utter_greet")] * 3
    assert _extract(tracker("DH100002", {"language": "en"}, later), domain) == []


def test_other_mapping_actions_still_go_to_the_action_server(monkeypatch):
    calls = []

    async def remote(self, name, *args):
        calls.append(name)
        return [SlotSet("x", 1)]

    rasa_speedups.apply()
    monkeypatch.setattr(rasa_speedups, "_original_run_custom_action", remote)
    action = ActionExtractSlots(action_endpoint=None)
    events = asyncio.run(action._run_custom_action("action_other", None, None, None, None))
    assert calls == ["action_other"] and events == [SlotSet("x", 1)]
