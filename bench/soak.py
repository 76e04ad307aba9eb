"""Soak test of the production configuration, with faults injected at known times: `make soak`.

    make soak                                  # 10 minutes, all five faults; writes bench/soak.md
    make soak SOAK_MINUTES=4 SOAK_FAULTS=rasa  # a short run while developing; writes var/soak.md

Everything runs on 127.0.0.1, started here and stopped at the end:
- PostgreSQL: the machine's server (SOAK_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/postgres),
  in a throwaway database dropped afterwards;
- Redis: a redis-server of its own on a free port, since this one gets killed (the machine's Redis is
  shared with other work);
- 2 action servers, 2 Rasa and 2 gateways, supervised as `make run` supervises its processes
  (bot/supervisor.py), with bench/spreader.py in front of each pair: customers → gateways,
  gateways → Rasa, Rasa → action servers;
- the fake Telegram Bot API (tests/telegram_api.py): gateway 1 polls it, gateway 2 only sends.

SOAK_CUSTOMERS customers (default 48) file whole complaints at SOAK_RATE messages/s in all (default 12)
over the REST webhook, the widget's WebSocket and Telegram, answering whatever the bot asks, and saying it again after an
apology or an error, as people do. Faults, one at a time at known times: an action server, a Rasa,
a gateway killed with -9 (each restarted by the supervisor), Redis killed and started again 5 s
later, every PostgreSQL connection of the database terminated.

The gateways' per-address rate limits (HOTRO_LIMIT_*) would throttle customers who all come from
127.0.0.1: they are off here unless set in the environment, which is passed on (as HOTRO_RATE_* is).
"""
from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import aiohttp
from sqlalchemy import create_engine, func, select, text

from bot.channels.common import APOLOGY
from bot.config import ROOT
from bot.rasa_endpoints import write_endpoints
from bot.runner import Stack, action_server_command, answers, free_port, rasa_command, rasa_ready_url
from bot.services.conversations import ConversationService
from bot.services.tickets import TicketService
from bot.settings_env import ENV_FILE_VARIABLE
from bot.store.db import session_factory, session_scope
from bot.store.models import TelegramOutgoing
from bot.store.seed import prepare_demo_database
from bot.supervisor import RUNNING
from tests.telegram_api import FakeTelegram

MODEL = ROOT / "models" / "hotro.tar.gz"
CODE = re.compile(r"KN-\d{6}")
KEPT_ENV = ("HOTRO_LIMIT_", "HOTRO_RATE_")
LIMITS_OFF = ("HOTRO_LIMIT_MESSAGES", "HOTRO_LIMIT_CONVERSATIONS", "HOTRO_LIMIT_UPLOADS", "HOTRO_LIMIT_HANDOFFS")
SCRUBBED = ("HOTRO_", "RASA_", "TELEGRAM_", "GATEWAY_", "ACTION_")
ANSWER_TIMEOUT = 60.0  # a customer waits this long for an answer before calling it lost
QUIET = 0.5  # the bot's messages of one turn arrive together; this much silence ends the turn
SLOW = 3.0  # an answer slower than this many times the baseline p95 (and 2 s) is not normal service
CLEAN_STRETCH = 30.0  # normal service is back when this long passes without an abnormal answer

ORDERS = [f"DH1000{n:02d}" for n in range(1, 21)]
PROBLEMS = [("hàng bị vỡ", "cái bình bị nứt một đường dài"), ("thiếu hàng", "thiếu một cái áo trong hộp"),
            ("giao sai hàng", "tôi đặt màu đỏ mà nhận màu xanh")]


# -- what the customers saw ---------------------------------------------------------------------

@dataclass
class Sent:
    channel: str
    sender: str
    text: str
    at: float  # seconds since the soak began
    outcome: str = "error"  # answered | apology | error
    latency: Optional[float] = None
    replies: List[str] = field(default_factory=list)
    acked: bool = False  # the gateway took it: an HTTP 200, an answer on the socket, or Telegram holds it
    detail: str = ""
    done: float = 0.0  # when the customer had the answer or gave up: the fault window it counts in


@dataclass
class Complaint:
    channel: str
    sender: str
    confirm_sent: bool = False
    code: Optional[str] = None  # the ticket code the customer was told


class Log:
    def __init__(self):
        self.began = time.monotonic()
        self.began_wall = time.time()
        self.sent: List[Sent] = []
        self.complaints: List[Complaint] = []
        self.events: List[Tuple[float, str]] = []  # (soak time, what the supervisor or the soak did)
        self.failed_opens: Counter = Counter()  # widget chats that could not be opened, by error
        self.loads: List[float] = []  # the machine's 1-minute load average, every 15 s
        self.customers = 0  # talking at once

    def now(self) -> float:
        return time.monotonic() - self.began

    def event(self, what: str) -> None:
        self.events.append((self.now(), what))
        print(f"[{self.now():7.1f}s] {what}", flush=True)


def outcome_of(replies: List[str]) -> str:
    if not replies:
        return "error"
    return "apology" if any(APOLOGY in r for r in replies) else "answered"


def next_message(replies: List[str], complaint: Complaint, order: str, problem: Tuple[str, str],
                 phone: str) -> Optional[str]:
    """What a customer filing a complaint says next, from what the bot just said; None when done."""
    said = "\n".join(replies)
    code = CODE.search(said)
    if code and "ghi nhận" in said:
        complaint.code = code.group(0)
        return None
    lowered = said.lower()
    if "xác nhận gửi" in lowered:
        complaint.confirm_sent = True
        return "đúng rồi, gửi đi"
    if "liên hệ" in lowered:
        return phone
    if "mô tả" in lowered:
        return problem[1]
    if "vấn đề gì" in lowered or "chọn giúp" in lowered:
        return problem[0]
    if "mã đơn" in lowered:
        return order
    return "tôi muốn khiếu nại"  # lost the thread (e.g. a conversation Rasa forgot): start again


class Pacer:
    """One shared budget of messages per second, so the offered load is the same whatever the latency."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self.next = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        async with self.lock:
            now = time.monotonic()
            self.next = max(self.next + self.interval, now)
            wait = self.next - now
        if wait > 0:
            await asyncio.sleep(wait)


# -- the three kinds of customers ------------------------------------------------------------

class Customer:
    channel = ""

    def __init__(self, number: int, log: Log, pacer: Pacer, stop: asyncio.Event):
        self.number, self.log, self.pacer, self.stop = number, log, pacer, stop
        self.random = random.Random(number)

    async def begin(self, conversation: int) -> str:
        raise NotImplementedError

    async def exchange(self, record: Sent) -> None:
        raise NotImplementedError

    async def end(self) -> None:
        pass

    async def run(self) -> None:
        conversation = 0
        while not self.stop.is_set():
            try:
                sender = await self.begin(conversation)
            except Exception as exc:  # cannot even open a chat (the front door down): try again shortly
                self.log.failed_opens[type(exc).__name__] += 1
                await asyncio.sleep(2)
                continue
            await self.complain(sender)
            await self.end()
            conversation += 1

    async def complain(self, sender: str) -> None:
        complaint = Complaint(self.channel, sender)
        self.log.complaints.append(complaint)
        order = self.random.choice(ORDERS)
        problem = self.random.choice(PROBLEMS)
        phone = "09" + "".join(self.random.choice("0123456789") for _ in range(8))
        message: Optional[str] = "tôi muốn khiếu nại"
        for _ in range(30):  # a conversation that goes round in circles is given up
            if self.stop.is_set() and not complaint.confirm_sent:
                return
            await self.pacer.take()
            record = Sent(self.channel, sender, message, self.log.now())
            self.log.sent.append(record)
            await self.exchange(record)
            record.done = self.log.now()
            if record.outcome != "answered":
                await asyncio.sleep(2 if record.outcome == "apology" else 1)  # then says it again
                continue
            message = next_message(record.replies, complaint, order, problem, phone)
            if message is None:
                return
            await asyncio.sleep(self.random.uniform(0.2, 1.0))


class RestCustomer(Customer):
    channel = "rest"

    def __init__(self, *args, front: str, http: aiohttp.ClientSession):
        super().__init__(*args)
        self.url = f"{front}/webhooks/rest/webhook"
        self.http = http

    async def begin(self, conversation: int) -> str:
        return f"soak-rest-{self.number}-{conversation}-{uuid.uuid4().hex[:6]}"

    async def exchange(self, record: Sent) -> None:
        began = time.monotonic()
        body = {"sender": record.sender, "message": record.text, "metadata": {"language": "vi"}}
        try:
            async with self.http.post(self.url, json=body,
                                      timeout=aiohttp.ClientTimeout(total=ANSWER_TIMEOUT)) as response:
                if response.status != 200:
                    record.detail = f"HTTP {response.status}"
                    return
                replies = await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            record.detail = type(exc).__name__
            return
        record.acked = True
        record.latency = time.monotonic() - began
        record.replies = [r.get("text") or "" for r in replies]
        record.outcome = outcome_of(record.replies)


class WidgetCustomer(Customer):
    channel = "web"

    def __init__(self, *args, front: str, http: aiohttp.ClientSession):
        super().__init__(*args)
        self.front = front
        self.http = http
        self.socket: Optional[aiohttp.ClientWebSocketResponse] = None
        self.sender = self.secret = ""

    async def begin(self, conversation: int) -> str:
        async with self.http.post(f"{self.front}/conversations", data={"language": "vi"},
                                  timeout=aiohttp.ClientTimeout(total=20)) as response:
            if response.status != 201:
                raise RuntimeError(f"HTTP {response.status}")
            opened = await response.json()
        self.sender, self.secret = opened["sender"], opened["secret"]
        await self.connect()
        return self.sender

    async def connect(self) -> List[dict]:
        """Open (or reopen) the conversation's socket; the history the gateway sends first."""
        await self.end()
        self.socket = await self.http.ws_connect(f"{self.front}/ws", timeout=5.0)
        await self.socket.send_json({"type": "open", "sender": self.sender, "secret": self.secret})
        while True:
            frame = await asyncio.wait_for(self.socket.receive(), timeout=20)
            if frame.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError("closed while opening")
            data = json.loads(frame.data)
            if data.get("type") == "history":
                return data.get("messages") or []
            if data.get("type") == "error":
                raise ConnectionError(data.get("error"))

    async def end(self) -> None:
        if self.socket is not None:
            await self.socket.close()
            self.socket = None

    async def exchange(self, record: Sent) -> None:
        began = time.monotonic()
        try:
            if self.socket is None or self.socket.closed:
                await self.reconnect(record)
            await self.socket.send_json({"type": "message", "text": record.text, "metadata": {"language": "vi"}})
            replies: List[str] = []
            deadline = began + ANSWER_TIMEOUT
            while True:
                wait = (deadline - time.monotonic()) if not replies else QUIET
                try:
                    frame = await asyncio.wait_for(self.socket.receive(), timeout=max(0.01, wait))
                except asyncio.TimeoutError:
                    break
                if frame.type != aiohttp.WSMsgType.TEXT:
                    raise ConnectionError("socket closed")
                data = json.loads(frame.data)
                if data.get("type") == "message" and data.get("author") in ("bot", "staff", "system"):
                    if not replies:
                        record.latency = time.monotonic() - began
                    replies.append(data.get("text") or "")
        except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError, OSError, RuntimeError) as exc:
            record.detail = f"socket: {type(exc).__name__}"
            await self.reconnect(record)
            return
        if replies:
            record.acked = True
            record.replies = replies
            record.outcome = outcome_of(replies)
        else:
            record.detail = "no answer"

    async def reconnect(self, record: Sent) -> None:
        """The gateway went away: reopen the chat through the front (the other gateway), as the widget does."""
        for attempt in range(20):
            try:
                await self.connect()
                return
            except Exception:
                await asyncio.sleep(min(0.5 * 2 ** attempt, 5))
        record.detail += "; could not reconnect"


class TelegramCustomer(Customer):
    channel = "telegram"

    def __init__(self, *args, telegram: FakeTelegram):
        super().__init__(*args)
        self.telegram = telegram
        self.user: Dict = {}

    async def begin(self, conversation: int) -> str:
        user_id = 800000 + self.number * 10000 + conversation
        self.user = FakeTelegram.user(user_id, f"Khach {self.number}", "vi")
        return f"tg-{user_id}"

    async def exchange(self, record: Sent) -> None:
        chat = self.user["id"]
        before = len(self.telegram.sent_to(chat))
        began = time.monotonic()
        self.telegram.send_text(self.user, record.text)
        record.acked = True  # Telegram keeps it until a gateway confirms it
        count, last_change = before, began
        while True:
            await asyncio.sleep(0.05)
            now = len(self.telegram.sent_to(chat))
            if now != count:
                if count == before:
                    record.latency = time.monotonic() - began
                count, last_change = now, time.monotonic()
            if count > before and time.monotonic() - last_change > QUIET:
                break
            if count == before and time.monotonic() - began > ANSWER_TIMEOUT:
                record.detail = "no answer"
                return
        record.replies = [m["text"] for m in self.telegram.sent_to(chat)[before:count]]
        record.outcome = outcome_of(record.replies)


# -- the system under test -----------------------------------------------------------------

class Redis:
    """A redis-server of our own, on a port of our own: this one gets killed."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is needed (apt-get install redis-server)")
        log = open(self.workdir / "redis.log", "ab")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 20
        while not self.up():
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start; see redis.log")
            time.sleep(0.1)

    def up(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class System:
    def __init__(self, workdir: Path, db_url: str, telegram: FakeTelegram, log: Log):
        self.workdir = workdir
        self.db_url = db_url
        self.telegram = telegram
        self.log = log
        self.redis = Redis(workdir)
        self.ports = {name: free_port() for name in
                      ("actions-1", "actions-2", "rasa-1", "rasa-2", "gateway-1", "gateway-2",
                       "front", "rasa-lb", "actions-lb")}
        self.stack: Optional[Stack] = None
        self.spreader: Optional[subprocess.Popen] = None

    @property
    def front(self) -> str:
        return f"http://127.0.0.1:{self.ports['front']}"

    def env(self) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED) or k.startswith(KEPT_ENV)}
        for name in LIMITS_OFF:
            env.setdefault(name, "off")
        env.update({
            ENV_FILE_VARIABLE: os.devnull,
            "HOTRO_DATABASE_URL": self.db_url,
            "HOTRO_REDIS_URL": f"redis://127.0.0.1:{self.redis.port}/0",
            "RASA_TOKEN": secrets.token_urlsafe(24),
            "HOTRO_GATEWAY_SECRET": secrets.token_urlsafe(32),
            "HOTRO_ACTION_SECRET": secrets.token_urlsafe(32),
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.ports['actions-lb']}/webhook",
            "RASA_URL": f"http://127.0.0.1:{self.ports['rasa-lb']}",
            "HOTRO_OPENING_HOURS": "00:00-24:00",
            "HOTRO_UPLOAD_DIR": str(self.workdir / "uploads"),
            "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TELEGRAM_BOT_TOKEN": self.telegram.token, "TELEGRAM_API_URL": self.telegram.url,
            "TELEGRAM_POLL_TIMEOUT": "2",
        })
        return env

    def start(self) -> None:
        self.redis.start()
        env = self.env()
        ports = self.ports
        routes = [f"127.0.0.1:{ports['front']}=127.0.0.1:{ports['gateway-1']},127.0.0.1:{ports['gateway-2']}",
                  f"127.0.0.1:{ports['rasa-lb']}=127.0.0.1:{ports['rasa-1']},127.0.0.1:{ports['rasa-2']}",
                  f"127.0.0.1:{ports['actions-lb']}=127.0.0.1:{ports['actions-1']},127.0.0.1:{ports['actions-2']}"]
        with open(self.workdir / "spreader.log", "ab") as log:
            self.spreader = subprocess.Popen([sys.executable, "-m", "bench.spreader", *routes], cwd=ROOT,
                                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        stack = Stack(rasa_port=0, action_port=0, model=MODEL, env=env, log_dir=self.workdir / "logs")
        self.stack = stack
        endpoints = write_endpoints(env, self.workdir / "rasa-endpoints.yml")
        for n in (1, 2):
            port = ports[f"actions-{n}"]
            stack.spawn(f"actions-{n}", action_server_command(port, "127.0.0.1"),
                        ready_url=f"http://127.0.0.1:{port}/health")
        for n in (1, 2):
            port = ports[f"rasa-{n}"]
            stack.spawn(f"rasa-{n}", rasa_command(port, MODEL, endpoints),
                        ready_url=rasa_ready_url(f"http://127.0.0.1:{port}", env["RASA_TOKEN"]))
        for n in (1, 2):
            port = ports[f"gateway-{n}"]
            # Telegram allows one poller per bot: gateway 2 only sends (README, "More than one machine").
            gateway_env = dict(env, GATEWAY_PORT=str(port), TELEGRAM_UPDATES="on" if n == 1 else "off")
            stack.spawn(f"gateway-{n}", [sys.executable, "-m", "bot.gateway"], env=gateway_env,
                        ready_url=f"http://127.0.0.1:{port}/health")
        deadline = time.monotonic() + 600
        for name, (_, _, url) in stack.launches.items():
            while not answers(url, timeout=2):
                stack._check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready; see {self.workdir / 'logs'}")
                time.sleep(0.5)
        stack.supervise(say=self.log.event)

    def kill(self, name: str) -> None:
        process = self.stack.supervisor.children[name].process
        os.kill(process.pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.stack is not None:
            self.stack.stop()
        if self.spreader is not None and self.spreader.poll() is None:
            self.spreader.terminate()
            self.spreader.wait(timeout=10)
        self.redis.stop()


# -- faults --------------------------------------------------------------------------------

@dataclass
class Fault:
    key: str
    title: str
    part: str  # the supervised child killed, or "" (Redis, PostgreSQL)
    at: float = 0.0
    back_at: Optional[float] = None  # when the part answered again (soak time)


FAULTS = {
    "actions": Fault("actions", "action server 1 killed (kill -9)", "actions-1"),
    "rasa": Fault("rasa", "Rasa 1 killed (kill -9)", "rasa-1"),
    "gateway": Fault("gateway", "gateway 1 killed (kill -9): Telegram's poller; its WebSocket customers "
                                "reconnect through the front to gateway 2", "gateway-1"),
    "redis": Fault("redis", "Redis killed (kill -9), started again 5 s later", ""),
    "postgres": Fault("postgres", "PostgreSQL: every connection to the database terminated (pg_terminate_backend)", ""),
}


async def inject(fault: Fault, system: System, log: Log, admin_url: str, db_name: str) -> None:
    log.event(f"FAULT: {fault.title}")
    fault.at = log.now()
    if fault.part:
        system.kill(fault.part)
        child = system.stack.supervisor.children[fault.part]
        await asyncio.sleep(1)
        while child.part.state != RUNNING:
            await asyncio.sleep(0.2)
        fault.back_at = log.now()
    elif fault.key == "redis":
        system.redis.kill()
        await asyncio.sleep(5)
        await asyncio.to_thread(system.redis.start)
        fault.back_at = log.now()
        log.event("Redis started again")
    elif fault.key == "postgres":
        def terminate() -> int:
            engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True)
            try:
                with engine.connect() as conn:
                    return len(conn.execute(text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": db_name}).all())
            finally:
                engine.dispose()

        count = await asyncio.to_thread(terminate)
        fault.back_at = log.now()
        log.event(f"{count} PostgreSQL connection(s) terminated")


# -- the run -----------------------------------------------------------------------------------

async def drive(system: System, log: Log, telegram: FakeTelegram, faults: List[Fault], seconds: float,
                rate: float, admin_url: str, db_name: str) -> None:
    stop = asyncio.Event()
    pacer = Pacer(rate)
    connector = aiohttp.TCPConnector(limit=200, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as http:
        customers: List[Customer] = []
        # Each customer waits for the answer before the next message (people do): enough of them that the
        # pacer, not the customers, sets the rate while answers take a few seconds under faults.
        total = int(os.environ.get("SOAK_CUSTOMERS") or 48)
        counts = {"rest": total * 10 // 28, "web": total * 10 // 28}
        counts["telegram"] = total - counts["rest"] - counts["web"]
        log.customers = total
        for n in range(counts["rest"]):
            customers.append(RestCustomer(n, log, pacer, stop, front=system.front, http=http))
        for n in range(counts["web"]):
            customers.append(WidgetCustomer(100 + n, log, pacer, stop, front=system.front, http=http))
        for n in range(counts["telegram"]):
            customers.append(TelegramCustomer(n, log, pacer, stop, telegram=telegram))
        tasks = [asyncio.create_task(c.run()) for c in customers]

        async def watch_load() -> None:  # the machine is shared: its load explains slow minutes
            while True:
                log.loads.append(os.getloadavg()[0])
                await asyncio.sleep(15)

        watcher = asyncio.create_task(watch_load())
        for fault in faults:
            await asyncio.sleep(max(0.0, fault.at - log.now()))
            await inject(fault, system, log, admin_url, db_name)
        await asyncio.sleep(max(0.0, seconds - log.now()))
        log.event("traffic stops; conversations that reached confirmation finish")
        stop.set()
        done, pending = await asyncio.wait(tasks, timeout=120)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        watcher.cancel()
        for customer in customers:
            await customer.end()


def wait_for_outbox(db_url: str, log: Log, timeout: float = 200.0) -> int:
    """Telegram replies still queued; a killed gateway's leased rows are taken over after their lease (120 s)."""
    factory = session_factory(db_url)
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(factory) as session:
            pending = session.execute(select(func.count(TelegramOutgoing.id))
                                      .where(TelegramOutgoing.status == "pending")).scalar_one()
        if not pending or time.monotonic() > deadline:
            log.event(f"Telegram outbox: {pending} reply(ies) still pending")
            return pending
        time.sleep(2)


# -- the figures -------------------------------------------------------------------------------

def p95(values: List[float]) -> Optional[float]:
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=20)[18]


def fmt_s(value: Optional[float]) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


@dataclass
class Window:
    title: str
    start: float
    end: float
    fault: Optional[Fault] = None


def recovery(records: List[Sent], start: float, end: float, slow: Dict[str, float]) -> float:
    """Seconds from `start` to the end of the last abnormal exchange before a clean stretch (0: none at all)."""
    last = start
    for record in sorted((r for r in records if start <= r.done < end), key=lambda r: r.done):
        if record.done > last + CLEAN_STRETCH:
            break
        if record.outcome != "answered" or (record.latency or 0) > slow[record.channel]:
            last = max(last, record.done)
    return last - start


def audit(log: Log, db_url: str, telegram: FakeTelegram):
    """Per message and per complaint: what the database and the Bot API really hold."""
    conversations = ConversationService(session_factory(db_url))
    tickets = TicketService(session_factory(db_url))
    lost_lines: Dict[int, int] = {}  # index in log.sent -> 1 when that acknowledged message is not in the transcript
    kept_unacked = 0
    by_sender: Dict[str, List[int]] = defaultdict(list)
    for index, record in enumerate(log.sent):
        by_sender[record.sender].append(index)
    transcripts: Dict[str, list] = {}
    for sender, indexes in by_sender.items():
        lines = conversations.transcript(sender)
        transcripts[sender] = lines
        kept = Counter(line.text for line in lines if line.author_type == "customer")
        for index in indexes:  # acknowledged first: they are the ones that must be there
            record = log.sent[index]
            if record.acked:
                if kept[record.text] > 0:
                    kept[record.text] -= 1
                else:
                    lost_lines[index] = 1
        for index in indexes:
            record = log.sent[index]
            if not record.acked and kept[record.text] > 0:
                kept[record.text] -= 1
                kept_unacked += 1
    details: List[str] = [f"transcript: {log.sent[i].channel} {log.sent[i].sender} lost {log.sent[i].text!r}"
                          for i in lost_lines]
    ticket_problems: List[Tuple[Complaint, str, float]] = []  # (complaint, lost|doubled|filed-not-told, when)
    for complaint in log.complaints:
        if not complaint.confirm_sent and complaint.code is None:
            continue
        found = [t for t in tickets.for_sender(complaint.sender) if not t.source.startswith("handoff")]
        when = max((r.done for r in (log.sent[i] for i in by_sender[complaint.sender])), default=0.0)
        if complaint.code is not None:
            if not found or complaint.code not in [t.code for t in found]:
                ticket_problems.append((complaint, "lost", when))
            elif len(found) > 1:
                ticket_problems.append((complaint, "doubled", when))
        elif len(found) > 1:
            ticket_problems.append((complaint, "doubled", when))
        elif len(found) == 1:
            ticket_problems.append((complaint, "filed, customer not told", when))
    for complaint, kind, when in ticket_problems:
        found = [t.code for t in tickets.for_sender(complaint.sender) if not t.source.startswith("handoff")]
        said = "; ".join(f"{r.text[:20]!r}→{r.outcome}{'(' + r.detail + ')' if r.detail else ''}"
                         for r in (log.sent[i] for i in by_sender[complaint.sender]))
        details.append(f"ticket {kind} at {when:.0f}s: {complaint.channel} {complaint.sender}, told "
                       f"{complaint.code or 'nothing'}, tickets {found}; the customer said: {said}")
    telegram_problems: List[Tuple[str, str, int, float]] = []  # (sender, lost|twice, count, when)
    for sender, lines in transcripts.items():
        if not sender.startswith("tg-"):
            continue
        wanted = Counter(line.text for line in lines if line.author_type == "bot")
        calls = telegram.calls_to("sendMessage", chat_id=int(sender[3:]))
        sent = Counter(call["result"]["text"] for call in calls)
        for text_, count in wanted.items():
            if sent[text_] < count:
                said_at = next(line.created_at for line in lines if line.text == text_)
                telegram_problems.append((sender, "lost", count - sent[text_],
                                          said_at.replace(tzinfo=timezone.utc).timestamp() - log.began_wall))
                details.append(f"Telegram reply lost: {sender} {text_[:60]!r}")
        for text_, count in sent.items():
            if count > wanted[text_]:
                again = [call["at"] for call in calls if call["result"]["text"] == text_][wanted[text_]]
                telegram_problems.append((sender, "twice", count - wanted[text_], again - log.began_wall))
                details.append(f"Telegram reply sent {count} times, {wanted[text_]} in the transcript, at "
                               f"{again - log.began_wall:.0f}s: {sender} {text_[:60]!r}")
    for record in log.sent:
        if record.channel == "telegram" and record.outcome == "error":
            details.append(f"Telegram message without an answer in {ANSWER_TIMEOUT:.0f} s (sent at {record.at:.0f}s): "
                           f"{record.sender} {record.text!r}")
    return lost_lines, kept_unacked, ticket_problems, telegram_problems, details


def report(log: Log, faults: List[Fault], seconds: float, rate: float, audit_result, pending_outbox: int,
           path: Path) -> str:
    lost_lines, kept_unacked, ticket_problems, telegram_problems, details = audit_result
    records = log.sent
    first_fault = faults[0].at if faults else seconds
    baseline = [r.latency for r in records if 30 <= r.done < first_fault and r.latency is not None]
    base_p95 = p95(baseline) or 0.5
    # Per channel: Telegram's answers are slower by nature (a long poll, then the outbox).
    slow = {channel: max(2.0, SLOW * (p95([r.latency for r in records if r.channel == channel
                                            and 30 <= r.done < first_fault and r.latency is not None]) or base_p95))
            for channel in ("rest", "web", "telegram")}
    windows = [Window("before any fault", 0, first_fault)]
    for i, fault in enumerate(faults):
        end = faults[i + 1].at if i + 1 < len(faults) else seconds + 600
        windows.append(Window(fault.title, fault.at, end, fault))

    lines = []
    total_minutes = seconds / 60
    sent_rate = len([r for r in records if r.at < seconds]) / seconds
    lines += [
        "# Soak test: the production configuration under faults",
        "",
        f"`make soak` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M')} UTC, {platform.node()} "
        f"({os.cpu_count()} CPUs, shared with other work: load average {statistics.mean(log.loads or [0]):.1f} "
        f"on average, {max(log.loads or [0]):.1f} at most): {total_minutes:.0f} minutes, "
        f"{len(records)} customer messages ({sent_rate:.1f}/s sent, paced at up to {rate:g}/s, by "
        f"{log.customers} customers at once, each waiting for the answer), "
        f"{len(log.complaints)} complaints started, over REST, the widget's WebSocket and Telegram.",
        "",
        "PostgreSQL (a throwaway database on the machine's server) for everything; a Redis of its own "
        "(locks, fan-out); 2 action servers, 2 Rasa, 2 gateways supervised as `make run` does "
        "(bot/supervisor.py), a TCP spreader in front of each pair (bench/spreader.py); the fake Telegram "
        "Bot API, polled by gateway 1. Faults one at a time; each row counts the messages whose answer (or "
        "failure) came from the fault until the next one.",
        "",
        "| window | sent | answered | apology | errors | transcript lines lost (acknowledged) "
        "| tickets lost / doubled | Telegram replies lost / twice | part back | normal service after "
        "| p95 before | p95 during | p95 after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    totals = Counter()
    for window in windows:
        inside = [r for r in records if window.start <= r.done < window.end]
        indexes = [i for i, r in enumerate(records) if window.start <= r.done < window.end]
        answered = sum(r.outcome == "answered" for r in inside)
        apology = sum(r.outcome == "apology" for r in inside)
        errors = sum(r.outcome == "error" for r in inside)
        lost = sum(lost_lines.get(i, 0) for i in indexes)
        tickets_lost = sum(1 for c, kind, w in ticket_problems if kind == "lost" and window.start <= w < window.end)
        tickets_doubled = sum(1 for c, kind, w in ticket_problems
                              if kind == "doubled" and window.start <= w < window.end)
        tg_lost = (sum(n for s, kind, n, w in telegram_problems if kind == "lost" and window.start <= w < window.end)
                   + sum(r.outcome == "error" for r in inside if r.channel == "telegram"))
        tg_twice = sum(n for s, kind, n, w in telegram_problems if kind == "twice" and window.start <= w < window.end)
        totals.update(sent=len(inside), answered=answered, apology=apology, errors=errors, lost=lost,
                      tickets_lost=tickets_lost, tickets_doubled=tickets_doubled, tg_lost=tg_lost, tg_twice=tg_twice)
        if window.fault is None:
            back = normal = "–"
            before = p95([r.latency for r in inside if r.latency is not None])
            during = after = None
        else:
            fault = window.fault
            back = fmt_s(fault.back_at - fault.at) if fault.back_at is not None else "never"
            took = recovery(records, window.start, window.end, slow)
            normal = fmt_s(took) if took else "no disturbance"
            before = p95([r.latency for r in records if window.start - 60 <= r.done < window.start and r.latency])
            during = p95([r.latency for r in inside if r.done <= window.start + max(took, 1) and r.latency])
            after = p95([r.latency for r in inside if r.done > window.start + max(took, 1) and r.latency])
        lines.append(
            f"| {window.title} | {len(inside)} | {answered} | {apology} | {errors} | {lost} | "
            f"{tickets_lost} / {tickets_doubled} | {tg_lost} / {tg_twice} | {back} | {normal} | "
            f"{fmt_s(before)} | {fmt_s(during)} | {fmt_s(after)} |")
    confirmed = [c for c in log.complaints if c.code]
    lines += [
        f"| **all** | {totals['sent']} | {totals['answered']} | {totals['apology']} | {totals['errors']} | "
        f"**{totals['lost']}** | **{totals['tickets_lost']} / {totals['tickets_doubled']}** | "
        f"**{totals['tg_lost']}** / {totals['tg_twice']} | | | | | |",
        "",
        "Per channel, the whole run (a Telegram message without any answer within "
        f"{ANSWER_TIMEOUT:.0f} s is an error, and a lost reply):",
        "",
        "| channel | sent | answered | apology | errors | p50 | p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for channel in ("rest", "web", "telegram"):
        mine = [r for r in records if r.channel == channel]
        latencies = sorted(r.latency for r in mine if r.latency is not None)
        lines.append(f"| {channel} | {len(mine)} | {sum(r.outcome == 'answered' for r in mine)} | "
                     f"{sum(r.outcome == 'apology' for r in mine)} | {sum(r.outcome == 'error' for r in mine)} | "
                     f"{fmt_s(statistics.median(latencies) if latencies else None)} | {fmt_s(p95(latencies))} |")
    lines += [
        "",
        f"- Complaints that reached confirmation and were told a ticket code: {len(confirmed)} "
        f"(REST {sum(c.channel == 'rest' for c in confirmed)}, widget {sum(c.channel == 'web' for c in confirmed)}, "
        f"Telegram {sum(c.channel == 'telegram' for c in confirmed)}); every one checked against the tickets "
        "table (exactly one ticket, with the code the customer saw).",
        f"- Confirmations sent whose answer the customer never got, yet a ticket was filed: "
        f"{sum(1 for _, kind, _ in ticket_problems if kind == 'filed, customer not told')} "
        "(the customer sees it with \"check my complaint\"; it is not a lost ticket).",
        f"- Customer messages without an acknowledgement (errors) that the transcript kept anyway: {kept_unacked}.",
        f"- Widget chats that could not be opened (`POST /conversations` or the socket), retried 2 s later: "
        f"{sum(log.failed_opens.values())} {dict(log.failed_opens) or ''}.",
        f"- Telegram replies still queued when the soak ended: {pending_outbox}.",
        f"- Baseline p95 {fmt_s(base_p95)}; an answer slower than {SLOW:g} times its channel's baseline p95 "
        f"(REST {fmt_s(slow['rest'])}, widget {fmt_s(slow['web'])}, Telegram {fmt_s(slow['telegram'])}), an apology "
        f"or an error is \"not normal\"; normal service is back at the end of the last one followed by "
        f"{CLEAN_STRETCH:.0f} s without any.",
        "- \"part back\": the supervisor saw the killed process answer its readiness URL again (Rasa: model "
        "loaded), or Redis answered PING; for PostgreSQL, when the connections were terminated (the pools "
        "reconnect on their own).",
        "",
        "Every exception, for its explanation below:" if details else "No exception to explain.",
        "",
        *[f"- {line}" for line in details],
        "",
        "Timeline (soak time):",
        "",
        "```",
        *[f"{at:7.1f}s  {what}" for at, what in log.events],
        "```",
    ]
    return "\n".join(lines) + "\n"


NOTES_MARKER = "<!-- notes below are kept when the soak rewrites this file -->"


def write_report(path: Path, body: str) -> None:
    notes = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if NOTES_MARKER in old:
            notes = old.split(NOTES_MARKER, 1)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body + "\n" + NOTES_MARKER + notes, encoding="utf-8")


def schedule(keys: List[str], seconds: float) -> Tuple[List[Fault], float]:
    """Faults evenly spaced after a minute of normal service, with time after the last to see recovery."""
    warmup, tail = 60.0, 90.0
    spacing = max(60.0, (seconds - warmup - tail) / max(1, len(keys)))
    faults = []
    for i, key in enumerate(keys):
        fault = Fault(**{k: v for k, v in FAULTS[key].__dict__.items()})
        fault.at = warmup + i * spacing
        faults.append(fault)
    return faults, max(seconds, warmup + (len(keys) - 1) * spacing + max(spacing, tail))


def main() -> int:
    minutes = float(os.environ.get("SOAK_MINUTES") or 10)
    rate = float(os.environ.get("SOAK_RATE") or 12)
    keys = [k for k in (os.environ.get("SOAK_FAULTS") or "actions,rasa,gateway,redis,postgres").split(",") if k]
    unknown = [k for k in keys if k not in FAULTS]
    if unknown:
        raise SystemExit(f"unknown fault(s) {unknown}; choose among {', '.join(FAULTS)}")
    default_report = ROOT / ("bench/soak.md" if minutes >= 10 and len(keys) == len(FAULTS) else "var/soak.md")
    report_path = Path(os.environ.get("SOAK_REPORT") or default_report)
    admin_url = os.environ.get("SOAK_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    if not MODEL.exists():
        raise SystemExit("no trained model: run `make train`")
    faults, seconds = schedule(keys, minutes * 60)

    db_name = f"hotro_soak_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    db_url = admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    workdir = Path(tempfile.mkdtemp(prefix="hotro-soak-"))
    log = Log()
    telegram = FakeTelegram().start()
    system = System(workdir, db_url, telegram, log)
    try:
        print(f"soak: {seconds / 60:.1f} min at {rate:g} messages/s; faults {', '.join(keys)}; logs in {workdir}")
        prepare_demo_database(db_url)
        system.start()
        log.began, log.began_wall = time.monotonic(), time.time()
        log.event("all parts answering; customers start")
        asyncio.run(drive(system, log, telegram, faults, seconds, rate, admin_url, db_name))
        time.sleep(5)
        pending = wait_for_outbox(db_url, log)
        result = audit(log, db_url, telegram)
        (workdir / "records.json").write_text(json.dumps([r.__dict__ for r in log.sent], ensure_ascii=False))
        body = report(log, faults, seconds, rate, result, pending, report_path)
        write_report(report_path, body)
        print(body)
        print(f"written to {report_path}")
        return 0
    finally:
        system.stop()
        telegram.stop()
        session_factory(db_url).kw["bind"].dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
        if os.environ.get("SOAK_KEEP_LOGS"):
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
