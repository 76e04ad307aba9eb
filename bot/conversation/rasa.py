"""Talking to Rasa: the only way any part of hotro asks it something.

Rasa's REST channel (bot/channels/rest.py) answers only callers that send the
gateway's secret, and its HTTP API only callers with RASA_TOKEN, so customers
can reach Rasa through the gateway alone.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Sequence, Union
from urllib.parse import quote

import aiohttp

from bot.channels.common import APOLOGY
from bot.conversation.guard import SILENT_COMMANDS
from bot.internal_auth import GATEWAY_SECRET_HEADER as SECRET_HEADER
from bot.rasa_instances import instance_for, url_list

logger = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=30)
KEEPALIVE_SECONDS = 2.0  # below Sanic's KEEP_ALIVE_TIMEOUT (5 s), which Rasa runs on


class RasaClient:
    """`url`: one Rasa, or the list of instances; each conversation always goes to the same one (bot/rasa_instances.py)."""

    def __init__(self, url: Union[str, Sequence[str]], token: str = "", gateway_secret: str = "",
                 timeout: aiohttp.ClientTimeout = TIMEOUT):
        self.urls = [u.rstrip("/") for u in url_list(url)]
        if not self.urls:
            raise ValueError("no Rasa URL")
        self.url = self.urls[0]
        self._token = token
        self._headers = {SECRET_HEADER: gateway_secret} if gateway_secret else {}
        self._timeout = timeout
        self._http: Optional[aiohttp.ClientSession] = None

    async def start(self) -> None:
        if self._http is None:
            # Idle connections are dropped after 2 s, before Rasa's Sanic closes them from its side (5 s): a
            # message sent just as Rasa closes the connection would fail and the customer get the apology.
            self._http = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers,
                                               connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS))

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    @property
    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise RuntimeError("RasaClient.start() was not awaited")
        return self._http

    def url_for(self, sender: str) -> str:
        return instance_for(self.urls, sender)

    def _params(self) -> Optional[Dict[str, str]]:
        return {"token": self._token} if self._token else None

    async def ask(self, sender: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Rasa's replies to one message; the apology when Rasa cannot answer (the customer may retry)."""
        try:
            async with self._session.post(f"{self.url_for(sender)}/webhooks/rest/webhook",
                                          json={"sender": sender, "message": text, "metadata": metadata}) as response:
                if response.status == 200:
                    replies = await response.json()
                    # "/restart" legitimately answers nothing; anything else silent gets the apology.
                    if isinstance(replies, list) and (replies or text.strip().startswith(SILENT_COMMANDS)):
                        return replies
                else:
                    logger.error("Rasa answered %s for conversation %s", response.status, sender[:8])
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            logger.error("Rasa unreachable for conversation %s: %s", sender[:8], type(exc).__name__)
        return [{"recipient_id": sender, "text": APOLOGY}]

    async def trigger_intent(self, sender: str, intent: str) -> List[Dict[str, Any]]:
        """Run an intent as if the customer had said it (hand-back); Rasa's replies, [] when it failed."""
        url = f"{self.url_for(sender)}/conversations/{quote(sender, safe='')}/trigger_intent"
        try:
            async with self._session.post(url, params=self._params(), json={"name": intent, "entities": {}}) as response:
                if response.status != 200:
                    logger.error("Rasa refused intent %s for %s: HTTP %s", intent, sender[:8], response.status)
                    return []
                return (await response.json()).get("messages", [])
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            logger.error("intent %s for %s failed: %s", intent, sender[:8], type(exc).__name__)
            return []

    async def tracker(self, sender: str) -> Optional[Dict[str, Any]]:
        url = f"{self.url_for(sender)}/conversations/{quote(sender, safe='')}/tracker"
        try:
            async with self._session.get(url, params=self._params()) as response:
                if response.status != 200:
                    logger.warning("Rasa refused the tracker of %s: HTTP %s", sender[:8], response.status)
                    return None
                return await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            logger.warning("tracker of %s unavailable: %s", sender[:8], type(exc).__name__)
            return None
