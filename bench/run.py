"""Benchmark: hotro beside the stock `rasa init` bot, in one run on one machine; writes bench/results.md.

    make bench            (BENCH_QUICK=1 for shorter phases while trying things; not for committed figures)

An absolute figure from one machine says little about another, so the headline is the ratio to the
stock bot (bench/stock.py), measured in the same run just before hotro. For each bot, in this order:
- one customer at a time (p50, p95);
- 20 customers at once, closed loop: saturation messages/s;
- an offered open load of 10 messages/s: customers arrive at random and think between messages
  (bench/load.py), p50/p95/p99;
- hotro through the gateway only: the same open load beside one client flooding long messages (issue 11 §4),
  p99 of the others.
hotro is measured through the gateway (what customers use: limits, transcript, database) and against
Rasa directly, with as many Rasa processes as `make run` starts here (HOTRO_RASA_PROCESSES).

It starts its own processes on free ports with a fresh SQLite database, and never touches the shop's live
resources (Telegram, shared Redis, tracker store). The gateway keeps its default per-client limits; each
simulated customer comes from an address of its own, the way a reverse proxy reports it.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import platform
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List

from bench.load import Flooder, Target, closed, open_load
from bench.stock import CONVERSATION as STOCK_CONVERSATION, StockBot, ensure_trained, rasa_version
from bot.config import ROOT
from bot.internal_auth import gateway_headers
from bot.rasa_instances import process_count
from bot.runner import Stack, free_port
from bot.settings_env import load_dotenv
from bot.store.seed import prepare_demo_database

CONVERSATIONS = [
    ["xin chào", "tôi muốn khiếu nại", "DH100002", "hàng bị vỡ", "ly vỡ 2 cái, hộp móp", "0912 345 678", "gửi đi"],
    ["toi muon khieu nai don hang", "dh 100 005", "giao sai mau", "ao mau do ma giao mau xanh", "an@example.com", "ok"],
    ["hello", "I want to file a complaint", "DH-100010", "it never arrived", "ordered two weeks ago", "0987 654 321", "yes"],
]
# Long (just under the gateway's 2,000-character limit, so it reaches Rasa) and sent back to back.
FLOOD_TEXT = ("đơn DH100002 của tôi giao sai màu, tôi cần đổi ngay, trả lời tôi đi! " * 40)[:1950]

SATURATION_CUSTOMERS = 20
OPEN_RATE = 10.0  # messages/s offered
TARGET_RATIO, TARGET_P95, TARGET_P99 = 3.0, 150.0, 300.0  # issue 11

# Settings that would make the benchmark poll the shop's Telegram bot or share its Redis and trackers;
# and limits a .env may have changed (the benchmark measures the defaults).
LIVE_RESOURCES = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_STAFF_CHAT_ID", "HOTRO_REDIS_URL",
                  "HOTRO_TRACKER_STORE_URL", "RASA_TOKEN", "ACTION_SERVER_URL", "HOTRO_RASA_URLS", "RASA_URL",
                  "HOTRO_LIMIT_MESSAGES", "HOTRO_LIMIT_CONVERSATIONS", "HOTRO_LIMIT_UPLOADS", "HOTRO_LIMIT_HANDOFFS")


def phases(quick: bool) -> Dict[str, float]:
    if quick:
        return {"rounds_one": 2, "rounds_sat": 1, "turns": 1, "arrivals_for": 25.0, "steady_from": 8.0, "think": 1.5}
    return {"rounds_one": 3, "rounds_sat": 2, "turns": 3, "arrivals_for": 50.0, "steady_from": 15.0, "think": 2.0}


def proc_kb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def machine() -> Dict[str, str]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": str(os.cpu_count())}


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_seconds(pids: List[int]) -> float:
    """User + system CPU time the processes used so far (/proc/PID/stat), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Subject:
    """What is measured: a target (where the messages go) and the server processes behind it."""

    target: Target
    pids: Callable[[], List[int]]

    @property
    def name(self) -> str:
        return self.target.name


def saturate(subject: Subject, q, tag: str) -> dict:
    cpu_before = cpu_seconds(subject.pids())
    row = asyncio.run(closed(subject.target, SATURATION_CUSTOMERS, int(q["rounds_sat"]), f"sat{tag}-{subject.name}"))
    # Less sensitive than messages/s to what else runs on a shared machine: the cost of a message.
    row["cpu_ms"] = (cpu_seconds(subject.pids()) - cpu_before) * 1000 / max(1, row["messages"])
    return row


def measure(subjects: List[Subject], q: Dict[str, float], say: Callable[[str], None]) -> Dict[str, dict]:
    """Every phase for every subject, one subject after the other within a phase; the saturation phase
    `q["turns"]` times in turn (stock, hotro, stock, hotro, ...), so that a burst of other work on the machine
    falls on both bots rather than on one: the headline ratio is the median of the turns' ratios."""
    rows: Dict[str, dict] = {subject.name: {} for subject in subjects}
    loads = [("start", load_average())]
    for subject in subjects:
        asyncio.run(closed(subject.target, 2, 1, f"warmup-{subject.name}"))
    for subject in subjects:
        one = rows[subject.name]["one"] = asyncio.run(closed(subject.target, 1, int(q["rounds_one"]),
                                                             f"one-{subject.name}"))
        say(f"{subject.name}: one customer p50 {one['p50']:.0f} ms p95 {one['p95']:.0f} ms")
    loads.append(("saturation", load_average()))
    for turn in range(int(q["turns"])):
        for subject in subjects:
            row = saturate(subject, q, str(turn))
            rows[subject.name].setdefault("turns", []).append(row)
            say(f"{subject.name}: {SATURATION_CUSTOMERS} customers, turn {turn + 1}: {row['rate']:.1f} msgs/s "
                f"({row['errors']} errors), {row['cpu_ms']:.1f} ms CPU per message")
    for subject in subjects:
        turns = rows[subject.name]["turns"]
        rows[subject.name]["saturation"] = sorted(turns, key=lambda r: r["rate"])[len(turns) // 2]
    loads.append(("open load", load_average()))
    for subject in subjects:
        row = rows[subject.name]["open"] = asyncio.run(open_load(
            subject.target, OPEN_RATE, q["arrivals_for"], q["steady_from"], q["think"], f"open-{subject.name}"))
        say(f"{subject.name}: open load {row['rate']:.1f} msgs/s p50 {row['p50']:.0f} "
            f"p95 {row['p95']:.0f} p99 {row['p99']:.0f} ms ({row['errors']} errors)")
    loads.append(("flood", load_average()))
    gateway = next(subject for subject in subjects if subject.name == "gateway")
    flooder = Flooder(gateway.target, "flood-gateway", FLOOD_TEXT)
    row = rows["gateway"]["flood"] = asyncio.run(open_load(
        gateway.target, OPEN_RATE, q["arrivals_for"], q["steady_from"], q["think"], "beside-gateway", seed=23,
        flooder=flooder))
    say(f"gateway: beside a flooder p95 {row['p95']:.0f} p99 {row['p99']:.0f} ms; flooder sent "
        f"{row['flood_sent']}, answered {row['flood_answered']}, refused {row['flood_refused']}")
    loads.append(("end", load_average()))
    rows["loads"] = loads
    return rows


def base_env() -> Dict[str, str]:
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
               SQLALCHEMY_SILENCE_UBER_WARNING="1", HOTRO_TRUSTED_PROXIES="127.0.0.1")
    for name in LIVE_RESOURCES:
        env.pop(name, None)
    return env


def start_hotro(env: Dict[str, str], workdir: Path) -> Stack:
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    prepare_demo_database(db_url)
    env = dict(env, HOTRO_DATABASE_URL=db_url, HOTRO_UPLOAD_DIR=str(workdir / "uploads"))
    count = process_count(env)
    model = ROOT / "models" / "hotro.tar.gz"
    if not model.is_file():  # Rasa would start without it and answer every message with nothing, quickly
        raise SystemExit("no trained model: run `make train` (make bench does)")
    return Stack(free_port(), free_port(), model, env, workdir / "logs",
                 gateway_port=free_port(), more_rasa_ports=[free_port() for _ in range(count - 1)]).start()


def run(env: Dict[str, str], workdir: Path, q, say) -> tuple:
    """Both bots up at once (idle, they cost nothing), measured in turn; (rows, memory, Rasa processes)."""
    stock = StockBot(ensure_trained(env, say), free_port(), env, workdir / "logs" / "stock.log").start()
    stack = None
    try:
        stack = start_hotro(env, workdir)
        script = lambda n: CONVERSATIONS[n % len(CONVERSATIONS)]  # noqa: E731
        hotro_pids = lambda: [p.pid for p in stack.processes]  # noqa: E731 - Rasa, the action server, the gateway
        # Customers reach hotro through the gateway (limits, transcript, ownership); Rasa alone shows what that
        # costs. Each path talks with customers of its own (prefixes): a conversation carried on from the other
        # path would have a longer history and repeat complaints, and cost more.
        subjects = [
            Subject(Target("stock", [stock.url], lambda n: STOCK_CONVERSATION), lambda: [stock.process.pid]),
            Subject(Target("gateway", [stack.gateway_url], script, forwarded=True), hotro_pids),
            Subject(Target("rasa", stack.rasa_urls, script, headers=gateway_headers(stack.env)), hotro_pids),
        ]
        rows = measure(subjects, q, say)
        memory = {"stock": {"Rasa": (proc_kb(stock.process.pid, "VmRSS"), proc_kb(stock.process.pid, "VmHWM"))},
                  "hotro": {stack.names[p.pid]: (proc_kb(p.pid, "VmRSS"), proc_kb(p.pid, "VmHWM"))
                            for p in stack.processes}}
        return rows, memory, 1 + len(stack.more_rasa_ports)
    finally:
        if stack is not None:
            stack.stop()
        stock.stop()


def main() -> int:
    load_dotenv()
    q = phases(os.environ.get("BENCH_QUICK", "") not in ("", "0"))
    started = datetime.now(timezone.utc)
    context = dict(machine(), load=load_average(), date=f"{started:%Y-%m-%d %H:%M} UTC", rasa=rasa_version(),
                   python=platform.python_version())
    say = lambda text: print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)  # noqa: E731
    say(f"{context['cpu']}, {context['cores']} cores, load average {context['load']}")
    workdir = Path(tempfile.mkdtemp(prefix="hotro-bench-"))
    rows, memory, processes = run(base_env(), workdir, q, say)
    context["load_end"] = load_average()
    out = ROOT / ("var/bench/results-quick.md" if q["rounds_sat"] < 2 else "bench/results.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report(context, rows, memory, processes, q), encoding="utf-8")
    say(f"written to {out.relative_to(ROOT)}")
    return 0


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}×" if reference and value == value and reference == reference else "–"


def report(context: dict, rows: dict, memory: dict, processes: int, q) -> str:
    stock, gateway, rasa = rows["stock"], rows["gateway"], rows["rasa"]
    sat = lambda rows: rows["saturation"]["rate"]  # noqa: E731
    cpu = lambda rows: rows["saturation"]["cpu_ms"]  # noqa: E731
    turn_ratios = lambda bot: [h["rate"] / s["rate"] for h, s in zip(bot["turns"], stock["turns"])]  # noqa: E731
    ratio = statistics.median(turn_ratios(gateway))
    rasa_ratio = statistics.median(turn_ratios(rasa))
    open_gw, flood = gateway["open"], gateway["flood"]
    verdict = lambda ok: "**met**" if ok else "**not met**"  # noqa: E731
    lines = [
        "# Benchmark results",
        "",
        f"Measured {context['date']} on {context['cpu']}, {context['cores']} cores (a shared machine: load average "
        f"{context['load']} over 1/5/15 min at the start, {context['load_end']} at the end); Rasa {context['rasa']}, "
        f"Python {context['python']}; `make bench`. hotro ran {processes} Rasa process(es) "
        "(HOTRO_RASA_PROCESSES, one per core by default), an action server and a gateway.",
        "",
        "Only the ratios carry over to another machine: both bots ran in this one run, side by side and measured in "
        f"turn. The saturation phase ran {q['turns']:.0f} times in turn (stock, gateway, Rasa, stock, ...); its ratio "
        "is the median of the turns' ratios, its absolute figures the median turn's.",
        "Throughput ratios are hotro ÷ stock; latency ratios are stock ÷ hotro. Above 1 hotro is better either way.",
        "",
        "## hotro as a multiple of the stock `rasa init` bot",
        "",
        "| | stock bot | hotro through the gateway | ratio | hotro, Rasa directly | ratio |",
        "|---|---:|---:|---:|---:|---:|",
        f"| saturation, {SATURATION_CUSTOMERS} customers at once: messages/s | {sat(stock):.1f} | {sat(gateway):.1f} | "
        f"**{ratio:.2f}×** | {sat(rasa):.1f} | {rasa_ratio:.2f}× |",
        f"| CPU time per message at saturation, all the bot's processes: ms | {cpu(stock):.1f} | {cpu(gateway):.1f} | "
        f"{_ratio(cpu(stock), cpu(gateway))} | {cpu(rasa):.1f} | {_ratio(cpu(stock), cpu(rasa))} |",
    ]
    for phase, label, keys in (("one", "one customer", ("p50", "p95")),
                               ("open", f"open load, {OPEN_RATE:.0f} messages/s offered", ("p50", "p95", "p99"))):
        for key in keys:
            s, g, r = stock[phase][key], gateway[phase][key], rasa[phase][key]
            lines.append(f"| {label}: {key} ms | {s:.0f} | {g:.0f} | {_ratio(s, g)} | {r:.0f} | {_ratio(s, r)} |")
    lines += [
        "",
        "## Issue 11's targets (through the gateway, this run)",
        "",
        f"- Saturation at least {TARGET_RATIO:.1f}× the stock bot's: {ratio:.2f}× (turns: "
        f"{', '.join(f'{r:.2f}×' for r in turn_ratios(gateway))}) — {verdict(ratio >= TARGET_RATIO)}.",
        f"- At {OPEN_RATE:.0f} messages/s offered, p95 ≤ {TARGET_P95:.0f} ms and p99 ≤ {TARGET_P99:.0f} ms: "
        f"p95 {open_gw['p95']:.0f} ms, p99 {open_gw['p99']:.0f} ms — "
        f"{verdict(open_gw['p95'] <= TARGET_P95 and open_gw['p99'] <= TARGET_P99)}.",
        f"- Fair under abuse (§4): beside one client flooding {len(FLOOD_TEXT)}-character messages, 4 at a time, "
        f"the other customers' p99 stays ≤ {TARGET_P99:.0f} ms: p95 {flood['p95']:.0f} ms, p99 {flood['p99']:.0f} ms "
        f"— {verdict(flood['p99'] <= TARGET_P99)}. The flooder sent {flood['flood_sent']} messages: "
        f"{flood['flood_answered']} answered, {flood['flood_refused']} refused by the per-client limit (429).",
        "",
        "## Every phase",
        "",
        "| bot | phase | messages | errors | messages/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for bot, bot_rows in (("stock", stock), ("hotro, gateway", gateway), ("hotro, Rasa directly", rasa)):
        phases = [("one customer", bot_rows["one"])]
        phases += [(f"{SATURATION_CUSTOMERS} customers, closed loop, turn {n + 1} "
                    f"({r['cpu_ms']:.1f} ms CPU per message)", r) for n, r in enumerate(bot_rows["turns"])]
        phases += [(f"open load {OPEN_RATE:.0f}/s (steady part)", bot_rows["open"])]
        if "flood" in bot_rows:
            phases.append(("open load beside the flooder", bot_rows["flood"]))
        for name, r in phases:
            lines.append(f"| {bot} | {name} | {r['messages']} | {r['errors']} | {r['rate']:.1f} | "
                         f"{r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} |")
    lines += ["", "Load average (1/5/15 min) as each phase began: " + "; ".join(
        f"{phase} {load}" for phase, load in rows["loads"]) + ".", "",
        "## Memory per process (after the run)", "", "| bot | process | RSS MB | peak RSS MB |", "|---|---|---:|---:|"]
    for bot, processes_memory in memory.items():
        for name, (rss, peak) in processes_memory.items():
            lines.append(f"| {bot} | {name} | {rss:.0f} | {peak:.0f} |")
    lines += [
        "",
        "## How it was measured",
        "",
        "- The stock bot is `rasa init --no-prompt` (the moodbot), trained once per Rasa version into "
        "var/bench/ and run with `rasa run` over its REST channel. Its customers walk a 9-message chat "
        f"through its stories ({', '.join(STOCK_CONVERSATION)}).",
        "- hotro's customers each file a whole complaint (6-7 messages: greeting, order number, problem, "
        "description, contact, confirmation) with forms, custom actions, database writes and the transcript. "
        "They share three order numbers, so most complaints are repeat complaints: high priority, handed to a "
        "person on submission, the most expensive path.",
        f"- Closed loop: each customer sends the next message when the last is answered; {q['rounds_one']:.0f} "
        f"conversations for one customer, {q['rounds_sat']:.0f} per customer at {SATURATION_CUSTOMERS} in each turn.",
        f"- Open load: conversations start as a Poisson process at {OPEN_RATE:.0f} messages/s ÷ the conversation's "
        f"length; each customer thinks an exponential {q['think']:.1f} s on average between an answer and the next "
        f"message. Arrivals for {q['arrivals_for']:.0f} s; percentiles over messages sent from {q['steady_from']:.0f} s "
        "on (steady load).",
        "- Through the gateway each customer comes from an address of its own (X-Forwarded-For from a trusted "
        "proxy), so the default per-client limits apply as in production; so does the flooder's single address.",
        "- Against Rasa directly the load generator picks each conversation's Rasa process as the gateway does.",
        "- Latency is per message, from request to the full reply. Load generator, bots and database share the machine.",
        "- CPU time per message: the user and system time the bot's server processes used during the saturation phase "
        "(/proc), divided by the messages answered; less disturbed by other work on the machine than messages/s.",
        "",
        "Reproduce: `make bench` (builds the stock bot the first time, about 3 minutes; then about 10 minutes). "
        "FAQ at scale: bench/faq-scale.md (`make faq-bench`, run by `make bench` first).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
