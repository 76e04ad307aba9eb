"""The database goes down mid-conversation (real PostgreSQL refusing connections): the customer still
gets answers, and every line reaches the transcript, in order, once it is back."""
import asyncio

import aiohttp
from aiohttp import web

from bot.gateway.app import BACKLOG, create_app
from bot.services.conversations import ConversationService
from tests.conftest import _prepare, postgres_database, set_connections_allowed
from tests.serving import serve
from tests.telegram_api import until


async def echo_rasa():
    async def webhook(request):
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": f"bot: {body['message']}"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    return await serve(app)


def test_a_database_outage_loses_nothing_and_the_bot_keeps_answering():
    with postgres_database() as (url, name):
        factory = _prepare(url)
        conversations = ConversationService(factory)

        async def main():
            rasa_runner, rasa_url = await echo_rasa()
            app = create_app(conversations, rasa_url)
            app[BACKLOG]._retry_every = 0.2
            runner, base = await serve(app)
            answers = []
            try:
                async with aiohttp.ClientSession() as http:
                    async def say(text):
                        async with http.post(f"{base}/webhooks/rest/webhook",
                                             json={"sender": "web-outage", "message": text}) as response:
                            answers.append((response.status, [r["text"] for r in await response.json()]))

                    await say("một")
                    set_connections_allowed(name, False)
                    await say("hai")
                    await say("ba")
                    async with http.ws_connect(f"{base}/ws?sender=web-outage") as ws:
                        history = await ws.receive_json(timeout=10)
                    waiting = len(app[BACKLOG])
                    set_connections_allowed(name, True)
                    await say("bốn")  # queues behind the waiting lines, so the order holds
                    await until(lambda: len(app[BACKLOG]) == 0, 20, "the backlog to be written")
            finally:
                await runner.cleanup()
                await rasa_runner.cleanup()
            return answers, history, waiting

        answers, history, waiting = asyncio.run(main())
        lines = conversations.transcript("web-outage")
        factory.kw["bind"].dispose()

    assert answers == [(200, [f"bot: {t}"]) for t in ("một", "hai", "ba", "bốn")]
    assert history == {"type": "history", "messages": []} and waiting == 4
    assert [(line.author_type, line.text) for line in lines] == [
        (author, text) for t in ("một", "hai", "ba", "bốn") for author, text in (("customer", t), ("bot", f"bot: {t}"))
    ]
    times = [line.created_at for line in lines]
    assert times == sorted(times)
