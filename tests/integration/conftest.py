"""A real Rasa server and action server, on free ports, with their own SQLite database."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from bot.config import ROOT
from bot.internal_auth import gateway_headers
from bot.runner import Stack, free_port
from bot.services.tickets import TicketService
from bot.store.db import session_factory
from bot.store.seed import prepare_demo_database

MODEL = ROOT / "models" / "hotro.tar.gz"
TOKEN = "integration-test-token"



TELEGRAM_STAFF_CHAT = -1001


@pytest.fixture(scope="session")
def telegram_api():
    """A local fake of Telegram's Bot API; the stack's gateway polls it (tests/telegram_api.py)."""
    from tests.telegram_api import FakeTelegram

    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, telegram_api):
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` (make test does it)")
    workdir: Path = tmp_path_factory.mktemp("stack")
    db_url = f"sqlite:///{workdir / 'hotro.db'}"
    prepare_demo_database(db_url)
    faq_dir = workdir / "faq"  # a copy the FAQ tests may edit, as an editor would
    shutil.copytree(ROOT / "faq", faq_dir)
    env = dict(os.environ)
    env.update(
        HOTRO_DATABASE_URL=db_url, HOTRO_FAQ_DIR=str(faq_dir), RASA_TOKEN=TOKEN,
        HOTRO_UPLOAD_DIR=str(workdir / "uploads"),  # customers' files, away from the repository's var/
        RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
        HOTRO_OPENING_HOURS="00:00-24:00",  # tests run at any hour
        # Every test is one client (127.0.0.1) and many chat at once; the limits have their own tests.
        HOTRO_LIMIT_MESSAGES="off", HOTRO_LIMIT_CONVERSATIONS="off", HOTRO_LIMIT_UPLOADS="off",
        HOTRO_LIMIT_HANDOFFS="off",
        # The gateway's Telegram channel talks to the fake Bot API; short polls notice outages quickly.
        TELEGRAM_BOT_TOKEN=telegram_api.token, TELEGRAM_API_URL=telegram_api.url,
        TELEGRAM_STAFF_CHAT_ID=str(TELEGRAM_STAFF_CHAT), TELEGRAM_POLL_TIMEOUT="2", TELEGRAM_STAFF_SCAN_SECONDS="1",
    )
    for name in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET"):
        env.pop(name, None)
    env.pop("ACTION_SERVER_URL", None)
    running = Stack(free_port(), free_port(), MODEL, env, workdir / "logs", gateway_port=free_port()).start(timeout=240)
    running.db_url = db_url
    running.faq_dir = faq_dir
    yield running
    running.stop()


@pytest.fixture(scope="session")
def tickets(stack) -> TicketService:
    return TicketService(session_factory(stack.db_url))


class Chat:
    """One customer talking to the bot over Rasa's REST webhook."""

    def __init__(self, stack: Stack, sender: str, base_url: str = None):
        self.url = f"{base_url or stack.rasa_url}/webhooks/rest/webhook"
        # Rasa's REST channel answers only the gateway: these tests speak to it as the gateway does.
        self.headers = {"Content-Type": "application/json", **gateway_headers(stack.env)}
        self.sender = sender
        self.transcript = []

    def say(self, text: str) -> str:
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        request = urllib.request.Request(self.url, data=body, headers=self.headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            replies = json.load(response)
        self.last_replies = replies
        joined = "\n".join(r.get("text", "") for r in replies)
        self.transcript.append((text, joined))
        return joined

    def buttons(self):
        return [b for r in self.last_replies for b in r.get("buttons", [])]


def load_stretch() -> float:
    """How much a wall-clock promise stretches on this shared machine right now: by the run queue's length
    per core (other processes holding the cores), never below 1. For the promises an issue states in
    seconds; the benchmarks measure the same paths with CPU seconds beside wall seconds."""
    return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def staff_api(stack, method, path, token, body=None, timeout=10):
    """A call to the gateway's staff API with a bearer token; the decoded JSON answer."""
    request = urllib.request.Request(
        f"{stack.gateway_url}{path}", method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


@pytest.fixture
def chat(stack, request):
    def make(sender=None, via_gateway=False):
        # Node names of parametrised tests can be long; senders are at most 128 characters.
        sender = sender or "t-" + hashlib.sha1(request.node.name.encode()).hexdigest()[:16]
        return Chat(stack, sender, stack.gateway_url if via_gateway else None)

    return make


CHROMIUM = os.environ.get("HOTRO_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def open_widget(browser, stack, dialogs):
    """(context, page): a customer on a phone, in Vietnamese, with the chat open; any dialog goes to `dialogs`."""
    context = browser.new_context(viewport={"width": 390, "height": 780}, locale="vi-VN")
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(stack.gateway_url + "/")
    page.get_by_role("button", name="Mở khung chat hỗ trợ").click()
    return context, page


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"chromium not found at {CHROMIUM}: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()
