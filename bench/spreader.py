"""A small TCP load spreader for the soak: what HAProxy or nginx's `stream` does in front of several instances.

    python -m bench.spreader 127.0.0.1:8000=127.0.0.1:8001,127.0.0.1:8002 [more routes]

Each new connection goes to the next backend in turn; a backend that refuses a connection is
skipped (and left alone for a second), so a dead instance costs the connections that were open
on it and nothing more, like `proxy_next_upstream error` with `max_fails`. Working at the TCP
level, it carries HTTP, keep-alive and WebSockets alike; a connection cut on one side is cut on
the other, so a WebSocket customer of a killed gateway sees the close and reconnects (to the
other gateway). Loopback only: the soak never sends traffic elsewhere.
"""
from __future__ import annotations

import asyncio
import itertools
import signal
import sys
import time
from typing import Dict, List, Tuple

Address = Tuple[str, int]
REST_AFTER_REFUSAL = 1.0
CONNECT_TIMEOUT = 2.0


def parse_address(text: str) -> Address:
    host, _, port = text.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"{text}: the spreader only talks to this machine")
    return host, int(port)


class Route:
    def __init__(self, backends: List[Address]):
        self.backends = backends
        self.turn = itertools.cycle(range(len(backends)))
        self.resting: Dict[int, float] = {}  # backend index -> when it may be tried again

    async def connect(self):
        """(reader, writer) of the first backend, in turn, that accepts; OSError when none does."""
        now = time.monotonic()
        order = [next(self.turn) for _ in self.backends]
        # Backends resting after a refusal are tried last, not never: all of them may be back.
        order.sort(key=lambda index: self.resting.get(index, 0) > now)
        last_error: OSError = ConnectionRefusedError("no backend")
        for index in order:
            host, port = self.backends[index]
            try:
                return await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
            except (OSError, asyncio.TimeoutError) as exc:
                self.resting[index] = time.monotonic() + REST_AFTER_REFUSAL
                last_error = exc if isinstance(exc, OSError) else ConnectionError("connect timeout")
        raise last_error


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def serve(listen: Address, route: Route) -> asyncio.AbstractServer:
    async def handle(client_reader, client_writer):
        try:
            backend_reader, backend_writer = await route.connect()
        except OSError:
            client_writer.close()  # every backend down: the client sees what a dead server gives it
            return
        await asyncio.gather(pipe(client_reader, backend_writer), pipe(backend_reader, client_writer))

    return await asyncio.start_server(handle, listen[0], listen[1], reuse_address=True, backlog=512)


async def main(argv: List[str]) -> None:
    servers = []
    for spec in argv:
        listen, _, backends = spec.partition("=")
        route = Route([parse_address(b) for b in backends.split(",") if b])
        servers.append(await serve(parse_address(listen), route))
    print("spreading " + "; ".join(argv), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
