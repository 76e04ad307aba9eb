"""The stock `rasa init` bot, the benchmark's yardstick: built once per Rasa version, run beside hotro.

An absolute figure from one machine says little about another; the ratio to the bot every Rasa user
starts from, measured in the same run on the same machine, does. `rasa init --no-prompt` writes the
moodbot project and trains it (about 2.5 minutes on 2 cores); the result is kept in
var/bench/stock-<Rasa version>/ (git-ignored), so later runs only start it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List

from bot.config import ROOT

# The moodbot's own stories, walked by one customer: greeting, the sad path both ways, a challenge, goodbye.
CONVERSATION = ["hello", "I am sad", "yes", "hi", "my day was horrible", "no", "are you a bot?", "great", "bye"]


def rasa_version() -> str:
    import rasa

    return rasa.__version__


def project_dir() -> Path:
    return ROOT / "var" / "bench" / f"stock-{rasa_version()}"


def models(directory: Path) -> List[Path]:
    return sorted((directory / "models").glob("*.tar.gz"))


def ensure_trained(env: Dict[str, str], say=print) -> Path:
    """The stock project, trained; built the first time (for this Rasa version) and reused afterwards."""
    directory = project_dir()
    if models(directory):
        return directory
    say(f"building the stock `rasa init` bot in {directory.relative_to(ROOT)} (once per Rasa version) ...")
    building = directory.with_name(directory.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    with open(building.parent / f"{building.name}.log", "wb") as log:
        subprocess.run([str(Path(sys.executable).with_name("rasa")), "init", "--no-prompt", "--init-dir", str(building)],
                       cwd=building, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
    if not models(building):
        raise RuntimeError(f"`rasa init` trained no model; see {building.parent / (building.name + '.log')}")
    shutil.rmtree(directory, ignore_errors=True)
    building.rename(directory)  # only a complete project counts as built
    return directory


class StockBot:
    """`rasa run` of the stock project on `port`, as its README says to run it (REST channel, no action server)."""

    def __init__(self, directory: Path, port: int, env: Dict[str, str], log: Path):
        self.directory, self.port, self.env, self.log = directory, port, env, log
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 300.0) -> "StockBot":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("rasa")), "run", "--port", str(self.port), "--interface", "127.0.0.1",
                 "--model", str(models(self.directory)[-1]), "--credentials", "credentials.yml",
                 "--endpoints", "endpoints.yml"],
                cwd=self.directory, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the stock bot exited (code {self.process.returncode}); see {self.log}")
            try:
                request = urllib.request.Request(f"{self.url}/webhooks/rest/webhook",
                                                 data=b'{"sender": "__ready__", "message": "hello"}',
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the stock bot did not answer in {timeout:.0f}s; see {self.log}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
