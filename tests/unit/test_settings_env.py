"""Settings: the environment first, then .env, for every entry point."""
import json
import os
import stat
import subprocess
import sys

from bot.config import ROOT
from bot.settings_env import ensure_secrets, load_dotenv, mask_url, parse_dotenv
from bot.store.seed import prepare_demo_database


def test_the_file_format_is_the_plain_shell_subset():
    text = "\n".join([
        "# production settings",
        "HOTRO_DATABASE_URL=postgresql://hotro:p#ss@db:5432/hotro",
        "export HOTRO_REDIS_URL='redis://:s3cret@cache:6379/0'",
        'TELEGRAM_STAFF_CHAT_ID="-1001234"   ',
        "GATEWAY_PORT=8080  # behind nginx",
        'QUOTED="say \\"hi\\""',
        "EMPTY=",
        "",
        "not a setting",
    ])
    assert parse_dotenv(text) == {
        "HOTRO_DATABASE_URL": "postgresql://hotro:p#ss@db:5432/hotro",  # a # inside a value is not a comment
        "HOTRO_REDIS_URL": "redis://:s3cret@cache:6379/0",
        "TELEGRAM_STAFF_CHAT_ID": "-1001234",
        "GATEWAY_PORT": "8080",
        "QUOTED": 'say "hi"',
        "EMPTY": "",
    }


def test_the_environment_wins_and_the_file_fills_the_gaps(tmp_path):
    dotenv = tmp_path / "prod.env"
    dotenv.write_text("HOTRO_DATABASE_URL=postgresql://from-file/db\nRASA_TOKEN=file-token\n", encoding="utf-8")
    environ = {"HOTRO_ENV_FILE": str(dotenv), "RASA_TOKEN": "shell-token"}
    assert load_dotenv(environ=environ) == ["HOTRO_DATABASE_URL"]
    assert environ["RASA_TOKEN"] == "shell-token"
    assert environ["HOTRO_DATABASE_URL"] == "postgresql://from-file/db"
    assert load_dotenv(environ={"HOTRO_ENV_FILE": str(tmp_path / "missing.env")}) == []


def test_missing_secrets_are_appended_and_existing_lines_kept(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("RASA_TOKEN=keep-me\nHOTRO_DATABASE_URL=postgresql://db/hotro", encoding="utf-8")
    assert ensure_secrets(dotenv) == ["HOTRO_GATEWAY_SECRET", "HOTRO_ACTION_SECRET"]
    values = parse_dotenv(dotenv.read_text())
    assert values["RASA_TOKEN"] == "keep-me" and values["HOTRO_DATABASE_URL"] == "postgresql://db/hotro"
    assert len(values["HOTRO_GATEWAY_SECRET"]) >= 40 and values["HOTRO_GATEWAY_SECRET"] != values["HOTRO_ACTION_SECRET"]
    before = dotenv.read_text()
    assert ensure_secrets(dotenv) == [] and dotenv.read_text() == before

    fresh = tmp_path / "new.env"
    assert ensure_secrets(fresh) == ["RASA_TOKEN", "HOTRO_GATEWAY_SECRET", "HOTRO_ACTION_SECRET"]
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_passwords_are_masked():
    assert mask_url("postgresql://hotro:p%40ss@db:5432/hotro") == "postgresql://hotro:***@db:5432/hotro"
    assert mask_url("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert mask_url("postgresql://postgres@127.0.0.1/hotro") == "postgresql://postgres@127.0.0.1/hotro"
    assert mask_url("sqlite:////srv/hotro.db") == "sqlite:////srv/hotro.db"


def _bot(*args, env_file, stdin=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTRO_")}
    env["HOTRO_ENV_FILE"] = str(env_file)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_python_m_bot_uses_the_database_named_in_the_env_file(tmp_path):
    db = tmp_path / "from-dotenv.db"
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"HOTRO_DATABASE_URL=sqlite:///{db}\n", encoding="utf-8")
    upgraded = _bot("db", "upgrade", env_file=dotenv)
    assert upgraded.returncode == 0, upgraded.stderr
    assert db.exists() and str(db) in upgraded.stdout
    added = _bot("staff", "add", "lan", "--password-stdin", env_file=dotenv, stdin="a long password 123\n")
    assert added.returncode == 0, added.stderr
    listed = _bot("tickets", "list", "--json", env_file=dotenv)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM staff")).scalars().all() == ["lan"]
    engine.dispose()


def test_a_command_on_an_unmigrated_database_says_so_and_fails(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"HOTRO_DATABASE_URL=sqlite:///{tmp_path / 'empty.db'}\n", encoding="utf-8")
    listed = _bot("tickets", "list", env_file=dotenv)
    assert listed.returncode == 2
    assert "is not migrated" in listed.stderr and "python -m bot db upgrade" in listed.stderr
    assert len(listed.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "empty.db").exists()


def test_the_shell_variable_wins_over_the_env_file(tmp_path):
    good = tmp_path / "good.db"
    prepare_demo_database(f"sqlite:///{good}")
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"HOTRO_DATABASE_URL=sqlite:///{tmp_path / 'other.db'}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTRO_")}
    env.update(HOTRO_ENV_FILE=str(dotenv), HOTRO_DATABASE_URL=f"sqlite:///{good}")
    listed = subprocess.run([sys.executable, "-m", "bot", "tickets", "list"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "no tickets"
