"""The handoff quota, as the actions that open tickets and queue entries use it (bot/services/handoff_quota.py)."""
from __future__ import annotations

from bot.actions import tracker_utils as tu
from bot.ratelimit import refusal
from bot.services import registry


async def refused_handoff(dispatcher, tracker) -> bool:
    """True (and the customer told, politely, when to try again) when their client has no handoff left."""
    verdict = await registry.handoff_quota().take(tracker.latest_message.get("metadata"), tracker.sender_id)
    if verdict.allowed:
        return False
    dispatcher.utter_message(text=refusal("handoffs", tu.language(tracker), verdict.retry_after))
    return True
