"""Rasa's endpoints file, built from the environment.

On one machine Rasa keeps conversations in memory. In production, several Rasa
instances behind a load balancer must share them: the tracker store goes to
PostgreSQL (HOTRO_TRACKER_STORE_URL, or HOTRO_DATABASE_URL when that is
PostgreSQL) and a Redis lock store (HOTRO_REDIS_URL) makes sure two instances
never process messages of one conversation at the same time. Operators set two
URLs instead of editing YAML with one variable per field.

Rasa sends HOTRO_ACTION_SECRET to the action server in a header on every call
(EndpointConfig passes the `headers` of action_endpoint on each request): the
action server refuses calls without it (bot/action_server.py).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Mapping, Optional
from urllib.parse import unquote, urlsplit

import yaml

from bot.internal_auth import ACTION_SECRET_ENV, ACTION_SECRET_HEADER


class EndpointsError(ValueError):
    pass


def tracker_store_url(env: Mapping[str, str]) -> Optional[str]:
    explicit = env.get("HOTRO_TRACKER_STORE_URL", "").strip()
    if explicit:
        return explicit
    database = env.get("HOTRO_DATABASE_URL", "").strip()
    return database if database.startswith("postgresql") else None


def _tracker_store(url: str) -> Dict[str, Any]:
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgresql"):
        raise EndpointsError("the tracker store must be PostgreSQL (postgresql://user:password@host:5432/dbname)")
    store: Dict[str, Any] = {
        "type": "SQL",
        "dialect": "postgresql",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "db": parts.path.lstrip("/") or "postgres",
    }
    if parts.username:
        store["username"] = unquote(parts.username)
    if parts.password:
        store["password"] = unquote(parts.password)
    return store


def _lock_store(url: str) -> Dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise EndpointsError("HOTRO_REDIS_URL must look like redis://[:password@]host:6379/0")
    store: Dict[str, Any] = {
        "type": "redis",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(parts.path.lstrip("/") or 0),
        "key_prefix": "hotro",
    }
    if parts.password:
        store["password"] = unquote(parts.password)
    if parts.scheme == "rediss":
        store["use_ssl"] = True
    return store


def build_endpoints(env: Mapping[str, str]) -> Dict[str, Any]:
    action: Dict[str, Any] = {"url": env.get("ACTION_SERVER_URL") or "http://127.0.0.1:5055/webhook"}
    if env.get(ACTION_SECRET_ENV):
        action["headers"] = {ACTION_SECRET_HEADER: env[ACTION_SECRET_ENV]}
    endpoints: Dict[str, Any] = {"action_endpoint": action}
    tracker = tracker_store_url(env)
    if tracker:
        endpoints["tracker_store"] = _tracker_store(tracker)
    redis_url = env.get("HOTRO_REDIS_URL", "").strip()
    if redis_url:
        endpoints["lock_store"] = _lock_store(redis_url)
    return endpoints


def write_endpoints(env: Mapping[str, str], path: Path) -> Path:
    """Write the file Rasa reads with --endpoints; it may hold a password, so only the owner can read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then renamed over: several Rasa processes starting at once (hotro-rasa@ units)
    # each write it, and none may read a half-written file.
    fd, temporary = tempfile.mkstemp(prefix=path.name, dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(yaml.safe_dump(build_endpoints(env), sort_keys=False))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
