"""Reading faq/*.yml strictly, with `file:line` for every problem an editor must fix."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.text import nfc

LANGUAGES = ("vi", "en")
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ENTRY_KEYS = {"id", "reviewed", "tags", "questions", "answer", "links"}
REQUIRED_KEYS = ("id", "reviewed", "questions", "answer")


@dataclass(frozen=True)
class FaqLink:
    """A link under an answer, with its title in each language the editor wrote one in."""

    url: str
    titles: Tuple[Tuple[str, str], ...] = ()  # (language, title)

    def title(self, language: str) -> Optional[str]:
        """The title in the customer's language; None rather than another language's title
        (an English answer shows the bare link, never a Vietnamese title)."""
        return dict(self.titles).get(language)

    def __iter__(self):
        # Older callers unpack (title, url); they get the Vietnamese title, as before.
        return iter((self.title("vi") or "", self.url))


@dataclass(frozen=True)
class FaqEntry:
    id: str
    questions: Dict[str, Tuple[str, ...]]
    answer: Dict[str, str]
    reviewed: Optional[dt.date]
    tags: Tuple[str, ...] = ()
    links: Tuple[FaqLink, ...] = ()
    file: str = ""
    line: int = 0

    def question_lines(self) -> List[Tuple[str, str]]:
        return [(lang, q) for lang in LANGUAGES for q in self.questions.get(lang, ())]


@dataclass(frozen=True)
class FaqProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class FileResult:
    entries: List[FaqEntry] = field(default_factory=list)
    problems: List[FaqProblem] = field(default_factory=list)


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: MappingNode) -> Dict[str, Tuple[Node, Node]]:
    return {k.value: (k, v) for k, v in node.value if isinstance(k, ScalarNode)}


def _strings(node: Node, where: str, file: str, problems: List[FaqProblem]) -> List[str]:
    if not isinstance(node, SequenceNode):
        problems.append(FaqProblem(file, _line(node), f"{where} must be a list"))
        return []
    values = []
    for item in node.value:
        if not isinstance(item, ScalarNode) or not str(item.value).strip():
            problems.append(FaqProblem(file, _line(item), f"{where}: each item must be non-empty text"))
            continue
        values.append(nfc(str(item.value).strip()))
    return values


def _entry(node: Node, file: str, problems: List[FaqProblem]) -> Optional[FaqEntry]:
    if not isinstance(node, MappingNode):
        problems.append(FaqProblem(file, _line(node), "each entry must be a mapping with id, questions, answer"))
        return None
    fields = _mapping(node)
    before = len(problems)
    for key, (knode, _) in fields.items():
        if key not in ENTRY_KEYS:
            problems.append(FaqProblem(file, _line(knode), f"unknown key '{key}' (allowed: {', '.join(sorted(ENTRY_KEYS))})"))
    for key in REQUIRED_KEYS:
        if key not in fields:
            problems.append(FaqProblem(file, _line(node), f"entry is missing '{key}'"))
    if len(problems) > before and any(k not in fields for k in REQUIRED_KEYS):
        return None

    id_node = fields["id"][1]
    entry_id = str(id_node.value) if isinstance(id_node, ScalarNode) else ""
    if not ID_PATTERN.match(entry_id):
        problems.append(FaqProblem(file, _line(id_node), f"id '{entry_id}' must be lowercase letters, digits and dashes"))

    reviewed_node = fields["reviewed"][1]
    reviewed = None
    try:
        reviewed = dt.date.fromisoformat(str(reviewed_node.value))
    except (ValueError, TypeError):
        problems.append(FaqProblem(file, _line(reviewed_node), "reviewed must be a date like 2026-11-20"))

    questions: Dict[str, Tuple[str, ...]] = {}
    qnode = fields["questions"][1]
    if isinstance(qnode, MappingNode):
        qfields = _mapping(qnode)
        for lang in LANGUAGES:
            if lang not in qfields:
                problems.append(FaqProblem(file, _line(qnode), f"questions.{lang} is missing (both vi and en are required)"))
                continue
            values = _strings(qfields[lang][1], f"questions.{lang}", file, problems)
            if not values:
                problems.append(FaqProblem(file, _line(qfields[lang][1]), f"questions.{lang} needs at least one question"))
            questions[lang] = tuple(values)
    else:
        problems.append(FaqProblem(file, _line(qnode), "questions must have vi: and en: lists"))

    answer: Dict[str, str] = {}
    anode = fields["answer"][1]
    if isinstance(anode, MappingNode):
        afields = _mapping(anode)
        for lang in LANGUAGES:
            value = afields.get(lang, (None, None))[1]
            text = nfc(str(value.value)).strip() if isinstance(value, ScalarNode) and value.value else ""
            if not text:
                problems.append(FaqProblem(file, _line(anode), f"answer.{lang} is missing or empty (both vi and en are required)"))
            answer[lang] = text
    else:
        problems.append(FaqProblem(file, _line(anode), "answer must have vi: and en: texts"))

    tags: List[str] = []
    if "tags" in fields:
        tags = _strings(fields["tags"][1], "tags", file, problems)
    links: List[FaqLink] = []
    if "links" in fields:
        lnode = fields["links"][1]
        if isinstance(lnode, SequenceNode):
            for item in lnode.value:
                link = _link(item, file, problems)
                if link:
                    links.append(link)
        else:
            problems.append(FaqProblem(file, _line(lnode), "links must be a list of {title: {vi, en}, url}"))

    if len(problems) > before:
        return None
    return FaqEntry(entry_id, questions, answer, reviewed, tuple(tags), tuple(links), file, _line(node))


def _link(item: Node, file: str, problems: List[FaqProblem]) -> Optional[FaqLink]:
    """`title: {vi: ..., en: ...}`; a plain `title: ...` is the Vietnamese title (the older form)."""
    lf = _mapping(item) if isinstance(item, MappingNode) else {}
    title, url = lf.get("title", (None, None))[1], lf.get("url", (None, None))[1]
    if not (isinstance(url, ScalarNode) and str(url.value).startswith(("http://", "https://"))):
        problems.append(FaqProblem(file, _line(item), "each link needs a title and an http(s) url"))
        return None
    titles: List[Tuple[str, str]] = []
    if isinstance(title, ScalarNode) and str(title.value).strip():
        titles.append(("vi", nfc(str(title.value)).strip()))
    elif isinstance(title, MappingNode):
        tfields = _mapping(title)
        for key, (knode, _) in tfields.items():
            if key not in LANGUAGES:
                problems.append(FaqProblem(file, _line(knode), f"link title language '{key}' (allowed: vi, en)"))
        for lang in LANGUAGES:
            value = tfields.get(lang, (None, None))[1]
            if isinstance(value, ScalarNode) and str(value.value).strip():
                titles.append((lang, nfc(str(value.value)).strip()))
    if not titles:
        problems.append(FaqProblem(file, _line(item), "each link needs a title and an http(s) url"))
        return None
    return FaqLink(str(url.value), tuple(titles))


def link_warnings(entry: FaqEntry) -> List[FaqProblem]:
    """Links an English (or Vietnamese) answer would show without a title."""
    found = []
    for link in entry.links:
        missing = [lang for lang in LANGUAGES if not link.title(lang)]
        if missing:
            found.append(FaqProblem(entry.file, entry.line, f"link {link.url} of '{entry.id}' has no "
                                    f"{'/'.join(missing)} title: answers in that language show the bare link; "
                                    "write title: {vi: ..., en: ...}"))
    return found


def load_file(path: Path, display_name: Optional[str] = None) -> FileResult:
    name = display_name or path.name
    result = FileResult()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        result.problems.append(FaqProblem(name, 1, f"cannot read the file: {exc}"))
        return result
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        result.problems.append(FaqProblem(name, line, f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return result
    if root is None:
        result.problems.append(FaqProblem(name, 1, "the file is empty; it needs 'entries:'"))
        return result
    fields = _mapping(root) if isinstance(root, MappingNode) else {}
    if "entries" not in fields or not isinstance(fields["entries"][1], SequenceNode):
        result.problems.append(FaqProblem(name, _line(root), "the file needs a top-level 'entries:' list"))
        return result
    for node in fields["entries"][1].value:
        entry = _entry(node, name, result.problems)
        if entry:
            result.entries.append(entry)
    return result


def faq_files(directory: Path) -> List[Path]:
    return sorted(p for p in directory.glob("*.yml") if p.is_file()) + sorted(
        p for p in directory.glob("*.yaml") if p.is_file()
    )


def duplicate_id_problems(entries: List[FaqEntry]) -> List[FaqProblem]:
    seen: Dict[str, FaqEntry] = {}
    problems = []
    for entry in entries:
        if entry.id in seen:
            first = seen[entry.id]
            problems.append(FaqProblem(entry.file, entry.line, f"duplicate id '{entry.id}' (also at {first.file}:{first.line})"))
        else:
            seen[entry.id] = entry
    return problems
