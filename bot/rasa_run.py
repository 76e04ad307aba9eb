"""`python -m bot.rasa_run`: the Rasa server with hotro's settings, as `make run` and systemd start it.

Settings come from the environment, then .env, like every entry point: RASA_PORT (5005),
HOTRO_INTERNAL_HOST (127.0.0.1), RASA_TOKEN, and what var/rasa-endpoints.yml is written from
(ACTION_SERVER_URL, HOTRO_ACTION_SECRET, the PostgreSQL tracker store, the Redis lock store:
bot/rasa_endpoints.py). The token reaches Rasa inside this process: on a command line it would be
readable by every local user (`ps`).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from bot.config import ROOT

DEFAULT_MODEL = ROOT / "models" / "hotro.tar.gz"
DEFAULT_ENDPOINTS = ROOT / "var" / "rasa-endpoints.yml"


def rasa_argv(env, port: int, model: Path, endpoints: Path) -> List[str]:
    from bot.internal_auth import internal_host

    argv = ["rasa", "run", "--enable-api", "--port", str(port), "--interface", internal_host(env),
            "--model", str(model), "--endpoints", str(endpoints), "--credentials", str(ROOT / "credentials.yml")]
    if env.get("RASA_TOKEN"):
        argv += ["--auth-token", env["RASA_TOKEN"]]
    return argv


def main(args: Optional[Sequence[str]] = None) -> None:
    from bot.conversation.rasa import TIMEOUT
    from bot.rasa_endpoints import write_endpoints
    from bot.settings_env import load_dotenv

    load_dotenv()
    parser = argparse.ArgumentParser(prog="python -m bot.rasa_run", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT") or 5005))
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--endpoints", type=Path, help="an endpoints file already written (default: write "
                                                         f"{DEFAULT_ENDPOINTS.relative_to(ROOT)} from the settings)")
    options = parser.parse_args(args)
    endpoints = options.endpoints or write_endpoints(os.environ, DEFAULT_ENDPOINTS)
    # A Rasa killed while handling a message leaves the conversation's Redis lock behind, and the other Rasa
    # processes wait for it until it expires (Rasa's default: 60 s). Nothing can use it once the gateway has
    # stopped waiting for that answer (RasaClient's timeout): expire it then. Read when Rasa is imported.
    os.environ.setdefault("TICKET_LOCK_LIFETIME", str(int(TIMEOUT.total)))
    sys.argv = rasa_argv(os.environ, options.port, options.model, endpoints)
    from rasa.__main__ import main as rasa_main

    from bot import rasa_speedups

    # Also applied when Rasa loads our REST channel; here too because the `language` slot depends on it
    # (its mapping action runs inside Rasa), whatever channels credentials.yml lists.
    rasa_speedups.apply()

    rasa_main()


if __name__ == "__main__":
    main()
