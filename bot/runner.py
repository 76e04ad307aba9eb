"""Start the action server and the Rasa server together; Ctrl-C stops both.

Used by `make run` and by the integration tests and benchmark, so all of them
run the same processes with the same settings.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from bot.config import ROOT
from bot.rasa_endpoints import write_endpoints

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

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def _spawn(self, name: str, args: List[str], env: Dict[str, str] = None) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(proc)
        return proc

    def start(self, timeout: float = 180.0) -> "Stack":
        self.env.setdefault("ACTION_SERVER_URL", f"{self.action_url}/webhook")
        self._spawn(
            "actions",
            [sys.executable, "-m", "rasa_sdk", "--actions", "bot.actions", "--port", str(self.action_port)],
        )
        endpoints = write_endpoints(self.env, self.log_dir.parent / "rasa-endpoints.yml")
        for index, port in enumerate([self.rasa_port, *self.more_rasa_ports]):
            rasa_args = [
                str(VENV_BIN / "rasa"), "run", "--enable-api", "--port", str(port),
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
            self._wait_model(f"http://127.0.0.1:{port}", deadline, timeout)

    def _check_alive(self) -> None:
        for proc in self.processes:
            if proc.poll() is not None:
                raise RuntimeError(f"a process exited early (code {proc.returncode}); see {self.log_dir}")

    def _wait_model(self, rasa_url: str, deadline: float, timeout: float) -> None:
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                request = urllib.request.Request(
                    f"{rasa_url}/webhooks/rest/webhook",
                    data=b'{"sender": "__readiness__", "message": "/greet"}',
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    if response.status == 200:
                        return
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


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
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
    print(
        f"starting the action server on :{action_port}, Rasa on :{rasa_port} and the gateway on :{gateway_port} "
        "(logs in var/log/) ..."
    )
    try:
        stack.start()
    except (RuntimeError, TimeoutError) as exc:
        print(f"could not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    from bot.channels.telegram.settings import TelegramSettings

    settings = TelegramSettings.from_env()
    telegram = f"on ({settings.mode}" if settings.enabled else None
    if telegram:
        telegram += ", staff group)" if settings.staff_chat_id is not None else ")"
    print(f"Telegram: {telegram or 'off (set TELEGRAM_BOT_TOKEN in .env to turn it on; see README)'}")
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
