"""The database goes down mid-conversation (real PostgreSQL refusing connections): the customer still
gets answers, and every line reaches the transcript, in order, once it is back."""
import asyncio

import aiohttp

from bot.gateway.app import CORE
from bot.services.conversations import ConversationService
from tests.conftest import _prepare, postgres_database, set_connections_allowed
from tests.serving import FakeRasa, gateway_app, serve, web_chat, widget_socket
from tests.telegram_api import until


def test_a_database_outage_loses_nothing_and_the_bot_keeps_answering():
    with postgres_database() as (url, name):
        factory = _prepare(url)
        conversations = ConversationService(factory)
        secret = web_chat(factory, "web-outage")

        async def main():
            rasa = await FakeRasa(lambda body: [{"recipient_id": body["sender"], "text": f"bot: {body['message']}"}]
                                  ).start()
            app = gateway_app(factory, rasa.url, with_staff=False)
            backlog = app[CORE].backlog
            backlog._retry_every = 0.2
            runner, base = await serve(app)
            answers = []
            try:
                async with aiohttp.ClientSession() as http:
                    async def say(text):
                        async with http.post(f"{base}/webhooks/rest/webhook",
                                             json={"sender": "rest-outage", "message": text}) as response:
                            answers.append((response.status, [r["text"] for r in await response.json()]))

                    await say("một")
                    set_connections_allowed(name, False)
                    await say("hai")
                    await say("ba")
                    # A website chat cannot be checked against its secret now: the widget is told to try again
                    # (and keeps its chat), rather than that its chat is gone.
                    async with widget_socket(http, base, "web-outage", secret) as ws:
                        history = await ws.receive_json(timeout=10)
                    waiting = len(backlog)
                    set_connections_allowed(name, True)
                    await say("bốn")  # queues behind the waiting lines, so the order holds
                    await until(lambda: len(backlog) == 0, 20, "the backlog to be written")
            finally:
                await runner.cleanup()
                await rasa.stop()
            return answers, history, waiting

        answers, history, waiting = asyncio.run(main())
        lines = conversations.transcript("rest-outage")
        factory.kw["bind"].dispose()

    assert answers == [(200, [f"bot: {t}"]) for t in ("một", "hai", "ba", "bốn")]
    assert history["code"] == "unavailable" and waiting == 4
    assert [(line.author_type, line.text) for line in lines] == [
        (author, text) for t in ("một", "hai", "ba", "bốn") for author, text in (("customer", t), ("bot", f"bot: {t}"))
    ]
    times = [line.created_at for line in lines]
    assert times == sorted(times)
