"""Keeping `make run`'s processes up: a child that exits is restarted with back-off; one in a crash loop is given up.

The rules are the ones operators already know from supervisord and systemd:
- restart after a growing pause (systemd's RestartSec, supervisord's back-off of 1, 2, 3 … s):
  FIRST_DELAY, doubling up to MAX_DELAY, so a crash loop does not eat the CPU the others serve with;
- a run that lasted STABLE_AFTER seconds was a success: the next crash starts the pauses again from
  FIRST_DELAY (supervisord's startsecs decides the same thing for the first seconds only);
- more than BURST restarts within INTERVAL seconds is a crash loop: the part is given up (systemd's
  StartLimitBurst / StartLimitIntervalSec; supervisord's FATAL state), said loudly, and left down. Unlike
  supervisord's startretries this also catches a part that crashes a minute after every start;
- an exit status that says restarting cannot help (2: the database is not migrated) is given up at once
  (systemd's RestartPreventExitStatus=).

The others keep running whatever one part does: the gateway answers customers (with the apology) while
Rasa or the action server is away. The pure bookkeeping (Part.exited / Part.due) is separate from
processes and time, so it is tested with a clock set by hand.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

# States, named as supervisord names them.
STARTING, RUNNING, BACKOFF, FATAL, STOPPED = "starting", "running", "backoff", "fatal", "stopped"
NO_RESTART_CODES = (2,)  # `exit_unless_migrated`: the same database refuses the same start again


@dataclass(frozen=True)
class RestartPolicy:
    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 60.0
    burst: int = 5
    interval: float = 600.0

    @classmethod
    def from_env(cls, env) -> "RestartPolicy":
        """HOTRO_RESTART_BURST / HOTRO_RESTART_INTERVAL: the crash-loop limit (systemd's names in the README)."""
        from bot.config import decimal_number, whole_number

        return cls(burst=whole_number("HOTRO_RESTART_BURST", env.get("HOTRO_RESTART_BURST") or cls.burst, minimum=1),
                   interval=decimal_number("HOTRO_RESTART_INTERVAL", env.get("HOTRO_RESTART_INTERVAL") or cls.interval,
                                           minimum=1))

    def delay(self, failures: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** max(0, failures - 1))


def describe_exit(code: Optional[int]) -> str:
    if code is None:
        return "running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@dataclass
class Part:
    """One supervised process's history: what the supervisor decided, without touching a process."""

    name: str
    policy: RestartPolicy = RestartPolicy()
    state: str = STARTING
    started_at: float = 0.0
    failures: int = 0  # crashes since the last stable run: the back-off's exponent
    restarts: List[float] = field(default_factory=list)  # when it was restarted, for the crash-loop limit
    restart_at: Optional[float] = None
    last_exit: str = ""

    def started(self, now: float) -> None:
        self.state, self.started_at, self.restart_at = STARTING, now, None

    def exited(self, code: Optional[int], now: float) -> str:
        """Decide after an exit; the sentence to log."""
        self.last_exit = describe_exit(code)
        ran = now - self.started_at
        said = f"{self.name} stopped ({self.last_exit}) after {duration(ran)}"
        if code in NO_RESTART_CODES:
            self.state = FATAL
            return f"{said}; not restarted: it refused to start and would refuse again (see its log)"
        if ran >= self.policy.stable_after:
            self.failures = 0
        self.failures += 1
        recent = [t for t in self.restarts if now - t < self.policy.interval]
        self.restarts = recent
        if len(recent) >= self.policy.burst:
            self.state = FATAL
            return (f"{said}; GIVING UP: restarted {len(recent)} times in the last "
                    f"{duration(self.policy.interval)} (crash loop); it stays down until hotro is restarted")
        delay = self.policy.delay(self.failures)
        self.state, self.restart_at = BACKOFF, now + delay
        return f"{said}; restarting in {delay:g}s (restart {len(recent) + 1} of at most {self.policy.burst} " \
               f"in {duration(self.policy.interval)})"

    def due(self, now: float) -> bool:
        return self.state == BACKOFF and self.restart_at is not None and now >= self.restart_at

    def restarting(self, now: float) -> None:
        self.restarts.append(now)
        self.started(now)


@dataclass
class Child:
    """A supervised process: how to start it, the process now, whether it answers (optional)."""

    part: Part
    spawn: Callable[[], subprocess.Popen]
    ready: Optional[Callable[[], bool]] = None
    process: Optional[subprocess.Popen] = None


class Supervisor:
    """Watches children from one thread (or `check()` called in a loop) and restarts them by their Part's rules."""

    def __init__(self, say: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic,
                 on_restart: Optional[Callable[[str, subprocess.Popen, subprocess.Popen], None]] = None,
                 reap: Callable[[subprocess.Popen], None] = None):
        self.children: Dict[str, Child] = {}
        self.reap = reap or reap_group
        self.say = say
        self.clock = clock
        self.on_restart = on_restart  # (name, old process, new process): the owner's own list follows
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def add(self, name: str, process: subprocess.Popen, spawn: Callable[[], subprocess.Popen],
            policy: RestartPolicy = RestartPolicy(), ready: Optional[Callable[[], bool]] = None) -> Child:
        part = Part(name, policy)
        part.started(self.clock())
        part.state = RUNNING  # added once it answered: the start-up itself is the caller's
        child = Child(part, spawn, ready, process)
        with self._lock:
            self.children[name] = child
        return child

    def state(self, name: str) -> str:
        return self.children[name].part.state

    def check(self) -> None:
        """One round: notice exits, restart what is due, notice restarted parts answering again."""
        with self._lock:
            for name, child in self.children.items():
                if self._stop.is_set():
                    return
                self._check(name, child)

    def _check(self, name: str, child: Child) -> None:
        part, now = child.part, self.clock()
        if part.state in (STARTING, RUNNING) and child.process is not None and child.process.poll() is not None:
            self.reap(child.process)
            self.say(part.exited(child.process.returncode, now))
            if part.state == FATAL:
                self.say(f"{name} is DOWN for good: see its log; the other parts keep serving")
        elif part.due(now):
            old = child.process
            try:
                child.process = child.spawn()
            except OSError as exc:
                self.say(part.exited(127, now) + f" (could not start: {exc})")
                return
            part.restarting(now)
            self.say(f"{name} restarted (pid {child.process.pid})")
            if self.on_restart is not None:
                self.on_restart(name, old, child.process)
        elif part.state == STARTING and (child.ready is None or child.ready()):
            part.state = RUNNING
            if child.ready is not None:
                self.say(f"{name} answering again {now - part.started_at:.1f}s after its restart")

    def run(self, every: float = 0.5) -> None:
        while not self._stop.wait(every):
            self.check()

    def start(self, every: float = 0.5) -> "Supervisor":
        self._thread = threading.Thread(target=self.run, args=(every,), name="supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """No restarts from now on (the caller is stopping everything)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        with self._lock:  # a check in progress has finished
            pass


def reap_group(process: subprocess.Popen) -> None:
    """Kill what the dead process left in its group: a Sanic worker holding the port would block the restart."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
