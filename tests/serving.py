"""Serving an aiohttp app on a free local port, for tests that talk to it over real HTTP."""
from aiohttp import web

from bot.runner import free_port


async def serve(app: web.Application):
    """(runner, base URL); call `await runner.cleanup()` when done."""
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"
