"""Which language the bot answers in: the rule behind the `language` slot, after every customer message."""
from __future__ import annotations

from typing import Optional

from bot.text import detect_language

# The channel's language (the browser's, or Telegram's) only counts in a conversation's first events: later
# a short "ok" or an order number must not switch a customer who writes Vietnamese to an English browser's.
EARLY_EVENTS = 8
LANGUAGES = ("vi", "en")


def next_language(text: Optional[str], channel_language: Optional[str], events_so_far: int,
                  current: Optional[str]) -> Optional[str]:
    """The language to switch to after `text`; None keeps `current`.

    The current language stays unless the message clearly is in the other one (bot.text.detect_language);
    a message that says nothing (an order number, "ok") takes the channel's language early in a conversation.
    """
    chosen = detect_language(text)
    if chosen is None and channel_language in LANGUAGES and events_so_far < EARLY_EVENTS:
        chosen = channel_language
    return chosen if chosen and chosen != current else None
