"""deploy/: the systemd units the README's "Under systemd" section describes run the same processes as `make run`."""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest

from bot.config import ROOT
from bot.settings_env import ENV_FILE_VARIABLE

DEPLOY = ROOT / "deploy"
SERVICES = {"hotro-actions.service": "bot.action_server", "hotro-rasa@.service": "bot.rasa_run",
            "hotro-gateway.service": "bot.gateway"}
# One Rasa process per port (instance name); the target starts the first.
FIRST_RASA = "hotro-rasa@5005.service"


def unit(name: str) -> Dict[str, Dict[str, List[str]]]:
    """{section: {key: [values]}}: systemd allows a key several times (Environment=, Wants=)."""
    sections: Dict[str, Dict[str, List[str]]] = {}
    current = None
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def one(section: Dict[str, List[str]], key: str) -> str:
    assert len(section.get(key, [])) == 1, key
    return section[key][0]


def test_the_folder_holds_exactly_the_units_the_readme_names():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Under systemd"):readme.index("## Security")]
    named = set(re.findall(r"`(hotro[\w.@-]*\.(?:service|target))`", section))
    assert named == {path.name for path in DEPLOY.iterdir()} == set(SERVICES) | {"hotro.target"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_runs_its_part_and_restarts_it_as_described(name):
    service, section = unit(name)["Service"], unit(name)["Unit"]
    home = one(service, "WorkingDirectory")
    command = one(service, "ExecStart").split()
    port = ["--port", "%i"] if name.endswith("@.service") else []  # a template: its instance is the port
    assert command == [f"{home}/.venv/bin/python", "-m", SERVICES[name]] + port
    assert importlib.util.find_spec(SERVICES[name]) is not None  # the module exists under that name
    restart = [one(service, key) for key in ("Restart", "RestartSec", "RestartPreventExitStatus")]
    assert restart == ["always", "1", "2"]
    # Each process reads the settings file itself; EnvironmentFile= would parse it differently.
    assert "EnvironmentFile" not in service
    assert f"{ENV_FILE_VARIABLE}={home}/.env" in service["Environment"]
    assert one(service, "User") == "hotro" and one(service, "NoNewPrivileges") == "true"
    assert (one(section, "StartLimitBurst"), one(section, "StartLimitIntervalSec")) == ("5", "600")
    assert one(section, "PartOf") == "hotro.target"
    assert one(unit(name)["Install"], "WantedBy") == "hotro.target"


def test_the_target_starts_the_three_together():
    target = unit("hotro.target")
    wanted = {name for value in target["Unit"]["Wants"] for name in value.split()}
    assert wanted == set(SERVICES) - {"hotro-rasa@.service"} | {FIRST_RASA, "network-online.target"}
    assert one(target["Install"], "WantedBy") == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not on this machine")
def test_systemd_accepts_the_units(tmp_path: Path):
    """systemd's own check, with the interpreter and user of this machine in place of /srv/hotro's."""
    import sys
    for path in DEPLOY.iterdir():
        text = path.read_text(encoding="utf-8").replace("/srv/hotro/.venv/bin/python", sys.executable)
        (tmp_path / path.name).write_text(re.sub(r"^(User|Group)=hotro$", r"\1=root", text, flags=re.M))
    result = subprocess.run(["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.iterdir())],
                            capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if str(tmp_path) in line]
    assert result.returncode == 0 and problems == [], result.stdout + result.stderr
