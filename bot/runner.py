"""Start the action server and the Rasa server together; Ctrl-C stops both.

Used by `make run` and by the integration tests and benchmark, so all of them
run the same processes with the same settings.
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
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from bot.config import ROOT
from bot.internal_auth import ACTION_SECRET_ENV, GATEWAY_SECRET_ENV, connect_host, gateway_headers, internal_host
from bot.rasa_endpoints import write_endpoints
from bot.settings_env import ENV_FILE_VARIABLE

VENV_BIN = Path(sys.executable).parent


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

    @property
    def rasa_url(self) -> str:
        return f"http://{connect_host(self.env)}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{connect_host(self.env)}:{self.action_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def _spawn(self, name: str, args: List[str], env: Dict[str, str] = None) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        # The stack's env is complete (whoever built it loaded .env or chose not to, like the
        # tests): the children must not fill its gaps from the repository's .env.
        env = dict(env or self.env, **{ENV_FILE_VARIABLE: os.devnull})
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(proc)
        self.names[proc.pid] = name
        return proc

    def start(self, timeout: float = 180.0) -> "Stack":
        for name in (GATEWAY_SECRET_ENV, ACTION_SECRET_ENV):
            # Processes started together share a fresh secret when none is configured; processes
            # on several hosts need the same value in each host's .env.
            if not self.env.get(name):
                self.env[name] = secrets.token_urlsafe(32)
        self.env.setdefault("ACTION_SERVER_URL", f"{self.action_url}/webhook")
        self.spawn_action_server()
        endpoints = write_endpoints(self.env, self.log_dir.parent / "rasa-endpoints.yml")
        for index, port in enumerate([self.rasa_port, *self.more_rasa_ports]):
            rasa_args = [
                str(VENV_BIN / "rasa"), "run", "--enable-api", "--port", str(port),
                "--interface", internal_host(self.env),
                "--model", str(self.model), "--endpoints", str(endpoints),
                "--credentials", str(ROOT / "credentials.yml"),
            ]
            token = self.env.get("RASA_TOKEN")
            if token:
                rasa_args += ["--auth-token", token]
            self._spawn("rasa" if index == 0 else f"rasa-{port}", rasa_args)
        if self.gateway_port:
            gateway_env = dict(self.env, GATEWAY_PORT=str(self.gateway_port), RASA_URL=self.rasa_url)
            self._spawn("gateway", [sys.executable, "-m", "bot.gateway"], env=gateway_env)
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def spawn_action_server(self, log_name: str = "actions") -> subprocess.Popen:
        return self._spawn(log_name, action_server_command(self.action_port, internal_host(self.env)))

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
        for port in [self.rasa_port, *self.more_rasa_ports]:
            self._wait_model(f"http://{connect_host(self.env)}:{port}", deadline, timeout)

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


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    from bot.startup import exit_unless_migrated, summary_lines

    # .env first, so the database checked here is the one every process will use.
    database_url = exit_unless_migrated("hotro")
    rasa_port = int(os.environ.get("RASA_PORT", "5005"))
    action_port = int(os.environ.get("ACTION_PORT", "5055"))
    gateway_port = int(os.environ.get("GATEWAY_PORT", "8000"))
    stack = Stack(
        rasa_port=rasa_port,
        action_port=action_port,
        gateway_port=gateway_port,
        model=ROOT / "models" / "hotro.tar.gz",
        env=dict(os.environ),
        log_dir=ROOT / "var" / "log",
    )
    # `kill` (SIGTERM) stops the children too, like Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    internal = internal_host(stack.env)
    print(
        f"starting the action server on {internal}:{action_port}, Rasa on {internal}:{rasa_port} "
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
Press Ctrl-C to stop.
""",
        flush=True,
    )
    try:
        while all(p.poll() is None for p in stack.processes):
            time.sleep(1)
        print("a process stopped; shutting down (see var/log/)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...")
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
