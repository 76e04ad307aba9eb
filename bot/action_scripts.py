"""Action scripts: per complaint category, the steps staff take and the replies they can send (scripts/*.yml).

The files are the source of truth, kept like faq/ (diff-friendly, edited by the
shop); scripts/README.md describes them. `python -m bot.action_scripts check`
lists every problem and exits 1 when there is one (`make test-data` runs it).
Saved replies carry placeholders ({ticket_code}, {order_number},
{customer_name}, {resolve_due}) that `fill` replaces with the ticket's values.
"""
from __future__ import annotations

import re
import string
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

import yaml

from bot.categories import CATEGORIES
from bot.config import Settings

LANGUAGES = ("vi", "en")
PLACEHOLDERS = ("ticket_code", "order_number", "customer_name", "resolve_due")
# How a reply addresses a customer whose name nobody knows.
NAMELESS = {"vi": "anh/chị", "en": "there"}
SCRIPT_KEYS = {"category", "steps", "replies"}
STEP_KEYS = {"id", "vi", "en"}
REPLY_KEYS = {"id", "title", "vi", "en"}
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
MAX_TEXT = 2000


@dataclass(frozen=True)
class Step:
    id: str
    text: Mapping[str, str]  # by language


@dataclass(frozen=True)
class SavedReply:
    id: str
    title: str
    text: Mapping[str, str]  # by language, with placeholders


@dataclass(frozen=True)
class ActionScript:
    category: str
    steps: Tuple[Step, ...]
    replies: Tuple[SavedReply, ...]

    def step_ids(self) -> Tuple[str, ...]:
        return tuple(step.id for step in self.steps)


class ScriptError(Exception):
    pass


def scripts_dir() -> Path:
    return Settings.from_env().scripts_dir


def _texts(value, where: str, problems: List[str]) -> Dict[str, str]:
    texts = {}
    for language in LANGUAGES:
        text = value.get(language) if isinstance(value, dict) else None
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: '{language}' must be non-empty text (both vi and en are required)")
        elif len(text) > MAX_TEXT:
            problems.append(f"{where}: '{language}' is longer than {MAX_TEXT} characters")
        else:
            texts[language] = text.strip()
    return texts


def _placeholder_problems(text: str, where: str) -> List[str]:
    try:
        names = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError as exc:
        return [f"{where}: {exc} (write a brace as {{{{ or }}}})"]
    return [f"{where}: unknown placeholder {{{name}}} (allowed: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
            for name in names if name not in PLACEHOLDERS]


def _items(data: dict, key: str, allowed: set, where: str, problems: List[str]) -> List[dict]:
    items = data.get(key)
    if not isinstance(items, list) or not items:
        problems.append(f"{where}: '{key}' must be a non-empty list")
        return []
    seen = set()
    good = []
    for n, item in enumerate(items, 1):
        place = f"{where}: {key} #{n}"
        if not isinstance(item, dict):
            problems.append(f"{place} must be a mapping with {', '.join(sorted(allowed))}")
            continue
        for extra in sorted(set(item) - allowed):
            problems.append(f"{place}: unknown key '{extra}' (allowed: {', '.join(sorted(allowed))})")
        item_id = item.get("id")
        if not isinstance(item_id, str) or not _ID.match(item_id):
            problems.append(f"{place}: id must be lowercase letters, digits and dashes (at most 60)")
            continue
        if item_id in seen:
            problems.append(f"{place}: id '{item_id}' is used twice in {key}")
            continue
        seen.add(item_id)
        good.append(item)
    return good


def parse_script(path: Path) -> Tuple[Optional[ActionScript], List[str]]:
    """The script in one file, and every problem in it (None when it cannot be used)."""
    where = path.name
    problems: List[str] = []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [f"{where}: cannot read it as YAML ({type(exc).__name__}: {str(exc).splitlines()[0]})"]
    if not isinstance(data, dict):
        return None, [f"{where}: must be a mapping with category, steps and replies"]
    for extra in sorted(set(data) - SCRIPT_KEYS):
        problems.append(f"{where}: unknown key '{extra}' (allowed: {', '.join(sorted(SCRIPT_KEYS))})")
    category = data.get("category")
    if category not in CATEGORIES:
        problems.append(f"{where}: category must be one of {', '.join(CATEGORIES)}")
    elif path.stem != category:
        problems.append(f"{where}: the file of category '{category}' must be named {category}.yml")
    steps = []
    for item in _items(data, "steps", STEP_KEYS, where, problems):
        steps.append(Step(item["id"], _texts(item, f"{where}: step '{item['id']}'", problems)))
    replies = []
    for item in _items(data, "replies", REPLY_KEYS, where, problems):
        place = f"{where}: reply '{item['id']}'"
        title = item.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 200:
            problems.append(f"{place}: title must be non-empty text of at most 200 characters")
            title = item["id"]
        texts = _texts(item, place, problems)
        for language, text in texts.items():
            problems.extend(_placeholder_problems(text, f"{place} ({language})"))
        replies.append(SavedReply(item["id"], title.strip(), texts))
    if problems:
        return None, problems
    return ActionScript(category, tuple(steps), tuple(replies)), []


def check_directory(directory: Path) -> List[str]:
    """Every problem with the scripts in `directory`: bad files, and categories with no script."""
    if not directory.is_dir():
        return [f"{directory}: no such folder (HOTRO_SCRIPTS_DIR)"]
    problems: List[str] = []
    found = set()
    for path in sorted(directory.glob("*.yml")):
        script, file_problems = parse_script(path)
        problems.extend(file_problems)
        if script is not None:
            found.add(script.category)
    for category in CATEGORIES:
        if category not in found and not any(p.startswith(f"{category}.yml:") for p in problems):
            problems.append(f"{category}.yml: no action script for category '{category}'")
    return problems


def load_scripts(directory: Optional[Path] = None) -> Dict[str, ActionScript]:
    """Every category's script; ScriptError naming the problems when the files are not right."""
    directory = directory or scripts_dir()
    problems = check_directory(directory)
    if problems:
        raise ScriptError("; ".join(problems))
    return {script.category: script for script in
            (parse_script(path)[0] for path in sorted(directory.glob("*.yml")))}


def fill(text: str, values: Mapping[str, Optional[str]], language: str) -> Tuple[str, List[str]]:
    """The reply with its placeholders replaced, and the placeholders with no value (left as written, for
    the staff member to complete before sending). A nameless customer is addressed politely instead."""
    missing = []

    def value(name: str) -> str:
        known = values.get(name)
        if known:
            return str(known)
        if name == "customer_name":
            return NAMELESS.get(language, NAMELESS["vi"])
        missing.append(name)
        return "{" + name + "}"

    parts = []
    for literal, field, _spec, _conversion in string.Formatter().parse(text):
        parts.append(literal)
        if field is not None:
            parts.append(value(field))
    return "".join(parts), missing


def main(argv: List[str]) -> int:
    if argv[:1] != ["check"]:
        print("usage: python -m bot.action_scripts check [DIRECTORY]", file=sys.stderr)
        return 2
    directory = Path(argv[1]) if len(argv) > 1 else scripts_dir()
    problems = check_directory(directory)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{directory}: {len(CATEGORIES)} action scripts OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
