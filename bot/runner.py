"""Start the action server, Rasa and the gateway together, keep them up; Ctrl-C stops them all.

Used by `make run` and by the integration tests, the benchmark and the soak, so all of them run
the same processes with the same settings. `make run` supervises them (bot/supervisor.py): a
process that dies is restarted with back-off while the others keep serving.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from functools import partial
from typing import Dict, List, Optional

from bot.config import ROOT
from bot.internal_auth import ACTION_SECRET_ENV, GATEWAY_SECRET_ENV, connect_host, gateway_headers, internal_host
from bot.rasa_endpoints import write_endpoints
from bot.rasa_instances import RASA_URLS_ENV, instance_names, process_count
from bot.settings_env import ENV_FILE_VARIABLE
from bot.supervisor import FATAL, RestartPolicy, Supervisor

def free_port() -> int:
    """A TCP port nobody listens on right now (for tests and the benchmark)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    rasa_port: int
    action_port: int
    model: Path
    env: Dict[str, str]
    log_dir: Path
    gateway_port: int = 0  # 0: no gateway
    # More Rasa instances sharing the conversations (production: PostgreSQL tracker store, Redis lock store).
    more_rasa_ports: List[int] = field(default_factory=list)
    processes: List[subprocess.Popen] = field(default_factory=list)
    names: Dict[int, str] = field(default_factory=dict)  # pid -> log name
    # log name -> (command, environment, URL that answers 200 once it serves): how to start it again.
    launches: Dict[str, tuple] = field(default_factory=dict)
    supervisor: Optional[Supervisor] = None

    @property
    def rasa_url(self) -> str:
        return f"http://{connect_host(self.env)}:{self.rasa_port}"

    @property
    def rasa_urls(self) -> List[str]:
        """Every Rasa instance; the gateway routes each conversation to one of them (bot/rasa_instances.py)."""
        return [f"http://{connect_host(self.env)}:{port}" for port in [self.rasa_port, *self.more_rasa_ports]]

    @property
    def action_url(self) -> str:
        return f"http://{connect_host(self.env)}:{self.action_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def spawn(self, name: str, args: List[str], env: Dict[str, str] = None, ready_url: str = "") -> subprocess.Popen:
        # The stack's env is complete (whoever built it loaded .env or chose not to, like the
        # tests): the children must not fill its gaps from the repository's .env.
        env = dict(env or self.env, **{ENV_FILE_VARIABLE: os.devnull})
        self.launches[name] = (args, env, ready_url)
        proc = self._launch(name)
        self.processes.append(proc)
        self.names[proc.pid] = name
        return proc

    def _launch(self, name: str) -> subprocess.Popen:
        args, env, _ = self.launches[name]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy of the descriptor
            return subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def supervise(self, policy: Optional[RestartPolicy] = None, say=None, every: float = 0.5) -> Supervisor:
        """From now on, restart whichever process exits (bot/supervisor.py); the running supervisor."""
        supervisor = Supervisor(say or self._say, on_restart=self._replaced)
        policy = policy or RestartPolicy.from_env(self.env)
        for proc in list(self.processes):
            name = self.names[proc.pid]
            ready_url = self.launches[name][2]
            supervisor.add(name, proc, partial(self._launch, name), policy,
                           ready=partial(answers, ready_url) if ready_url else None)
        self.supervisor = supervisor.start(every)
        return supervisor

    def _replaced(self, name: str, old: subprocess.Popen, new: subprocess.Popen) -> None:
        self.processes[:] = [new if proc is old else proc for proc in self.processes]
        self.names[new.pid] = name

    def _say(self, sentence: str) -> None:
        """Crashes and restarts: on the terminal and in supervisor.log, with the time."""
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {sentence}"
        print(line, file=sys.stderr, flush=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / "supervisor.log", "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def start(self, timeout: float = 180.0) -> "Stack":
        for name in (GATEWAY_SECRET_ENV, ACTION_SECRET_ENV):
            # Processes started together share a fresh secret when none is configured; processes
            # on several hosts need the same value in each host's .env.
            if not self.env.get(name):
                self.env[name] = secrets.token_urlsafe(32)
        self.env.setdefault("ACTION_SERVER_URL", f"{self.action_url}/webhook")
        self.spawn_action_server()
        endpoints = write_endpoints(self.env, self.log_dir.parent / "rasa-endpoints.yml")
        ports = [self.rasa_port, *self.more_rasa_ports]
        for name, port, url in zip(instance_names(len(ports)), ports, self.rasa_urls):
            self.spawn(name, rasa_command(port, self.model, endpoints),
                       ready_url=rasa_ready_url(url, self.env.get("RASA_TOKEN")))
        if self.gateway_port:
            gateway_env = dict(self.env, GATEWAY_PORT=str(self.gateway_port), RASA_URL=self.rasa_url,
                               **{RASA_URLS_ENV: ",".join(self.rasa_urls)})
            self.spawn("gateway", [sys.executable, "-m", "bot.gateway"], env=gateway_env,
                        ready_url=f"{self.gateway_url}/health")
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def spawn_action_server(self, log_name: str = "actions") -> subprocess.Popen:
        return self.spawn(log_name, action_server_command(self.action_port, internal_host(self.env)),
                           ready_url=f"{self.action_url}/health")

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        checks = {"action server": f"{self.action_url}/health", "Rasa": f"{self.rasa_url}/"}
        if self.gateway_port:
            checks["gateway"] = f"{self.gateway_url}/health"
        for name, url in checks.items():
            while True:
                self._check_alive()
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready at {url} after {timeout:.0f}s; see {self.log_dir}")
                time.sleep(0.5)
        # Rasa answers "/" before the model is loaded; /status needs the token.
        for url in self.rasa_urls:
            self._wait_model(url, deadline, timeout)

    def _check_alive(self) -> None:
        for proc in self.processes:
            if proc.poll() is not None:
                raise RuntimeError(f"a process exited early (code {proc.returncode}); see {self.log_dir}"
                                   + self._last_words(proc))

    def _last_words(self, proc: subprocess.Popen) -> str:
        # A process that refuses to start says why in its last line (e.g. an unmigrated database).
        log = self.log_dir / f"{self.names.get(proc.pid, '')}.log"
        lines = log.read_text(errors="replace").strip().splitlines() if log.is_file() else []
        return f": {lines[-1]}" if lines else ""

    def _wait_model(self, rasa_url: str, deadline: float, timeout: float) -> None:
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                request = urllib.request.Request(
                    f"{rasa_url}/webhooks/rest/webhook",
                    data=b'{"sender": "__readiness__", "message": "/greet"}',
                    headers={"Content-Type": "application/json", **gateway_headers(self.env)},
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                if exc.code == 403:
                    raise RuntimeError(f"Rasa at {rasa_url} refused the gateway secret ({GATEWAY_SECRET_ENV})") from None
                time.sleep(0.5)
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"Rasa at {rasa_url} did not load its model in {timeout:.0f}s; see {self.log_dir}")

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()  # nothing is restarted while everything stops
        for proc in self.processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.processes.clear()


def action_server_command(port: int, host: str) -> List[str]:
    return [sys.executable, "-m", "bot.action_server", "--port", str(port), "--host", host]


def rasa_command(port: int, model: Path, endpoints: Path) -> List[str]:
    """bot/rasa_run.py: RASA_TOKEN and the internal host come from the environment, not the command line."""
    return [sys.executable, "-m", "bot.rasa_run", "--port", str(port), "--model", str(model),
            "--endpoints", str(endpoints)]


def rasa_ready_url(rasa_url: str, token: Optional[str]) -> str:
    """Rasa's /status answers 200 only once the model is loaded (409 before), unlike "/"."""
    return f"{rasa_url}/status" + (f"?token={urllib.parse.quote(token)}" if token else "")


def answers(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    from bot.config import whole_number
    from bot.startup import exit_unless_migrated, summary_lines

    # .env first, so the database checked here is the one every process will use.
    database_url = exit_unless_migrated("hotro")
    rasa_port = whole_number("RASA_PORT", os.environ.get("RASA_PORT") or "5005", minimum=1)
    # One Rasa per core (HOTRO_RASA_PROCESSES), on RASA_PORT, RASA_PORT+1, ...; the gateway keeps each
    # conversation on one of them.
    rasa_ports = [rasa_port + n for n in range(process_count(os.environ))]
    action_port = whole_number("ACTION_PORT", os.environ.get("ACTION_PORT") or "5055", minimum=1)
    gateway_port = whole_number("GATEWAY_PORT", os.environ.get("GATEWAY_PORT") or "8000", minimum=1)
    stack = Stack(
        rasa_port=rasa_port,
        action_port=action_port,
        gateway_port=gateway_port,
        more_rasa_ports=rasa_ports[1:],
        model=ROOT / "models" / "hotro.tar.gz",
        env=dict(os.environ),
        log_dir=ROOT / "var" / "log",
    )
    # `kill` (SIGTERM) stops the children too, like Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    internal = internal_host(stack.env)
    rasa_where = (f"Rasa on {internal}:{rasa_port}" if len(rasa_ports) == 1 else
                  f"{len(rasa_ports)} Rasa processes on {internal}:{rasa_ports[0]}-{rasa_ports[-1]}")
    print(
        f"starting the action server on {internal}:{action_port}, {rasa_where} "
        f"and the gateway on :{gateway_port} (logs in var/log/) ..."
    )
    try:
        stack.start()
    except (RuntimeError, TimeoutError) as exc:
        print(f"could not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    print("\n".join(summary_lines(stack.env, database_url)))
    print(
        f"""
hotro is running.
  Chat in this terminal:   make shell
  Chat over HTTP (REST, through the gateway, which keeps the transcript):
    curl -s -X POST http://localhost:{gateway_port}/webhooks/rest/webhook \\
         -H 'Content-Type: application/json' \\
         -d '{{"sender": "khach-1", "message": "tôi muốn khiếu nại đơn DH100003 bị giao sai màu"}}'
  Website chat (demo shop): http://localhost:{gateway_port}/
  Support desk:            http://localhost:{gateway_port}/desk
                           (first account: .venv/bin/python -m bot staff add NAME)
  Tickets:                 .venv/bin/python -m bot tickets list
  Health of each part:     curl -s http://localhost:{gateway_port}/health
A part that stops is started again (var/log/supervisor.log). Press Ctrl-C to stop.
""",
        flush=True,
    )
    supervisor = stack.supervise()
    try:
        # The gateway given up means no customer is answered at all: say so with the exit status,
        # for whatever runs `make run` (a shell loop, a container's restart policy).
        while supervisor.state("gateway") != FATAL:
            time.sleep(1)
        print("the gateway cannot be kept up; stopping (see var/log/)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...")
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
