"""The README's production steps, run as written: a fresh copy of the repository, settings only in
its .env, `make run`, a complaint through the gateway, then the staff commands with nothing exported.

Also: every service refuses to start on a database that is not migrated.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List

import pytest
from sqlalchemy import create_engine, text

from bot.config import ROOT
from bot.runner import free_port
from bot.settings_env import mask_url, parse_dotenv
from tests.conftest import REDIS, postgres_database, redis_up, require_service
from tests.integration.conftest import MODEL

SECTION = "### Step by step: PostgreSQL and Redis"
# Settings a developer's shell may carry; the README's reader has none of them exported.
SCRUBBED = ("HOTRO_", "RASA_", "TELEGRAM_", "GATEWAY_", "ACTION_", "MAKE", "MFLAGS")
PASSWORD = "a long staff password"


def readme_steps() -> Dict[str, list]:
    """The fenced blocks of the README's step-by-step section, by language, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(SECTION, 1)[1].split("\n### ", 1)[0]
    blocks: Dict[str, list] = {}
    for language, body in re.findall(r"```(\w+)\n(.*?)\n\s*```", section, flags=re.S):
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        blocks.setdefault(language, []).append(lines)
    return blocks


def scrubbed_env() -> Dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}


def copy_checkout(dest: Path) -> None:
    """What a clone of this checkout holds (tracked and new, not ignored files), with their times.

    Times are kept so that make decides about the model and the venv exactly as it would here.
    """
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    venv = (ROOT / ".venv").resolve()
    stamp = next((p for p in (ROOT / ".stamps" / "venv", venv.parent / ".stamps" / "venv") if p.exists()), None)
    if stamp is None:
        pytest.fail("no .stamps/venv next to the venv: run `make install`")
    (dest / ".venv").symlink_to(venv)
    (dest / ".stamps").mkdir()
    shutil.copy2(stamp, dest / ".stamps" / "venv")
    (dest / "models").mkdir()
    shutil.copy2(MODEL, dest / "models" / MODEL.name)  # a copy: a retrain there must not touch ours
    up_to_date = subprocess.run(["make", "--question", ".stamps/venv", f"models/{MODEL.name}"], cwd=dest,
                                env=scrubbed_env(), capture_output=True)
    if up_to_date.returncode != 0:
        pytest.fail("the venv or the model is older than its inputs here: run `make install train` first")


def wait_for(log: Path, process: subprocess.Popen, needle: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = log.read_text(errors="replace")
        if needle in out:
            return out
        if process.poll() is not None:
            pytest.fail(f"`make run` exited with {process.returncode} before {needle!r}:\n{out[-3000:]}")
        time.sleep(1)
    pytest.fail(f"no {needle!r} after {timeout:.0f}s:\n{log.read_text(errors='replace')[-3000:]}")


def say(gateway_port: int, sender: str, message: str) -> str:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{gateway_port}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return "\n".join(r.get("text", "") for r in json.load(response))


def run_in(clone: Path, command: str, stdin: str = None) -> subprocess.CompletedProcess:
    return subprocess.run(shlex.split(command), cwd=clone, env=scrubbed_env(), input=stdin,
                          capture_output=True, text=True, timeout=120)


def count(db_url: str, query: str, **params) -> int:
    engine = create_engine(db_url, future=True)
    try:
        with engine.connect() as conn:
            return conn.execute(text(query), params).scalar_one()
    finally:
        engine.dispose()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # as Ctrl-C: the runner stops what it started
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_readme_production_steps_use_postgresql_everywhere(tmp_path):
    require_service("Redis", redis_up())
    steps = readme_steps()
    [dotenv_block], [start_block, staff_block], summary_block = steps["dotenv"], steps["bash"], steps["text"][0]
    assert start_block == ["make run"]
    example = parse_dotenv("\n".join(dotenv_block))
    with postgres_database() as (db_url, _name):
        redis_url = f"redis://{REDIS[0]}:{REDIS[1]}/6"
        ours = {example["HOTRO_DATABASE_URL"]: db_url, example["HOTRO_REDIS_URL"]: redis_url}
        clone = tmp_path / "hotro"
        clone.mkdir()
        copy_checkout(clone)
        ports = {"GATEWAY_PORT": free_port(), "RASA_PORT": free_port(), "ACTION_PORT": free_port()}
        settings = [line for line in dotenv_block]
        for theirs, mine in ours.items():
            settings = [line.replace(theirs, mine) for line in settings]
        # Free ports instead of 8000/5005/5055, which a running hotro may hold on this machine.
        settings += [f"{name}={port}" for name, port in ports.items()]
        (clone / ".env").write_text("\n".join(settings) + "\n", encoding="utf-8")

        log = tmp_path / "make-run.log"
        with log.open("wb") as out:
            make = subprocess.Popen(shlex.split(start_block[0]), cwd=clone, env=scrubbed_env(), stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        try:
            printed = wait_for(log, make, "hotro is running", timeout=420)
            assert "rasa train" not in printed and "pip install" not in printed
            for line in summary_block:
                for theirs, mine in ours.items():
                    line = line.replace(mask_url(theirs), mask_url(mine))
                assert line in printed.splitlines(), f"{line!r} not printed:\n{printed[-2000:]}"
            secrets = parse_dotenv((clone / ".env").read_text())
            assert secrets["HOTRO_DATABASE_URL"] == db_url and secrets["GATEWAY_PORT"] == str(ports["GATEWAY_PORT"])
            assert all(secrets.get(name) for name in ("RASA_TOKEN", "HOTRO_GATEWAY_SECRET", "HOTRO_ACTION_SECRET"))
            assert secrets["HOTRO_GATEWAY_SECRET"] not in printed

            sender = f"readme-{uuid.uuid4().hex[:8]}"
            gateway = ports["GATEWAY_PORT"]
            assert "DH100003" in say(gateway, sender, "tôi muốn khiếu nại đơn DH100003 bị giao sai màu")
            assert "Giao sai hàng" in say(gateway, sender, "đồng ý")
            code = re.search(r"KN-\d{6}", say(gateway, sender, "đúng rồi, gửi đi")).group(0)

            outputs: List[str] = []
            for command in staff_block:
                done = run_in(clone, command, stdin=f"{PASSWORD}\n{PASSWORD}\n" if "staff add" in command else None)
                assert done.returncode == 0, f"{command}: {done.stderr[-2000:]}"
                outputs.append(done.stdout)
            assert "staff member lan added" in outputs[0] and code in outputs[1]
            listed = run_in(clone, ".venv/bin/python -m bot tickets list --json")
            assert listed.returncode == 0, listed.stderr
            assert [(t["code"], t["order_number"]) for t in json.loads(listed.stdout)] == [(code, "DH100003")]
        finally:
            stop(make)

        # Everything went to the PostgreSQL database named in .env, nothing to the default SQLite file.
        assert not (clone / "var" / "hotro.db").exists()
        by_sender = "FROM {} JOIN conversations c ON c.id = {}.conversation_id WHERE c.sender_id = :s"
        assert count(db_url, "SELECT count(*) " + by_sender.format("tickets t", "t"), s=sender) == 1
        assert count(db_url, "SELECT count(*) " + by_sender.format("messages m", "m"), s=sender) >= 6
        assert count(db_url, "SELECT count(*) FROM events WHERE sender_id = :s", s=sender) > 10  # Rasa's tracker
        assert count(db_url, "SELECT count(*) FROM staff WHERE name = 'lan'") == 1


@pytest.mark.parametrize("entry", ["bot.gateway", "bot.action_server", "bot.runner"])
def test_a_service_on_an_unmigrated_database_stops_with_one_clear_line(entry):
    with postgres_database() as (url, name):
        with_password = url.replace("postgres@", "postgres:hunter2@", 1)  # trust auth ignores it
        env = dict(scrubbed_env(), HOTRO_DATABASE_URL=with_password, HOTRO_ENV_FILE=os.devnull,
                   GATEWAY_PORT=str(free_port()), ACTION_PORT=str(free_port()), RASA_PORT=str(free_port()))
        done = subprocess.run([sys.executable, "-m", entry], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 2
    said = [line for line in done.stderr.splitlines() if "not started" in line]
    assert len(said) == 1, done.stderr
    assert name in said[0] and "is not migrated" in said[0] and "python -m bot db upgrade" in said[0]
    assert "hunter2" not in done.stderr + done.stdout and "postgres:***@" in said[0]
    assert "running" not in done.stdout
