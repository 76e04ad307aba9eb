from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.tracker_utils import latest_text
from bot.text import detect_language


class ActionDetectLanguage(Action):
    """Runs on every user turn (custom slot mapping of `language`).

    Keeps the current language unless the message clearly is in the other one.
    """

    def name(self) -> Text:
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        detected = detect_language(latest_text(tracker))
        metadata = tracker.latest_message.get("metadata") or {}
        if detected is None and metadata.get("language") in ("vi", "en") and len(tracker.events) < 8:
            # First words of a conversation: the channel may know (browser or Telegram language).
            detected = metadata["language"]
        if detected and detected != tracker.get_slot("language"):
            return [SlotSet("language", detected)]
        return []
