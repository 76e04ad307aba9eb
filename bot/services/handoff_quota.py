"""How many times one client may ask for a person or file a complaint in an hour.

Each handoff may open a ticket and put a conversation in the staff queue; each
complaint opens a ticket. The gateway limits how fast one client opens
conversations and sends messages, but a client opening conversation after
conversation, each asking for a person, would still fill the queue (50 in a
few seconds, before this). So the action server, where tickets and queue
entries are made, takes one unit of this quota per handoff or complaint and
refuses politely when none is left.

The client is the gateway's key for the sender's address, in the metadata the
gateway sends Rasa (`client`; clients cannot set it: core._metadata keeps only
what the gateway sets). A message without it (Telegram, where the conversation
is the Telegram account; a caller of Rasa's loopback API) counts per
conversation.
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Optional

from bot.ratelimit import Limiter, Rate, Verdict

METADATA_KEY = "client"  # set by the gateway alone (bot/conversation/core.py)
CLIENT_KEY = re.compile(r"[0-9a-f]{24}")  # bot/gateway/limits.client_key


def quota_key(metadata: Optional[Mapping[str, Any]], sender_id: str) -> str:
    client = (metadata or {}).get(METADATA_KEY)
    if isinstance(client, str) and CLIENT_KEY.fullmatch(client):
        return f"handoffs:{client}"
    return f"handoffs:sender:{sender_id}"


class HandoffQuota:
    def __init__(self, limiter: Limiter, rate: Optional[Rate]):
        """`rate`: None for no limit (HOTRO_LIMIT_HANDOFFS=off)."""
        self._limiter = limiter
        self._rate = rate

    async def take(self, metadata: Optional[Mapping[str, Any]], sender_id: str) -> Verdict:
        """One handoff or complaint for whoever sent the latest message; refused ones take nothing."""
        return await self._limiter.hit(quota_key(metadata, sender_id), self._rate)
