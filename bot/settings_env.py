"""One way to read settings: the process environment first, then the repository's `.env`.

Every entry point (`make run`, every `python -m bot …` command, the gateway, the action
server, the benchmark, `make shell`) calls load_dotenv() before it reads a setting. So a
URL written into `.env` reaches every process, and a variable set in the shell still wins
for one command (`HOTRO_DATABASE_URL=sqlite:///x.db python -m bot tickets list`).
HOTRO_ENV_FILE names another file (tests; several instances on one machine).

The format is the plain subset shells and Docker agree on: KEY=VALUE per line, optional
`export `, single or double quotes, `#` comments. No `$VAR` expansion: a password with a
`$` in it stays as written.
"""
from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path
from typing import Dict, List, MutableMapping, Optional, Sequence
from urllib.parse import urlsplit, urlunsplit

from bot.config import ROOT

ENV_FILE_VARIABLE = "HOTRO_ENV_FILE"
# Generated on first `make run`; each protects one internal door (see README, Security).
GENERATED_SECRETS = ("RASA_TOKEN", "HOTRO_GATEWAY_SECRET", "HOTRO_ACTION_SECRET")

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def env_file(environ: Optional[MutableMapping[str, str]] = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(ENV_FILE_VARIABLE) or ROOT / ".env")


def _value(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        inner = raw[1:-1]
        return inner.replace('\\"', '"').replace("\\\\", "\\") if raw[0] == '"' else inner
    # An unquoted value ends at " #": `KEY=value  # why` keeps only `value`.
    return re.split(r"\s+#", raw, maxsplit=1)[0]


def parse_dotenv(text: str, source: str = ".env") -> Dict[str, str]:
    values: Dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            # Said, not fatal: one typo must not stop a shop's bot, but it must not pass unseen either.
            print(f"{source}:{number}: ignored, not KEY=VALUE", file=sys.stderr)
            continue
        values[match.group(1)] = _value(match.group(2))
    return values


def load_dotenv(path: Optional[Path] = None, environ: Optional[MutableMapping[str, str]] = None) -> List[str]:
    """Fill `environ` from the file for keys it does not have; return the keys that came from the file."""
    environ = os.environ if environ is None else environ
    path = path or env_file(environ)
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        return []
    taken = []
    for key, value in parse_dotenv(text, str(path)).items():
        if key not in environ:
            environ[key] = value
            taken.append(key)
    return taken


def ensure_secrets(path: Path, names: Sequence[str] = GENERATED_SECRETS) -> List[str]:
    """Append a random value for each secret the file lacks (existing lines are never rewritten)."""
    existing = parse_dotenv(path.read_text(encoding="utf-8"), str(path)) if path.exists() else {}
    missing = [name for name in names if not existing.get(name)]
    if not missing:
        return []
    path.touch(mode=0o600, exist_ok=True)
    text = path.read_text(encoding="utf-8")
    with path.open("a", encoding="utf-8") as out:
        if text and not text.endswith("\n"):
            out.write("\n")
        for name in missing:
            out.write(f"{name}={secrets.token_urlsafe(32)}\n")
    return missing


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for logs and start-up lines."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}"))


def main(argv: Sequence[str]) -> int:
    if list(argv) != ["ensure-secrets"]:
        print("usage: python -m bot.settings_env ensure-secrets", file=sys.stderr)
        return 2
    path = env_file()
    for name in ensure_secrets(path):
        print(f"generated {name} into {path} (git-ignored; keep it secret)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
