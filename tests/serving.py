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


async def serve_sanic(app):
    """(server, base URL) for a Sanic app (Rasa's channels, the action server); `server.close()` when done."""
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    return server, f"http://127.0.0.1:{port}"
