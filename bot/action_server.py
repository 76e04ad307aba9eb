"""`python -m bot.action_server`: rasa_sdk's action server, bound to loopback and asking for a secret.

rasa_sdk's own entry point listens on 0.0.0.0 and runs any action for anyone who posts a
tracker. This one binds HOTRO_INTERNAL_HOST (default 127.0.0.1), answers only requests
carrying X-Hotro-Action-Secret = HOTRO_ACTION_SECRET (Rasa sends it: bot/rasa_endpoints.py),
and refuses to start on a database that is not migrated. /health stays open for probes.
"""
from __future__ import annotations

import argparse
import logging
import os
from typing import Optional, Sequence

from sanic import Sanic, response
from sanic.request import Request

from bot.internal_auth import ACTION_SECRET_ENV, ACTION_SECRET_HEADER, internal_host, required_secret, secret_ok

ACTIONS_PACKAGE = "bot.actions"
OPEN_PATHS = ("/health",)


def create_app(secret: str) -> Sanic:
    from rasa_sdk.endpoint import create_app as create_sdk_app

    # No CORS: only Rasa calls this server, never a browser.
    app = create_sdk_app(ACTIONS_PACKAGE, cors_origins="")

    @app.middleware("request")
    async def require_secret(request: Request):
        if request.path not in OPEN_PATHS and not secret_ok(secret, request.headers.get(ACTION_SECRET_HEADER)):
            return response.json({"error": "only Rasa may call the action server"}, status=403)
        return None

    return app


def main(argv: Optional[Sequence[str]] = None) -> None:
    from bot.startup import exit_unless_migrated

    exit_unless_migrated("action server")
    parser = argparse.ArgumentParser(prog="python -m bot.action_server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_PORT", "5055")))
    parser.add_argument("--host", default=internal_host(os.environ))
    args = parser.parse_args(argv)

    from rasa_sdk import utils
    from rasa_sdk.plugin import plugin_manager

    utils.configure_colored_logging(os.environ.get("LOG_LEVEL", "INFO"))
    utils.update_sanic_log_level()
    app = create_app(required_secret(ACTION_SECRET_ENV, "action server"))
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    logging.getLogger(__name__).info("action server on http://%s:%s (secret required)", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
