"""How Rasa is started (bot/rasa_run.py): settings from the environment, the token never on a command line."""
from pathlib import Path

from bot.rasa_run import rasa_argv
from bot.runner import rasa_command


def test_the_command_line_carries_no_secret_and_rasa_gets_the_settings_inside():
    env = {"RASA_TOKEN": "tok-123", "HOTRO_INTERNAL_HOST": "10.0.0.5"}
    command = rasa_command(5005, Path("models/hotro.tar.gz"), Path("var/rasa-endpoints.yml"))
    assert command[1:3] == ["-m", "bot.rasa_run"] and "tok-123" not in " ".join(command)
    argv = rasa_argv(env, 5005, Path("m.tar.gz"), Path("e.yml"))
    assert argv[:3] == ["rasa", "run", "--enable-api"]
    assert argv[argv.index("--auth-token") + 1] == "tok-123"
    assert argv[argv.index("--interface") + 1] == "10.0.0.5"
    assert "--auth-token" not in rasa_argv({}, 5005, Path("m"), Path("e"))
