"""Stack.supervise with real processes (a sleeping Python stands in for a server): killed, started again."""
import os
import signal
import sys
import time
from pathlib import Path

from bot.runner import Stack
from bot.supervisor import RUNNING, RestartPolicy

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def wait_until(predicate, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def test_a_killed_child_is_started_again_in_its_place_and_stopping_restarts_nothing(tmp_path):
    stack = Stack(0, 0, Path("unused"), dict(os.environ), tmp_path / "logs")
    first = stack.spawn("sleeper", SLEEPER)
    other = stack.spawn("other", SLEEPER)
    said = []
    supervisor = stack.supervise(RestartPolicy(first_delay=0.1), say=said.append, every=0.05)
    try:
        os.kill(first.pid, signal.SIGKILL)
        wait_until(lambda: stack.processes[0] is not first and supervisor.state("sleeper") == RUNNING,
                   "the sleeper restarted")
        replacement = stack.processes[0]
        assert replacement.poll() is None and stack.names[replacement.pid] == "sleeper"
        assert stack.processes[1] is other and other.poll() is None  # the other one was left alone
        assert said[0].startswith("sleeper stopped (killed by SIGKILL)") and said[1].startswith("sleeper restarted")
    finally:
        stack.stop()
    assert all(proc.poll() is not None for proc in (replacement, other))
    assert stack.processes == [] and len(said) == 2  # stopping is not a crash: nothing restarted, nothing said
