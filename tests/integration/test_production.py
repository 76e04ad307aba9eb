"""The production configuration: PostgreSQL for everything, Redis locks, two Rasa instances sharing conversations."""
from __future__ import annotations

import json
import os
import urllib.request
import uuid

import pytest
from sqlalchemy import create_engine, text

from bot.internal_auth import gateway_headers
from bot.runner import Stack, free_port
from bot.services.tickets import TicketService
from bot.store.db import session_factory
from bot.store.seed import prepare_demo_database
from tests.conftest import POSTGRES_ADMIN_URL, REDIS, redis_up, require_service
from tests.integration.conftest import MODEL


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    require_service("Redis", redis_up())
    name = f"hotro_prod_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        require_service("PostgreSQL", False)
    db_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    prepare_demo_database(db_url)
    workdir = tmp_path_factory.mktemp("production")
    env = dict(os.environ)
    env.pop("ACTION_SERVER_URL", None)
    env.update(HOTRO_DATABASE_URL=db_url, HOTRO_REDIS_URL=f"redis://{REDIS[0]}:{REDIS[1]}/5",
               RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", HOTRO_OPENING_HOURS="00:00-24:00")
    stack = Stack(free_port(), free_port(), MODEL, env, workdir / "logs", more_rasa_ports=[free_port()])
    try:
        stack.start(timeout=300)
        stack.db_url = db_url
        yield stack
    finally:
        stack.stop()
        session_factory(db_url).kw["bind"].dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _say(stack: Stack, port: int, sender: str, message: str) -> str:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json", **gateway_headers(stack.env)})
    with urllib.request.urlopen(request, timeout=60) as response:
        return "\n".join(r.get("text", "") for r in json.load(response))


def test_a_conversation_moves_between_rasa_instances_without_losing_its_place(production):
    first, second = production.rasa_port, production.more_rasa_ports[0]
    sender = "prod-" + uuid.uuid4().hex[:8]
    # Each message goes to a different instance, as a load balancer without sticky sessions would send it.
    assert "mã đơn" in _say(production, first, sender, "tôi muốn khiếu nại")
    assert "DH100004" in _say(production, second, sender, "DH100004")
    _say(production, first, sender, "hàng bị vỡ")
    _say(production, second, sender, "cái bình bị nứt một đường dài")
    _say(production, first, sender, "0934555666")
    done = _say(production, second, sender, "đúng rồi, gửi đi")
    assert "KN-" in done
    tickets = TicketService(session_factory(production.db_url)).for_sender(sender)
    assert [(t.order_number, t.category, t.contact) for t in tickets] == [("DH100004", "damaged", "0934555666")]
    # Rasa kept the conversation in PostgreSQL, not in either process.
    engine = create_engine(production.db_url, future=True)
    try:
        with engine.connect() as conn:
            events = conn.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar_one()
    finally:
        engine.dispose()
    assert events > 10
