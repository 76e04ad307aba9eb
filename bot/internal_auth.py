"""The two internal doors behind the gateway: Rasa's REST channel and the action server.

Both listen on loopback (HOTRO_INTERNAL_HOST opens them to other hosts on purpose) and both
want a shared secret in a header, so that neither a customer who finds the port nor another
local user can talk to Rasa as any conversation (e.g. a `tg-` sender, to read a Telegram
customer's ticket status) or run an action (e.g. file a ticket from a forged tracker).
An unset secret refuses everything: these doors are never open by default.
"""
from __future__ import annotations

import hmac
import logging
import os
from typing import Dict, Mapping, Optional

GATEWAY_SECRET_ENV = "HOTRO_GATEWAY_SECRET"
GATEWAY_SECRET_HEADER = "X-Hotro-Gateway-Secret"
ACTION_SECRET_ENV = "HOTRO_ACTION_SECRET"
ACTION_SECRET_HEADER = "X-Hotro-Action-Secret"
INTERNAL_HOST_ENV = "HOTRO_INTERNAL_HOST"
DEFAULT_INTERNAL_HOST = "127.0.0.1"

logger = logging.getLogger(__name__)


def secret_ok(expected: str, given: Optional[str]) -> bool:
    if not expected or given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def internal_host(env: Mapping[str, str]) -> str:
    """Where Rasa and the action server listen."""
    return env.get(INTERNAL_HOST_ENV, "").strip() or DEFAULT_INTERNAL_HOST


def connect_host(env: Mapping[str, str]) -> str:
    """Where processes on this machine reach them (a wildcard bind is reachable on loopback)."""
    host = internal_host(env)
    if host in ("0.0.0.0", "::", "*"):
        return DEFAULT_INTERNAL_HOST
    return f"[{host}]" if ":" in host else host


def gateway_headers(env: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """Headers for a call to Rasa's REST channel, as the gateway makes it."""
    env = os.environ if env is None else env
    return {GATEWAY_SECRET_HEADER: env.get(GATEWAY_SECRET_ENV, "")}


def required_secret(env_name: str, door: str) -> str:
    """The secret a server checks; an unset one is said once at start, then every request is refused."""
    secret = os.environ.get(env_name, "")
    if not secret:
        logger.error("%s: %s is not set, so every request is refused (make run generates it into .env)",
                     door, env_name)
    return secret
