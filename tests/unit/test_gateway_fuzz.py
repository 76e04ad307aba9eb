"""Thousands of hostile requests to a real gateway: none may get a 5xx, every refusal is JSON, and it still works.

A real gateway on a free port, a real SQLite database and upload folder, and a
stand-in for Rasa that echoes. The requests come from a seed (tests/fuzzing.py):
HOTRO_FUZZ_SEED=N reproduces a failure, which names the seed and the requests.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from typing import List, Optional, Tuple

import aiohttp

from bot.conversation.guard import TELEGRAM_SENDER_PREFIX
from bot.gateway.limits import GatewayLimits
from bot.ratelimit import LimitSettings
from bot.services.conversations import ConversationService
from bot.services.staff import StaffService, csrf_token
from bot.services.tickets import STATUSES, ComplaintSubmission, TicketService
from tests.fuzzing import Hostile, multipart, request_bytes, send_raw, show
from tests.serving import FakeRasa, gateway_app, serve, web_chat
from tests.telegram_api import png

SEED = int(os.environ.get("HOTRO_FUZZ_SEED", "20261126"))
PNG, PDF = png(4, 3), b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PASSWORD = "correct horse battery"
WEB_CHATS = [f"web-fuzz-{i}" for i in range(24)]  # uploads are limited per chat and hour: spread them
STAFF_CHAT = "fuzz-staff"
# Plausible values per field, so that many requests get past the first check and reach the code behind it.
SENDERS = ["fuzz-1", "fuzz-2", WEB_CHATS[0], f"{TELEGRAM_SENDER_PREFIX}1", ""]
MESSAGES = ["xin chào", "hello", "/restart", "tôi muốn khiếu nại DH100001"]
METADATA = [{"language": "en"}, {"language": "vi"}, {}]
STAFF_ROUTES = [  # method, path with {id}/{n}/{code}, the body's fields (None: no body expected)
    ("GET", "/api/me", None), ("GET", "/api/staff", None), ("GET", "/api/conversations", None),
    ("GET", "/api/conversations/{id}", None), ("GET", "/api/conversations/{id}/attachments/{n}", None),
    ("POST", "/api/conversations/{id}/claim", {"agent": ["lan", "lan", "minh", "nobody"]}),
    ("POST", "/api/conversations/{id}/messages", {"text": MESSAGES}),
    ("POST", "/api/conversations/{id}/notes", {"text": MESSAGES}),
    ("POST", "/api/conversations/{id}/release", None),
    ("GET", "/api/tickets", None),
    ("PATCH", "/api/tickets/{code}", {"status": list(STATUSES), "assignee": ["minh", None], "note": ["đã gọi"]}),
    ("GET", "/api/kpis", None), ("DELETE", "/api/conversations/{id}", None), ("PUT", "/api/tickets/{code}", None),
]
QUERY_KEYS = ["owner", "status", "priority", "category", "assignee", "overdue", "days", "from", "to", "sender", "e"]


class Fuzzer:
    """Sends the requests, keeps every bad answer with the request that got it."""

    def __init__(self, port: int, hostile: Hostile, token: str, session_cookie: str, secrets: dict, ticket: str):
        self.port, self.hostile, self.token, self.session_cookie = port, hostile, token, session_cookie
        self.secrets, self.ticket = secrets, ticket
        self.sent = 0
        self.failures: List[str] = []
        self.kinds: Counter = Counter()  # what was fuzzed and what went wrong: the summary of a failed run
        self.statuses: Counter = Counter()  # how far requests got (all 400s would mean the fuzzing is shallow)

    async def http(self, label: str, method: bytes, path: bytes, headers: List[Tuple[bytes, bytes]],
                   body: Optional[bytes]) -> None:
        raw = request_bytes(method, path, headers, body)
        self.sent += 1
        try:
            answer = await send_raw(self.port, raw)
        except (OSError, AssertionError, asyncio.TimeoutError) as exc:
            self.fail(label, raw, f"no answer ({type(exc).__name__}: {exc})")
            return
        self.statuses[f"{label} {answer.status}"] += 1
        problem = answer.problem()
        if problem:
            self.fail(label, raw, f"{problem}: {answer.body[:300]!r}")

    def fail(self, label: str, raw: bytes, problem: str) -> None:
        self.kinds[f"{label}: {problem[:60]}"] += 1
        self.failures.append(f"#{self.sent} {label}: {problem}\n    request: {show(raw)}")

    def typed(self, headers: List[Tuple[bytes, bytes]]) -> List[Tuple[bytes, bytes]]:
        content_type = self.hostile.content_type()
        return headers + ([(b"Content-Type", content_type)] if content_type is not None else [])

    def body(self, fields) -> bytes:
        return self.hostile.oversized() if self.hostile.chance(0.01) else self.hostile.json_body(fields)

    def maybe(self, p: float, name: bytes) -> List[Tuple[bytes, bytes]]:
        return [(name, self.hostile.header_value())] if self.hostile.chance(p) else []

    # -- the customers' routes -----------------------------------------------------------------

    async def rest(self) -> None:
        h = self.hostile
        headers = self.typed(self.maybe(0.2, b"X-Conversation-Secret") + self.maybe(0.1, b"Origin"))
        await self.http("REST", b"POST", b"/webhooks/rest/webhook", headers,
                        self.body({"sender": SENDERS, "message": MESSAGES, "metadata": METADATA}))
        if h.chance(0.05):  # the right secret for a website chat, with any message
            await self.http("REST with secret", b"POST", b"/webhooks/rest/webhook",
                            [(b"Content-Type", b"application/json"),
                             (b"X-Conversation-Secret", self.secrets[WEB_CHATS[0]].encode())],
                            h.encode({"sender": WEB_CHATS[0], "message": h.value()}))

    async def new_conversation(self) -> None:
        h = self.hostile
        if h.chance(0.4):
            headers, body = [(b"Content-Type", b"application/x-www-form-urlencoded")], h.form_body(["language"])
        else:
            headers, body = self.typed([]), self.body({"language": ["en", "vi"]})
        await self.http("new conversation", b"POST", b"/conversations", headers + self.maybe(0.15, b"Origin"), body)

    async def upload(self, n: int) -> None:
        h = self.hostile
        sender = WEB_CHATS[n % len(WEB_CHATS)].encode() if h.chance(0.9) else h.segment()
        secret = self.secrets.get(sender.decode("latin-1"), "x").encode()
        parts = [([b'Content-Disposition: form-data; name="secret"'], secret if h.chance(0.85) else h.header_value())]
        for name in ("caption", "language", "ref"):
            if h.chance(0.4):
                parts.append(([b'Content-Disposition: form-data; name="' + name.encode() + b'"'], h.header_value()))
        parts.append(([b'Content-Disposition: form-data; name="file"; ' + self.file_name(),
                       b"Content-Type: " + (h.content_type() or b"image/png")],
                      h.pick([PNG, PNG, PDF, b"", bytes(range(256))])))
        if h.chance(0.2):
            parts.insert(h.rng.randrange(len(parts) + 1), self.odd_part())
        if h.chance(0.1):
            h.rng.shuffle(parts)
        content_type = b"multipart/form-data; boundary=fuzzBoundary" if h.chance(0.85) else (h.content_type() or b"")
        body = multipart(parts)
        if h.chance(0.05):
            body = body[: h.rng.randrange(len(body))]
        await self.http("upload", b"POST", b"/upload?sender=" + sender, [(b"Content-Type", content_type)], body)

    def file_name(self) -> bytes:
        """The file's name as a client may write it: percent-escaped anything (CR, LF, NUL), RFC 5987, raw bytes."""
        h = self.hostile
        name = (h.text()[:200] + h.pick(["", ".png", ".pdf", ".html", "\r\n.png", "\x00.png"])).encode("utf-8", "surrogatepass")
        kind = h.rng.randrange(4)
        if kind == 0:
            return b'filename="' + "".join(f"%{b:02X}" if b < 0x30 or b > 0x7e else chr(b) for b in name).encode() + b'"'
        if kind == 1:
            return b"filename*=UTF-8''" + "".join(f"%{b:02X}" for b in name).encode()
        if kind == 2:
            return b'filename="' + bytes(b for b in name if b not in b'\r\n"\\') + b'"'
        return h.pick([b'filename=""', b"filename=", b'filename="%0D%0AX-Evil: 1"', b'filename="a%00b.png"',
                       b"filename*=UTF-8''%ED%A0%80.png", b"filename*=bogus''x.png", b'filename="..%2F..%2Fx.png"'])

    def odd_part(self) -> Tuple[List[bytes], bytes]:
        h = self.hostile
        return h.pick([
            ([b"Content-Disposition: form-data"], b"no name"),
            ([b'Content-Disposition: form-data; name="caption"', b"Content-Transfer-Encoding: base64"], b"!!!"),
            ([b'Content-Disposition: form-data; name="x"', b"Content-Type: multipart/mixed; boundary=inner"],
             multipart([([b'Content-Disposition: form-data; name="y"'], b"z")], b"inner")),
            ([b'Content-Disposition: form-data; name="file"'], PNG),
            ([b'Content-Disposition: form-data; name="' + h.header_value().replace(b'"', b"") + b'"'], h.header_value()),
        ])

    async def websocket(self, session, base: str, frames: int) -> None:
        """Opening frames of every kind; then, on an open chat, frames each followed by a message that must be answered."""
        h = self.hostile
        for _ in range(frames // 4):
            first = h.shaped({"type": ["open"], "sender": [WEB_CHATS[1], "fuzz-1"],
                              "secret": [self.secrets[WEB_CHATS[1]], "guess"]})
            async with session.ws_connect(f"{base}/ws", max_msg_size=0) as socket:
                await self.ws_send(socket, h.encode(first) if h.chance(0.8) else h.json_body(None), opening=True)
        socket = None
        try:
            for _ in range(frames - frames // 4):
                raw = h.encode(h.shaped({"type": ["message"], "text": MESSAGES, "metadata": METADATA})) \
                    if h.chance(0.7) else h.json_body({"type": ["message"], "text": MESSAGES})
                if socket is None or socket.closed:  # a frame that is not UTF-8 ends the connection
                    socket = await self.open_chat(session, base, WEB_CHATS[2])
                if not await self.ws_send(socket, raw, opening=False):
                    await socket.close()
                    socket = None
        finally:
            if socket is not None:
                await socket.close()

    async def ws_send(self, socket, raw: bytes, opening: bool) -> bool:
        """One frame as given (a text frame that may not even be UTF-8); False when the answer was wrong."""
        self.sent += 1
        try:
            await socket._writer.send(raw, binary=False)
            problem = await self.ws_answer(socket, raw, opening)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            self.fail("WS opening" if opening else "WS frame", raw, problem)
        return not problem

    async def open_chat(self, session, base: str, sender: str):
        socket = await session.ws_connect(f"{base}/ws", max_msg_size=0)
        await socket.send_json({"type": "open", "sender": sender, "secret": self.secrets[sender]})
        history = await socket.receive_json(timeout=10)
        assert history.get("type") == "history", history
        return socket

    async def ws_answer(self, socket, raw: bytes, opening: bool) -> Optional[str]:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:  # the protocol's own refusal: the server closes with 1007
            message = await socket.receive(timeout=10)
            return None if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED) else f"answered {message}"
        if opening:
            answer = await socket.receive_json(timeout=10)
            return None if answer.get("type") in ("history", "error") else f"answered {answer}"
        # A message after it must still be answered: the socket survived whatever the frame was.
        probe = f"ping {self.sent}"
        await socket.send_json({"type": "message", "text": probe})
        while True:
            message = await socket.receive(timeout=10)
            if message.type != aiohttp.WSMsgType.TEXT:
                return f"the socket closed ({message.type.name} {message.data})"
            frame = json.loads(message.data)
            if frame.get("type") not in ("message", "error"):
                return f"answered {frame}"
            if frame.get("text") == f"echo {probe}":
                return None

    # -- the staff's side ------------------------------------------------------------------------

    def credentials(self) -> List[Tuple[bytes, bytes]]:
        h = self.hostile
        roll = h.rng.random()
        if roll < 0.8:
            return [(b"Authorization", b"Bearer " + self.token.encode())]
        if roll < 0.9:  # the desk's cookie, with a right or a wrong CSRF token
            csrf = csrf_token(self.session_cookie).encode() if h.chance(0.5) else h.header_value()
            return [(b"Cookie", b"hotro_desk=" + self.session_cookie.encode()), (b"X-CSRF-Token", csrf)]
        return h.pick([[(b"Authorization", b"Bearer " + h.header_value())], [(b"Authorization", h.header_value())],
                       [(b"Cookie", b"hotro_desk=" + h.header_value().replace(b";", b""))]])

    def query(self) -> bytes:
        h = self.hostile
        # Each value short enough that the request line stays under aiohttp's 8190 bytes (over it: its own 400).
        pairs = [(h.pick(QUERY_KEYS) if h.chance(0.8) else "x").encode() + b"=" + h.segment()[:900]
                 for _ in range(h.rng.randrange(3))]
        if h.chance(0.2):
            pairs.append(b"days=" + h.pick([b"7", b"0", b"-5", b"400", b"99999999999", b"1e3", b"%C2%B2", b"9" * 900]))
        if h.chance(0.2):
            pairs.append(b"from=" + h.pick([b"0001-01-01", b"9999-12-31", b"2026-02-30", b"2026-11-01"]) +
                         b"&to=" + h.pick([b"0001-01-01", b"9999-12-31", b"2026-11-07", b"x"]))
        return b"?" + b"&".join(pairs) if pairs else b""

    async def staff(self) -> None:
        h = self.hostile
        method, template, fields = h.pick(STAFF_ROUTES)
        conversation = STAFF_CHAT.encode() if h.chance(0.4) else h.segment()
        # Numbers int() reads or refuses where a check for digits passes them: Unicode digits, thousands of digits.
        n = h.pick([b"0", b"1", b"00", b"-1", b"%C2%B2", b"%D9%A3", b"%EF%BC%91", b"9" * 5000, b"1" * 20]) \
            if h.chance(0.6) else h.segment()
        code = self.ticket.encode() if h.chance(0.5) else h.segment()
        path = template.encode().replace(b"{id}", conversation).replace(b"{n}", n).replace(b"{code}", code)
        if fields is not None or h.chance(0.2):
            body, headers = self.body(fields), self.typed(self.credentials())
        else:
            body, headers = None, self.credentials()
        await self.http(f"staff {method} {template}", method.encode(), path + self.query(), headers, body)

    async def desk(self) -> None:
        h = self.hostile
        roll = h.rng.random()
        if roll < 0.6:
            content_type = b"application/x-www-form-urlencoded" if h.chance(0.7) else (h.content_type() or b"")
            body = h.form_body(["name", "password"]) if h.chance(0.8) else h.json_body({"name": ["lan"]})
            await self.http("desk login", b"POST", b"/desk/login",
                            [(b"Content-Type", content_type)] + self.maybe(0.2, b"Origin"), body)
        elif roll < 0.8:
            cookie = self.session_cookie.encode() if h.chance(0.3) else h.header_value().replace(b";", b"")
            await self.http("desk logout", b"POST", b"/desk/logout",
                            [(b"Content-Type", b"application/x-www-form-urlencoded"), (b"Cookie", b"hotro_desk=" + cookie)],
                            h.form_body(["csrf"]))
        else:
            await self.http("desk page", b"GET", h.pick([b"/desk", b"/desk/login"]) + self.query(),
                            [(b"Cookie", b"hotro_desk=" + h.header_value().replace(b";", b""))], None)

    async def odd_headers(self) -> None:
        """Any route, with header values and paths no ordinary client would send."""
        h = self.hostile
        method, path = h.pick([(b"POST", b"/webhooks/rest/webhook"), (b"POST", b"/conversations"), (b"GET", b"/ws"),
                               (b"POST", b"/upload?sender=" + WEB_CHATS[3].encode()), (b"GET", b"/api/me"),
                               (b"POST", b"/api/conversations/" + STAFF_CHAT.encode() + b"/notes"),
                               (b"GET", b"/api/conversations/" + h.segment()), (b"GET", b"/desk"),
                               (b"GET", b"/" + h.segment()), (b"POST", b"/desk/login")])
        headers = [(name, h.header_value()) for name in
                   h.rng.sample([b"Authorization", b"Cookie", b"X-CSRF-Token", b"X-Conversation-Secret", b"Origin",
                                 b"X-Forwarded-Host", b"Content-Type", b"Accept", b"Content-Encoding"], 3)]
        if h.chance(0.5):
            headers.append((b"Origin", b"http://127.0.0.1"))  # the gateway's own page: allowed
        await self.http("odd headers", method, path, headers, h.json_body({"sender": SENDERS, "text": MESSAGES}))


def _prepare(db_factory) -> Tuple[str, str, dict, str]:
    staff = StaffService(db_factory)
    staff.add("lan", PASSWORD, "Lan")
    staff.add("minh", PASSWORD, "Minh")
    session_cookie, _ = staff.start_session("lan", PASSWORD)
    secrets = {sender: web_chat(db_factory, sender) for sender in WEB_CHATS}
    conversations = ConversationService(db_factory)
    conversations.record(STAFF_CHAT, "customer", "hàng bị vỡ")
    conversations.set_owner(STAFF_CHAT, "agent", "lan")  # so that staff replies with odd text reach the database
    ticket, _ = TicketService(db_factory).open(
        ComplaintSubmission("fuzz-k1", STAFF_CHAT, "rest", "vi", None, False, "damaged", "vỡ", None))
    return staff.issue_token("lan"), session_cookie, secrets, ticket.code


async def _fuzz(db_factory, tmp_path, rounds: dict):
    token, session_cookie, secrets, ticket = _prepare(db_factory)
    rasa = await FakeRasa().start()
    # Per-client limits off: from one address, most requests would otherwise stop at a 429 before the code
    # that reads them (the limits have their own tests).
    limits = GatewayLimits(LimitSettings(messages=None, conversations=None, uploads=None))
    runner, base = await serve(gateway_app(db_factory, rasa.url, upload_dir=tmp_path / "uploads", limits=limits))
    fuzzer = Fuzzer(int(base.rsplit(":", 1)[1]), Hostile(random.Random(SEED)), token, session_cookie, secrets, ticket)
    phases = [("rest", lambda n: fuzzer.rest()), ("conversations", lambda n: fuzzer.new_conversation()),
              ("uploads", fuzzer.upload), ("staff", lambda n: fuzzer.staff()), ("desk", lambda n: fuzzer.desk()),
              ("headers", lambda n: fuzzer.odd_headers())]
    try:
        for name, probe in phases:
            started = time.monotonic()
            for n in range(rounds[name]):
                await probe(n)
            print(f"{name}: {rounds[name]} in {time.monotonic() - started:.1f}s")
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            await fuzzer.websocket(session, base, rounds["websocket"])
            print(f"websocket: {rounds['websocket']} in {time.monotonic() - started:.1f}s")
            after = await _still_serving(session, base, token, fuzzer)
    finally:
        await runner.cleanup()
        await rasa.stop()
    return fuzzer, after, rasa


async def _still_serving(session, base: str, token: str, fuzzer: Fuzzer) -> dict:
    """What a customer and a staff member get once the fuzzing is over; every fuzzed upload can be downloaded."""
    staff = {"Authorization": f"Bearer {token}"}
    downloads = []
    for sender in WEB_CHATS:
        async with session.get(f"{base}/api/conversations/{sender}", headers=staff) as response:
            lines = (await response.json())["transcript"]
        for url in filter(None, (line["attachment_url"] for line in lines)):
            raw = request_bytes(b"GET", url.encode(), [(b"Authorization", f"Bearer {token}".encode())], None)
            answer = await send_raw(fuzzer.port, raw)
            fuzzer.sent += 1
            if answer.status != 200 or "filename" not in answer.headers.get("content-disposition", ""):
                fuzzer.fail("download", raw, f"{answer.status} {answer.headers} {answer.body[:200]!r}")
            downloads.append(answer.status)
    async with session.get(f"{base}/health") as response:
        health = response.status
    async with session.post(f"{base}/webhooks/rest/webhook", json={"sender": "after-fuzz", "message": "xin chào"}) as response:
        customer = (response.status, await response.json())
    async with session.post(f"{base}/api/conversations/after-fuzz/claim", headers=staff) as response:
        claimed = response.status
    async with session.post(f"{base}/api/conversations/after-fuzz/messages", json={"text": "Chào bạn, mình là Lan"},
                            headers=staff) as response:
        replied = (response.status, await response.json())
    return {"health": health, "customer": customer, "claimed": claimed, "replied": replied, "downloads": downloads}


# About 2,150 requests and frames (and the downloads of every accepted upload): some 20 s of CPU.
ROUNDS = {"rest": 600, "conversations": 150, "uploads": 220, "staff": 600, "desk": 120, "headers": 100,
          "websocket": 320}


def test_hostile_requests_get_json_refusals_and_the_gateway_keeps_working(db_factory, tmp_path):
    print(f"fuzz seed {SEED} (HOTRO_FUZZ_SEED={SEED} sends the same requests)")
    fuzzer, after, rasa = asyncio.run(_fuzz(db_factory, tmp_path, ROUNDS))
    print("answers:", ", ".join(f"{key} ×{n}" for key, n in sorted(fuzzer.statuses.items())))
    assert not fuzzer.failures, (
        f"HOTRO_FUZZ_SEED={SEED}: {len(fuzzer.failures)} of {fuzzer.sent} requests got a bad answer; the first:\n"
        + "\n".join(fuzzer.failures[:15]) + "\nby kind:\n" + "\n".join(f"{n:5} {k}" for k, n in fuzzer.kinds.most_common()))
    assert fuzzer.sent >= 2000
    assert after["health"] == 200
    assert after["customer"] == (200, [{"recipient_id": "after-fuzz", "text": "echo xin chào"}])
    assert rasa.received[-1]["sender"] == "after-fuzz"
    assert after["claimed"] == 200 and after["replied"] == (201, {"ok": True, "delivered_live": False})
    # Deep enough: many requests got past the checks to Rasa, the database and the upload folder (the counts
    # depend on the seed), and every accepted upload can be downloaded by staff, whatever its name.
    assert len(rasa.received) >= 200 and len(after["downloads"]) >= 20
    transcript = ConversationService(db_factory).transcript("after-fuzz")
    assert [(line.author_type, line.text) for line in transcript][-1] == ("staff", "Chào bạn, mình là Lan")
