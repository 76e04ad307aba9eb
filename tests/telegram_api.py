"""A local stand-in for Telegram's Bot API (aiohttp on 127.0.0.1), for tests of the Telegram channel.

Runs in its own thread with its own event loop, so synchronous tests and other
processes (the gateway under test) can use it alike. It speaks the methods the
channel uses, records every call, lets tests inject updates (messages, edits,
button presses, photos, replies in a group), serves the files customers sent
(getFile, then GET /file/bot<token>/<file_path>) and simulates outages.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import struct
import threading
import time
import zlib
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web

from bot.runner import free_port

MAX_DOWNLOAD = 20 * 1024 * 1024  # Telegram's getFile refuses bigger files


def png(width: int = 4, height: int = 3) -> bytes:
    """A real (grey) PNG picture, for tests where a browser has to decode what a customer sent."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


BOT_USER = {"id": 999000, "is_bot": True, "first_name": "Hotro", "username": "hotro_test_bot"}
COMPLEX = ("reply_markup", "allowed_updates", "reply_parameters", "link_preview_options", "entities")


class FakeTelegram:
    def __init__(self, token: str = "123456:TEST-TOKEN"):
        self.token = token
        self.port = free_port()
        self.calls: List[Dict[str, Any]] = []
        self._updates: List[Dict[str, Any]] = []
        self._files: Dict[str, Dict[str, Any]] = {}  # file id -> {"data", "path", "size"}
        self._confirmed = 0  # update ids below this were confirmed by an offset
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._outage_until = 0.0
        self._outage_status = 502
        self._outage_on: Optional[tuple] = None  # (method, seconds, status): start an outage at the next such call
        self.latency = 0.0  # seconds each call takes, so that concurrent senders overlap
        self.blocked: set = set()  # chats whose user blocked the bot: sends answer 403
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._site: Optional[web.TCPSite] = None
        self._news: Optional[asyncio.Event] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- running -------------------------------------------------------------------------

    def start(self) -> "FakeTelegram":
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start_site())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-telegram", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Telegram server did not start")
        return self

    async def _start_site(self) -> None:
        self._news = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # Telegram's own request log (its URLs hold the token) is not ours: tests look for the token in our logs.
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await self._listen()

    async def _listen(self) -> None:
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()

    def stop(self) -> None:
        if self._loop is None:
            return
        async def shutdown() -> None:
            await self._runner.cleanup()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # -- outages ---------------------------------------------------------------------------

    def outage(self, seconds: float, status: int = 502) -> None:
        """Every method answers `status` (an HTTP error) for the next `seconds`."""
        with self._lock:
            self._outage_status = status
            self._outage_until = time.monotonic() + seconds

    def outage_at_next(self, method: str, seconds: float, status: int = 502) -> None:
        """Start an outage when `method` is next called (that call fails too): "while the bot has a reply to send"."""
        with self._lock:
            self._outage_on = (method, seconds, status)

    def refuse_connections(self, seconds: float) -> None:
        """Stop listening for `seconds` (connection refused), then listen again on the same port."""
        async def cycle() -> None:
            await self._site.stop()
            await asyncio.sleep(seconds)
            await self._listen()

        asyncio.run_coroutine_threadsafe(cycle(), self._loop)

    # -- injecting updates ---------------------------------------------------------------

    def _push(self, update: Dict[str, Any]) -> Dict[str, Any]:
        with self._lock:
            update["update_id"] = next(self._update_ids)
            self._updates.append(update)
        self._loop.call_soon_threadsafe(self._news.set)
        return update

    @staticmethod
    def user(user_id: int, first_name: str = "Khách", language_code: Optional[str] = "vi") -> Dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        return user

    def _message(self, chat: Dict[str, Any], user: Dict[str, Any], **fields) -> Dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat, "from": user, **fields}

    @staticmethod
    def private_chat(user: Dict[str, Any]) -> Dict[str, Any]:
        return {"id": user["id"], "type": "private", "first_name": user["first_name"]}

    def send_text(self, user: Dict[str, Any], text: str) -> Dict[str, Any]:
        """The customer `user` writes `text` to the bot in their private chat; returns the message."""
        message = self._message(self.private_chat(user), user, text=text)
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self._push({"message": message})
        return message

    def edit_text(self, message: Dict[str, Any], text: str) -> None:
        edited = dict(message, text=text, edit_date=int(time.time()))
        self._push({"edited_message": edited})

    def add_file(self, file_id: str, data: bytes, size: Optional[int] = None, path: Optional[str] = None) -> None:
        """Telegram keeps `data` under `file_id`; `size` pretends it is bigger (getFile refuses over 20 MB);
        `path`: the file_path getFile answers."""
        with self._lock:
            path = path or f"files/{len(self._files) + 1}-{file_id}"
            self._files[file_id] = {"data": data, "path": path, "size": len(data) if size is None else size}

    def send_photo(self, user: Dict[str, Any], caption: Optional[str] = None, data: Optional[bytes] = None
                   ) -> Dict[str, Any]:
        """The customer sends a photo (Telegram offers several sizes); `data`: the biggest size's bytes."""
        if data is not None:
            self.add_file(f"photo-big-{user['id']}", data)
        sizes = [{"file_id": f"photo-small-{user['id']}", "file_unique_id": "s1", "width": 90, "height": 90},
                 {"file_id": f"photo-big-{user['id']}", "file_unique_id": "b1", "width": 1280, "height": 960}]
        fields = {"photo": sizes}
        if caption:
            fields["caption"] = caption
        message = self._message(self.private_chat(user), user, **fields)
        self._push({"message": message})
        return message

    def send_document(self, user: Dict[str, Any], file_name: str, data: Optional[bytes] = None) -> Dict[str, Any]:
        if data is not None:
            self.add_file(f"doc-{user['id']}", data)
        document = {"file_id": f"doc-{user['id']}", "file_unique_id": "d1", "file_name": file_name}
        message = self._message(self.private_chat(user), user, document=document)
        self._push({"message": message})
        return message

    def press(self, user: Dict[str, Any], sent: Dict[str, Any], callback_data: str) -> str:
        """`user` presses a button with `callback_data` on the bot's message `sent`; returns the query id."""
        query_id = f"cq-{next(self._update_ids)}"
        message = {"message_id": sent["message_id"], "date": int(time.time()), "chat": sent["chat"],
                   "from": BOT_USER, "text": sent.get("text", "")}
        self._push({"callback_query": {"id": query_id, "from": user, "chat_instance": "ci", "message": message,
                                       "data": callback_data}})
        return query_id

    def group_reply(self, chat_id: int, user: Dict[str, Any], reply_to: Dict[str, Any], text: str) -> None:
        """`user` answers the bot's message `reply_to` in the group `chat_id` (Telegram's reply)."""
        chat = {"id": chat_id, "type": "supergroup", "title": "Staff"}
        original = {"message_id": reply_to["message_id"], "date": int(time.time()), "chat": chat, "from": BOT_USER,
                    "text": reply_to.get("text", "")}
        self._push({"message": self._message(chat, user, text=text, reply_to_message=original)})

    def group_say(self, chat_id: int, user: Dict[str, Any], text: str) -> None:
        """`user` writes in the group `chat_id`, answering nothing in particular."""
        chat = {"id": chat_id, "type": "supergroup", "title": "Staff"}
        self._push({"message": self._message(chat, user, text=text)})

    # -- what the bot did -------------------------------------------------------------------

    def calls_to(self, method: str, **match) -> List[Dict[str, Any]]:
        with self._lock:
            return [c for c in self.calls if c["method"] == method and c.get("ok")
                    and all(str(c["params"].get(k)) == str(v) for k, v in match.items())]

    def sent_to(self, chat_id: int) -> List[Dict[str, Any]]:
        """Messages the bot sent to a chat (the Message objects returned), oldest first."""
        return [c["result"] for c in self.calls_to("sendMessage", chat_id=chat_id)]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")

    def wait_sent(self, chat_id: int, count: int, timeout: float = 60.0) -> List[Dict[str, Any]]:
        """Wait until the chat has at least `count` messages from the bot; all of them."""
        return self.wait_for(lambda: (lambda sent: sent if len(sent) >= count else None)(self.sent_to(chat_id)),
                             timeout, f"{count} messages to chat {chat_id}")

    def replies(self, chat_id: int, before: int, timeout: float = 60.0, quiet: float = 1.0) -> List[Dict[str, Any]]:
        """The bot's messages to the chat after the first `before` ones, once it stopped sending for `quiet` seconds."""
        self.wait_sent(chat_id, before + 1, timeout)
        count, since = len(self.sent_to(chat_id)), time.monotonic()
        while time.monotonic() - since < quiet:
            time.sleep(0.1)
            now = len(self.sent_to(chat_id))
            if now != count:
                count, since = now, time.monotonic()
        return self.sent_to(chat_id)[before:]

    def say(self, user: Dict[str, Any], text: str, timeout: float = 60.0) -> List[Dict[str, Any]]:
        """The customer writes `text`; the bot's messages in answer."""
        before = len(self.sent_to(user["id"]))
        self.send_text(user, text)
        return self.replies(user["id"], before, timeout)

    # -- the API ------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> Dict[str, Any]:
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = dict(await request.post())
            params.update(request.query)
        for key in COMPLEX:
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    def _failure(self, method: str) -> Optional[int]:
        with self._lock:
            if self._outage_on and self._outage_on[0] == method:
                _, seconds, status = self._outage_on
                self._outage_on = None
                self._outage_status, self._outage_until = status, time.monotonic() + seconds
            if time.monotonic() < self._outage_until:
                return self._outage_status
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        call = {"method": method, "params": params, "at": time.time(), "ok": False}
        with self._lock:
            self.calls.append(call)
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        if self.latency:
            await asyncio.sleep(self.latency)
        status = self._failure(method)
        if status:
            return self._error(status, "Bad Gateway" if status == 502 else "Internal Server Error")
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return self._error(404, f"Not Found: method {method}")
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        call["ok"], call["result"] = True, result
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(status: int, description: str) -> web.Response:
        return web.json_response({"ok": False, "error_code": status, "description": description}, status=status)

    async def _api_getMe(self, _params):
        return BOT_USER

    async def _api_deleteWebhook(self, _params):
        return True

    async def _api_setWebhook(self, _params):
        return True

    async def _api_getUpdates(self, params):
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if offset:
                    self._confirmed = max(self._confirmed, offset)
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                pending = list(self._updates)
            if pending or time.monotonic() >= deadline:
                return pending
            self._news.clear()
            try:
                await asyncio.wait_for(self._news.wait(), timeout=max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                pass

    def _check_markup(self, params) -> Optional[web.Response]:
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    return self._error(400, "Bad Request: BUTTON_DATA_INVALID")
        return None

    async def _api_sendMessage(self, params):
        text = params.get("text") or ""
        if not text.strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return self._error(400, "Bad Request: message is too long")
        refusal = self._check_markup(params)
        if refusal:
            return refusal
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id > 0:
            chat["first_name"] = "Khách"
        else:
            chat["title"] = "Staff"
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat, "from": BOT_USER,
                   "text": text}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _api_editMessageText(self, params):
        refusal = self._check_markup(params)
        if refusal:
            return refusal
        chat_id = int(params["chat_id"])
        return {"message_id": int(params["message_id"]), "date": int(time.time()), "from": BOT_USER,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}, "text": params.get("text", ""),
                "edit_date": int(time.time())}

    async def _api_editMessageReplyMarkup(self, params):
        return await self._api_editMessageText(dict(params, text=""))

    async def _api_answerCallbackQuery(self, _params):
        return True

    async def _api_sendChatAction(self, _params):
        return True

    async def _api_getFile(self, params):
        with self._lock:
            stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            return self._error(400, "Bad Request: invalid file_id")
        if stored["size"] > MAX_DOWNLOAD:
            return self._error(400, "Bad Request: file is too big")
        return {"file_id": params["file_id"], "file_unique_id": "u", "file_size": stored["size"],
                "file_path": stored["path"]}

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        call = {"method": "download", "params": {"file_path": path}, "at": time.time(), "ok": False}
        with self._lock:
            self.calls.append(call)
            stored = next((f for f in self._files.values() if f["path"] == path), None)
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        status = self._failure("download")
        if status:
            return self._error(status, "Bad Gateway")
        if stored is None:
            return self._error(404, "Not Found")
        call["ok"] = True
        return web.Response(body=stored["data"], content_type="application/octet-stream")


async def until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """In async tests: wait for `predicate()` (run in a thread, it may query the database) to be true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(predicate)
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
