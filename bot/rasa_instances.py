"""Several Rasa processes, and which one serves a conversation.

Rasa answers one message at a time per process (one core). To use more cores `make run` starts
HOTRO_RASA_PROCESSES Rasa servers, and the gateway sends every message of a conversation to the
same one, chosen from the conversation's sender id alone:
- a conversation never has two messages in flight in two processes, so there is no need for Rasa's
  Redis lock store between them, whose open-source version has a race (RasaHQ/rasa #9213);
- with the in-memory tracker store each process keeps its own conversations, and they stay put;
- every gateway, on any machine, picks the same instance: the choice depends only on the sender id
  and the list of URLs (HOTRO_RASA_URLS), never on which gateway got the message or on start order.

Rendezvous (highest random weight) hashing: each (URL, sender) pair gets a score, the highest wins.
Adding or removing one of N instances moves only the conversations that instance had (about 1/N);
the others keep theirs, as a consistent hash promises.
"""
from __future__ import annotations

import hashlib
import os
from typing import List, Mapping, Sequence, Union
from urllib.parse import urlsplit

from bot.config import whole_number

RASA_URLS_ENV = "HOTRO_RASA_URLS"
RASA_PROCESSES_ENV = "HOTRO_RASA_PROCESSES"
MAX_DEFAULT_PROCESSES = 4  # each Rasa holds its model (~0.6 GB RSS): more cores than this rarely pay for it


def rasa_urls(env: Mapping[str, str], local_processes: bool = False) -> List[str]:
    """HOTRO_RASA_URLS (comma-separated), else RASA_URL, else RASA_PORT on this machine.

    `local_processes`: without either setting, the processes `make run` starts here instead (RASA_PORT,
    RASA_PORT+1, ..., HOTRO_RASA_PROCESSES of them), in the order it gives them to its gateway: for the
    commands that ask a running `make run`'s Rasa something (`python -m bot privacy ...`). A gateway keeps
    the single default, so one started beside a single Rasa (systemd) never looks for more.
    """
    from bot.internal_auth import connect_host

    listed = [url.strip().rstrip("/") for url in env.get(RASA_URLS_ENV, "").split(",") if url.strip()]
    if listed:
        return [_checked(RASA_URLS_ENV, url) for url in listed]
    if env.get("RASA_URL", "").strip():
        return [_checked("RASA_URL", env["RASA_URL"].strip().rstrip("/"))]
    first = whole_number("RASA_PORT", env.get("RASA_PORT") or 5005, minimum=1)
    count = process_count(env) if local_processes else 1
    return [f"http://{connect_host(env)}:{first + n}" for n in range(count)]


def url_list(urls: Union[str, Sequence[str]]) -> List[str]:
    """One Rasa URL or the instances' URLs, as a list (the callers take either)."""
    return [urls] if isinstance(urls, str) else list(urls)


def _checked(name: str, url: str) -> str:
    """An http(s) URL with a host: anything else (a typo, file:, a path alone) stops start-up with its name."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{name}: {url!r} is not an http:// or https:// address of a Rasa server")
    return url


def _score(url: str, sender: str) -> int:
    # A cryptographic hash: stable across processes and Python versions (hash() is salted per process).
    return int.from_bytes(hashlib.blake2b(f"{url}\n{sender}".encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "big")


def instance_for(urls: Sequence[str], sender: str) -> str:
    """The URL of the Rasa instance that serves `sender`'s conversation."""
    if len(urls) == 1:
        return urls[0]
    return max(urls, key=lambda url: (_score(url, sender), url))


def process_count(env: Mapping[str, str], cores: int = 0) -> int:
    """How many Rasa processes `make run` starts: HOTRO_RASA_PROCESSES, else one per core (at most 4)."""
    given = env.get(RASA_PROCESSES_ENV, "").strip()
    if given:
        return whole_number(RASA_PROCESSES_ENV, given, minimum=1)
    return max(1, min(cores or os.cpu_count() or 1, MAX_DEFAULT_PROCESSES))


def instance_names(count: int) -> List[str]:
    """Names in logs, supervision and /health: "rasa" alone, or "rasa", "rasa-2", ... (the first keeps its name)."""
    return ["rasa" if n == 1 else f"rasa-{n}" for n in range(1, count + 1)]
