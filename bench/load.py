"""Simulated customers for the benchmark: closed loops, an offered open load, and a flooding client.

- closed loop (`closed`): N customers each send their next message as soon as the last one is answered.
  With 20 of them the server never idles: that is its saturation throughput.
- open load (`open_load`): conversations start as a Poisson process and each customer thinks (an
  exponential pause) between an answer and their next message, so messages arrive at the offered rate
  whether or not the server keeps up, as real customers do. A closed loop hides queueing: a slow server
  slows its own customers down. Percentiles count only messages sent once the load is steady.
- flood (`flood`): one client sending long messages back to back, several at a time, beside the open load.

A target is where the messages go: one URL, or several Rasa instances chosen like the gateway chooses.
"""
from __future__ import annotations

import asyncio
import hashlib
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=120)


@dataclass
class Target:
    name: str
    urls: Sequence[str]  # base URLs; several: Rasa instances, each conversation kept on one
    script: Callable[[int], List[str]]  # the n-th customer's messages
    headers: Dict[str, str] = field(default_factory=dict)
    # Through the gateway, each customer comes from an address of their own (X-Forwarded-For, believed from
    # 127.0.0.1 as from the shop's reverse proxy), so the per-client limits apply as in production.
    forwarded: bool = False

    def client_headers(self, sender: str) -> Optional[Dict[str, str]]:
        if not self.forwarded:
            return None
        a, b, c = hashlib.blake2b(sender.encode(), digest_size=3).digest()
        return {"X-Forwarded-For": f"10.{a}.{b}.{c}"}

    def url_for(self, sender: str) -> str:
        from bot.rasa_instances import instance_for

        return f"{instance_for(list(self.urls), sender)}/webhooks/rest/webhook"


@dataclass
class Sample:
    sent: float  # seconds since the phase began
    latency: float  # seconds
    ok: bool


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(samples: List[Sample], elapsed: float) -> Dict[str, float]:
    latencies = [s.latency * 1000 for s in samples]
    return {"messages": len(samples), "errors": sum(not s.ok for s in samples),
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
            "rate": len(samples) / elapsed if elapsed > 0 else float("nan")}


async def _send(http: aiohttp.ClientSession, target: Target, sender: str, text: str, began: float,
                samples: Optional[List[Sample]]) -> None:
    started = time.perf_counter()
    ok = False
    try:
        async with http.post(target.url_for(sender), json={"sender": sender, "message": text},
                             headers=target.client_headers(sender)) as response:
            replies = await response.json()
            ok = response.status == 200 and isinstance(replies, list)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        pass
    if samples is not None:
        samples.append(Sample(started - began, time.perf_counter() - started, ok))


async def closed(target: Target, customers: int, rounds: int, prefix: str) -> Dict[str, float]:
    """`customers` at once, each through `rounds` whole conversations back to back."""
    samples: List[Sample] = []
    async with aiohttp.ClientSession(timeout=TIMEOUT, headers=target.headers) as http:
        began = time.perf_counter()

        async def customer(n: int) -> None:
            for r in range(rounds):
                sender = f"{prefix}-{n}-{r}"
                for text in target.script(n):
                    await _send(http, target, sender, text, began, samples)

        await asyncio.gather(*(customer(n) for n in range(customers)))
        elapsed = time.perf_counter() - began
    return summary(samples, elapsed)


async def _open_customers(http, target: Target, rate: float, arrivals_for: float, think: float, prefix: str,
                          began: float, samples: List[Sample], seed: int) -> None:
    rng = random.Random(seed)
    mean_length = sum(len(target.script(n)) for n in range(12)) / 12
    conversations_per_second = rate / mean_length
    starts, at = [], 0.0
    while True:
        at += rng.expovariate(conversations_per_second)
        if at > arrivals_for:
            break
        starts.append(at)

    async def customer(n: int, start: float) -> None:
        pause = random.Random(seed * 7919 + n)
        await asyncio.sleep(max(0.0, began + start - time.perf_counter()))
        sender = f"{prefix}-{n}"
        for text in target.script(n):
            await _send(http, target, sender, text, began, samples)
            await asyncio.sleep(pause.expovariate(1 / think))

    await asyncio.gather(*(customer(n, start) for n, start in enumerate(starts)))


async def open_load(target: Target, rate: float, arrivals_for: float, steady_from: float, think: float,
                    prefix: str, seed: int = 11, flooder: Optional["Flooder"] = None) -> Dict[str, float]:
    """Customers at `rate` messages/s offered; figures from messages sent in [steady_from, arrivals_for]."""
    samples: List[Sample] = []
    connector = aiohttp.TCPConnector(limit=0)  # customers do not queue for a connection in the load generator
    async with aiohttp.ClientSession(timeout=TIMEOUT, headers=target.headers, connector=connector) as http:
        began = time.perf_counter()
        flooding = asyncio.ensure_future(flooder.run(http, began, arrivals_for)) if flooder else None
        await _open_customers(http, target, rate, arrivals_for, think, prefix, began, samples, seed)
        if flooding is not None:
            await flooding
    steady = [s for s in samples if steady_from <= s.sent <= arrivals_for]
    result = summary(steady, arrivals_for - steady_from)
    if flooder is not None:
        result.update(flooder.result())
    return result


@dataclass
class Flooder:
    """One client sending long messages back to back, `in_flight` at a time, all in one conversation."""

    target: Target
    sender: str
    text: str
    in_flight: int = 4
    samples: List[Sample] = field(default_factory=list)
    statuses: Dict[int, int] = field(default_factory=dict)

    async def run(self, http: aiohttp.ClientSession, began: float, until: float) -> None:
        async def one_stream() -> None:
            while time.perf_counter() - began < until:
                started = time.perf_counter()
                status = 0
                try:
                    async with http.post(self.target.url_for(self.sender), headers=self.target.client_headers(self.sender),
                                         json={"sender": self.sender, "message": self.text}) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                self.statuses[status] = self.statuses.get(status, 0) + 1
                self.samples.append(Sample(started - began, time.perf_counter() - started, status == 200))
                if status == 429:  # refused: a real flooder retries at once, but give the loop a breath
                    await asyncio.sleep(0.01)

        await asyncio.gather(*(one_stream() for _ in range(self.in_flight)))

    def result(self) -> Dict[str, float]:
        return {"flood_sent": len(self.samples), "flood_answered": self.statuses.get(200, 0),
                "flood_refused": self.statuses.get(429, 0)}
