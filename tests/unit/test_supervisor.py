"""The supervisor's decisions (bot/supervisor.py), on a clock set by hand and processes that only pretend."""
from __future__ import annotations

from bot.supervisor import BACKOFF, FATAL, RUNNING, STARTING, Part, RestartPolicy, Supervisor
from tests.serving import Ticks as Clock

POLICY = RestartPolicy(first_delay=1, max_delay=8, stable_after=60, burst=3, interval=600)


class FakeProcess:
    pids = iter(range(1, 10**6))

    def __init__(self):
        self.pid = next(self.pids)
        self.returncode = None

    def poll(self):
        return self.returncode

    def die(self, code=-9):
        self.returncode = code


def test_back_off_doubles_up_to_its_cap():
    assert [POLICY.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 8, 8]


def test_a_kill_is_logged_and_the_part_restarted_after_the_first_delay():
    part = Part("actions", POLICY)
    part.started(0)
    said = part.exited(-9, now=3600)
    assert part.state == BACKOFF and not part.due(3600) and part.due(3601)
    assert "actions stopped (killed by SIGKILL) after 60m00s; restarting in 1s" in said


def test_quick_crashes_wait_longer_each_time_and_a_long_run_resets_the_wait():
    part = Part("rasa", RestartPolicy(first_delay=1, max_delay=30, stable_after=60, burst=100))
    now = 0.0
    waits = []
    for _ in range(4):
        part.started(now)
        now += 5  # crashes 5 s after each start
        part.exited(1, now)
        waits.append(part.restart_at - now)
        now = part.restart_at
        part.restarting(now)
    assert waits == [1, 2, 4, 8]
    now += 3600  # then it ran for an hour
    part.exited(1, now)
    assert part.restart_at - now == 1


def test_a_crash_loop_is_given_up_after_the_burst_within_the_interval():
    part = Part("rasa", POLICY)
    part.started(0)
    now = 0.0
    for _ in range(POLICY.burst):
        now += 100  # well past each back-off, but all within the 600 s interval
        part.exited(1, now)
        assert part.state == BACKOFF
        part.restarting(part.restart_at)
    said = part.exited(1, now + 100)
    assert part.state == FATAL and "GIVING UP" in said and "crash loop" in said
    assert not part.due(now + 10**6)


def test_restarts_older_than_the_interval_no_longer_count():
    part = Part("rasa", POLICY)
    part.started(0)
    now = 0.0
    for _ in range(10):
        now += 700  # one crash every 700 s: never 3 within 600 s
        part.exited(1, now)
        assert part.state == BACKOFF
        part.restarting(part.restart_at)


def test_a_process_that_refuses_to_start_is_not_restarted():
    part = Part("gateway", POLICY)
    part.started(0)
    said = part.exited(2, 1)
    assert part.state == FATAL and "refused to start" in said


def supervised(clock, **children):
    said, restarted = [], []
    supervisor = Supervisor(said.append, clock=clock, on_restart=lambda *args: restarted.append(args),
                            reap=lambda process: None)
    for name, ready in children.items():
        supervisor.add(name, FakeProcess(), FakeProcess, POLICY, ready=ready)
    return supervisor, said, restarted


def test_one_child_dying_restarts_that_child_only():
    clock = Clock()
    answering = {"now": False}
    supervisor, said, restarted = supervised(clock, actions=lambda: answering["now"], rasa=None, gateway=None)
    others = {name: supervisor.children[name].process for name in ("rasa", "gateway")}
    old = supervisor.children["actions"].process
    old.die(-9)
    supervisor.check()
    assert supervisor.state("actions") == BACKOFF and "killed by SIGKILL" in said[-1]
    clock.now += 1
    supervisor.check()
    new = supervisor.children["actions"].process
    assert new is not old and restarted == [("actions", old, new)]
    assert supervisor.state("actions") == STARTING
    supervisor.check()
    assert supervisor.state("actions") == STARTING  # alive, not answering yet
    answering["now"] = True
    supervisor.check()
    assert supervisor.state("actions") == RUNNING and "answering again" in said[-1]
    assert {name: supervisor.children[name].process for name in ("rasa", "gateway")} == others
    assert all(supervisor.state(name) == RUNNING for name in others)


def test_several_children_dying_at_once_are_all_restarted():
    clock = Clock()
    supervisor, said, restarted = supervised(clock, actions=None, rasa=None, gateway=None)
    for child in supervisor.children.values():
        child.process.die(1)
    supervisor.check()
    clock.now += 1
    supervisor.check()
    assert sorted(name for name, _, _ in restarted) == ["actions", "gateway", "rasa"]


def test_a_stopped_supervisor_restarts_nothing():
    clock = Clock()
    supervisor, said, restarted = supervised(clock, actions=None)
    supervisor.stop()
    supervisor.children["actions"].process.die(-15)
    supervisor.check()
    clock.now += 60
    supervisor.check()
    assert restarted == [] and said == []
