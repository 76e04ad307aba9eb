"""Hostile input for the gateway, from a seed, and a client that sends it byte for byte.

A normal HTTP client refuses to send what an attacker sends (lone surrogates in
a header, raw bytes in a path, CR or NUL in a file name), so requests here are
built as bytes and written to a socket. Everything comes from one
`random.Random(seed)`: the same seed sends the same requests in the same order.
"""
from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple
from urllib.parse import quote

MAX_BODY = 1024 * 1024  # bot/gateway/app.py: over this, a 413

# Text that has broken, or could break, something behind a gateway: storage (surrogates, NUL), headers
# (CR, LF), numbers (Unicode digits, thousands of digits), look-alikes and direction overrides in names,
# Rasa's payload syntax, our own id prefixes.
EDGE_TEXT = [
    "", " ", "xin chào", "toi muon khieu nai", "mua\u0300n", "😀", "\ud800", "\udfff", "\udcff", "a\ud83db",
    "\x00", "a\x00b", "\u202e", "evil\u202egnp.exe", "\u200b", "\ufeff", "\u2028", "\r\n", "\r", "\n",
    "\x1b[31m", "\uffff", "\U0010ffff", "tg-1", "TG-1", "\u200btg-1", "web-", "web-x", "/restart",
    '/rate{"rating":1}', "/handback", "²", "١٢٣", "٣", "0x1f", "-1", "1e3", "9" * 5000, "%00", "%0d%0a", "%ED%A0%80",
    "../../etc/passwd", "..\\..\\x", "<script>alert(1)</script>", "DH100001", "a" * 2100, "ư" * 3000,
    "\t", "null", "NaN", "\\", '"', "'", "{", "[", "\u0085", "\u00a0", "\u0301" * 50,
]
NAMES = ["sender", "message", "metadata", "language", "text", "agent", "status", "assignee", "note", "type",
         "secret", "name", "password", "csrf", "caption", "ref", "file", "", "\ud800", "\x00"]
CONTENT_TYPES = [
    b"application/json", b"application/json", b"application/json", b"application/json; charset=utf-8",
    None, b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data",
    b"multipart/form-data; boundary=", b"application/json; charset=bogus", b"application/json; charset=utf-16",
    b"application/x-www-form-urlencoded; charset=nope", b"application/octet-stream", b"\xff\xfe/\xc3",
    b"text/html; charset=latin-1",
]
# Bytes that are not UTF-8: a lone surrogate, truncated sequences, overlong forms, invalid starts.
BAD_UTF8 = [b"\xed\xa0\x80", b"\xc3", b"\xe2\x82", b"\xc0\xaf", b"\xff", b"\xfe\xff", b"\x80", b"\xf4\x90\x80\x80"]


@dataclass
class Answer:
    status: int
    headers: Dict[str, str]
    body: bytes

    def problem(self) -> Optional[str]:
        """What is wrong with this answer to hostile input: a 5xx, or an error that is not {"error": "..."}."""
        if self.status >= 500:
            return f"server error {self.status}"
        if self.status >= 400:
            if not self.headers.get("content-type", "").startswith("application/json"):
                return f"{self.status} answered as {self.headers.get('content-type')!r}, not JSON"
            try:
                error = json.loads(self.body).get("error")
            except (ValueError, AttributeError):
                return f"{self.status} with a body that is not a JSON object"
            if not isinstance(error, str) or not error:
                return f"{self.status} without an 'error' sentence"
        return None


class Hostile:
    """Generates hostile values, bodies and request parts from `rng`."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items: Sequence):
        return items[self.rng.randrange(len(items))]

    def text(self) -> str:
        kind = self.rng.randrange(10)
        if kind < 5:
            return "".join(self.pick(EDGE_TEXT) for _ in range(self.rng.randint(1, 3)))
        if kind < 8:  # any code point at all, surrogates and non-characters included
            return "".join(chr(self.rng.choice([self.rng.randrange(0x80), self.rng.randrange(0x110000)]))
                           for _ in range(self.rng.randint(0, 12)))
        if kind == 8:
            return "a" * self.rng.choice([1999, 2000, 2001, 10001, 50000])
        return str(self.rng.randrange(10 ** self.rng.randint(1, 40)))

    def number(self) -> Any:
        return self.pick([0, -1, 1, 2 ** 31, 2 ** 63, -(2 ** 64), 10 ** 30, 1.5, -0.0, 1e308, float("nan"),
                          float("inf"), self.rng.randrange(-1000, 1000)])

    def value(self, depth: int = 0) -> Any:
        """Any JSON value (NaN and Infinity too, which Python's json reads)."""
        kind = self.rng.randrange(8 if depth < 3 else 5)
        if kind == 0:
            return None
        if kind == 1:
            return self.chance(0.5)
        if kind == 2:
            return self.number()
        if kind in (3, 4):
            return self.text()
        if kind == 5:
            return [self.value(depth + 1) for _ in range(self.rng.randint(0, 4))]
        return {self.key(): self.value(depth + 1) for _ in range(self.rng.randint(0, 4))}

    def key(self) -> str:
        return self.pick(NAMES) if self.chance(0.7) else self.text()

    def shaped(self, fields: Dict[str, Sequence[Any]]) -> Dict[str, Any]:
        """An object with the route's own fields: mostly plausible values, often wrong types, sometimes missing."""
        body: Dict[str, Any] = {}
        for name, good in fields.items():
            roll = self.rng.random()
            if roll < 0.6 and good:
                body[name] = self.pick(good)
            elif roll < 0.95:  # mostly odd text: every field here is text when it is right
                body[name] = self.text() if self.chance(0.6) else self.value(1)
        for _ in range(self.rng.randrange(3) if self.chance(0.2) else 0):
            body[self.key()] = self.value(1)
        return body

    def encode(self, value: Any) -> bytes:
        """JSON text of `value`: escaped (lone surrogates as \\ud800), or raw (a surrogate's invalid bytes)."""
        if self.chance(0.6):
            return json.dumps(value).encode()
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")

    def json_body(self, fields: Optional[Dict[str, Sequence[Any]]] = None) -> bytes:
        """A body for a JSON route: its own shape most of the time, then every kind of broken or odd JSON."""
        kind = self.rng.randrange(21)
        if kind < 12 and fields is not None:
            return self.encode(self.shaped(fields))
        if kind < 14:
            return self.encode(self.value())
        if kind == 14:  # nested far past Python's recursion limit
            depth = self.pick([100, 999, 1000, 5000, 100000])
            opener, closer = self.pick([(b"[", b"]"), (b'{"a":', b"}")])
            return opener * depth + b"1" + closer * depth
        if kind == 15:  # numbers Python reads as huge ints or refuses (the 4300-digit limit)
            digits = self.pick([b"9" * 5000, b"1" * 4300, b"1e999999", b"-0", b"NaN", b"Infinity", b"1" * 300])
            return b'{"message": ' + digits + b', "text": ' + digits + b"}" if self.chance(0.5) else digits
        if kind == 16:  # cut off anywhere
            whole = self.encode(self.shaped(fields or {"message": EDGE_TEXT}))
            return whole[: self.rng.randrange(len(whole) + 1)]
        if kind == 17:  # not UTF-8, inside a string or anywhere
            whole = bytearray(self.encode(self.shaped(fields or {"message": ["x"]})))
            whole[self.rng.randrange(len(whole) + 1):0] = self.pick(BAD_UTF8)
            return bytes(whole)
        if kind == 18:
            return bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(64)))
        if kind == 19:
            return self.pick([b"", b" ", b"\x00", b"\xef\xbb\xbf{}", b"{}", b"[]", b'""', b"null", b"\xff\xfe{\x00}\x00"])
        return self.form_body(list(fields or {"message": ()}))

    def oversized(self) -> bytes:
        filler = "a" * (MAX_BODY + self.rng.randrange(1, 4096))
        return json.dumps({"sender": "fuzz-big", "message": filler, "text": filler}).encode()

    def form_body(self, names: List[str]) -> bytes:
        """application/x-www-form-urlencoded, percent-escapes decoding to anything (invalid UTF-8 too)."""
        pairs = []
        for name in names + ([self.key()] if self.chance(0.3) else []):
            value = self.text().encode("utf-8", "surrogatepass")
            if self.chance(0.3):
                value += self.pick(BAD_UTF8)
            raw = quote(value, safe="") if self.chance(0.7) else value.decode("latin-1").replace("&", "")
            pairs.append(f"{quote(name.encode('utf-8', 'surrogatepass'), safe='')}={raw}")
        return "&".join(pairs).encode("latin-1")

    def content_type(self) -> Optional[bytes]:
        return self.pick(CONTENT_TYPES)

    def segment(self) -> bytes:
        """A path segment or query value: percent-escaped anything (invalid UTF-8 too), or unescaped ASCII."""
        kind = self.rng.randrange(6)
        text = self.text()[:300].encode("utf-8", "surrogatepass")
        if kind < 3:
            return quote(text, safe="").encode()
        if kind == 3:  # unescaped, what the URL parser lets through (it refuses bytes over 0x7f itself)
            return bytes(b for b in text if 0x20 < b < 0x7f and b not in b"/?#%") or b"!"
        if kind == 4:
            return quote(self.pick(BAD_UTF8) + text[:20], safe="").encode()
        return self.pick([b"%00", b"%ED%A0%80", b"%FF", b"%C0%AF", b"%C2%B2", b"%D9%A3", b"9" * 5000,
                          b"0" * 40, b"-1", b"1e3", b"%20", b"..", b"%2e%2e", b"%2F", b"tg-1", b"web-x"])

    def header_value(self) -> bytes:
        """What can go in a header value: any byte but control characters (aiohttp's parser refuses those itself)."""
        raw = self.text().encode("utf-8", "surrogatepass") + (self.pick(BAD_UTF8) if self.chance(0.4) else b"")
        return bytes(b for b in raw if b >= 0x20 and b != 0x7f or b == 0x09)[:500]


def request_bytes(method: bytes, path: bytes, headers: List[Tuple[bytes, bytes]], body: Optional[bytes]) -> bytes:
    lines = [method + b" " + path + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    if body is not None:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


async def send_raw(port: int, raw: bytes, timeout: float = 20) -> Answer:
    """One request over its own connection; the whole answer (the server closes after it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        try:
            await writer.drain()
        except ConnectionError:  # refused before the whole body was read: the answer is still there
            pass
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    if not status_line.startswith(b"HTTP/1.1 "):
        raise AssertionError(f"no HTTP answer: {data[:200]!r}")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    if headers.get("transfer-encoding") == "chunked":
        body = _unchunk(body)
    return Answer(int(status_line.split()[1]), headers, body)


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out


def multipart(parts: List[Tuple[List[bytes], bytes]], boundary: bytes = b"fuzzBoundary") -> bytes:
    """A multipart body from (header lines, content) pairs, written as given."""
    out = b""
    for header_lines, content in parts:
        out += b"--" + boundary + b"\r\n" + b"".join(h + b"\r\n" for h in header_lines) + b"\r\n" + content + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def show(raw: bytes, limit: int = 700) -> str:
    """A request as it can be read in a failure message: long runs shortened, bytes escaped."""
    text = repr(raw)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(raw)} bytes)"
