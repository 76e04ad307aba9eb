"""Reading and writing one FAQ topic file (faq/<topic>.yml) the way a person would edit it.

The files stay the source of truth and are still edited by hand, so the desk's editor changes
them through ruamel.yaml's round trip: comments, key order, quoting and the `|` answer blocks
of everything it does not touch come back byte for byte, and an edit shows in `git diff` as
the lines that changed. Values are always dumped by the library, never pasted into YAML text,
so nothing an editor types can become a key or a second entry.

Reading is done apart, the way the FAQ's loader reads (PyYAML's node tree, every scalar as the
text written, with libyaml when present): thirty times faster than ruamel's round trip, and what
the desk shows and versions is what the bot serves.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString, SingleQuotedScalarString
import yaml as pyyaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from bot.faq.loader import LANGUAGES

TOPIC_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_TOPIC_CHARS = 60
SUFFIXES = (".yml", ".yaml")
# The order a new entry's keys are written in, as in faq/README.md's example.
KEY_ORDER = ("id", "reviewed", "tags", "questions", "answer", "links")
_TOP_LEVEL_ITEM = re.compile(r"^  - ")
_YAML11 = Resolver()  # PyYAML's, which the FAQ loader and most tools use
_FAST_LOADER = getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)


class DocumentError(Exception):
    """The file cannot be read as YAML with an `entries:` list: it must be fixed by hand first."""


def _yaml() -> YAML:
    yaml = YAML()  # round trip
    yaml.indent(mapping=2, sequence=4, offset=2)  # the style of faq/*.yml: "  - id:", "        - question"
    yaml.width = 100000  # never fold a long question or answer onto several lines
    yaml.preserve_quotes = True
    return yaml


def valid_topic(topic: str) -> bool:
    return isinstance(topic, str) and len(topic) <= MAX_TOPIC_CHARS and bool(TOPIC_PATTERN.match(topic))


def topic_files(directory: Path) -> Dict[str, Path]:
    """Topic name (the file name without .yml) -> file, for every file the loader reads."""
    found: Dict[str, Path] = {}
    for suffix in SUFFIXES:
        for path in sorted(directory.glob("*" + suffix)) if directory.is_dir() else []:
            if path.is_file():
                found.setdefault(path.name[: -len(suffix)], path)
    return found


def new_topic_file(directory: Path, topic: str) -> Path:
    """Where a new topic goes. The name is checked against TOPIC_PATTERN (letters, digits, dashes), so it
    cannot leave the folder ("../x", "/etc/x", "a/b") or name a hidden file."""
    if not valid_topic(topic):
        raise ValueError("a topic is lowercase letters, digits and dashes (e.g. mua-si), at most 60 characters")
    path = directory / f"{topic}.yml"
    if path.resolve().parent != directory.resolve():
        raise ValueError("a topic file must be inside the FAQ folder")
    return path


class Document:
    """One topic file loaded for editing."""

    def __init__(self, path: Path, text: Optional[str] = None):
        self.path = path
        self.text = path.read_text(encoding="utf-8") if text is None else text
        try:
            self.data = _yaml().load(self.text)
        except YAMLError as exc:
            raise DocumentError(f"{path.name}: not valid YAML: {exc}") from exc
        if self.data is None and not self.text.strip():
            self.data = CommentedMap([("entries", CommentedSeq())])
        if not isinstance(self.data, CommentedMap) or not isinstance(self.data.get("entries"), CommentedSeq):
            raise DocumentError(f"{path.name}: the file needs a top-level 'entries:' list")

    @classmethod
    def new(cls, path: Path, title: str) -> "Document":
        # A one-line comment names the topic, as in the shipped files ("# Giao hàng / Delivery").
        header = "".join(f"# {line}\n" for line in title.splitlines() if line.strip())
        return cls(path, header + "entries: []\n")

    @property
    def entries(self) -> CommentedSeq:
        return self.data["entries"]

    def index_of(self, entry_id: str) -> Optional[int]:
        for i, node in enumerate(self.entries):
            if isinstance(node, CommentedMap) and str(node.get("id")) == entry_id:
                return i
        return None

    def set_entry(self, fields: Dict[str, Any]) -> int:
        """Write `fields` (plain values: id, reviewed, tags, questions, answer, links) into the entry with that id,
        or append a new entry. Only what changed is replaced, so untouched lines and comments stay. Its index."""
        index = self.index_of(fields["id"])
        if index is None:
            node = CommentedMap()
            for key in KEY_ORDER:
                if key in fields and not _empty_optional(key, fields[key]):
                    node[key] = _node(key, fields[key])
            self._flow_style_for_empty_list()
            self.entries.append(node)
            return len(self.entries) - 1
        node = self.entries[index]
        for key in KEY_ORDER[1:]:
            if key not in fields:
                continue
            if _empty_optional(key, fields[key]):
                node.pop(key, None)
            elif key in ("questions", "answer") and isinstance(node.get(key), CommentedMap):
                # Per language, so a comment on one language's list or a key the editor does not know stays.
                for lang, value in fields[key].items():
                    if plain(node[key].get(lang)) != value:
                        node[key][lang] = _node(key, {lang: value})[lang]
            elif plain(node.get(key)) != fields[key]:
                _put(node, key, _node(key, fields[key]))
        return index

    def remove(self, entry_id: str) -> int:
        index = self.index_of(entry_id)
        if index is None:
            raise KeyError(entry_id)
        del self.entries[index]
        return index

    def _flow_style_for_empty_list(self) -> None:
        # "entries: []" (a new topic, or all retired) becomes a block list when the first entry arrives.
        self.entries.fa.set_block_style()

    def render(self, around: Optional[int] = None) -> str:
        out = io.StringIO()
        _yaml().dump(self.data, out)
        lines = out.getvalue().rstrip("\n").split("\n")
        if around is not None:
            lines = _blank_line_before_items(lines, {around, around + 1})
        return "\n".join(lines) + "\n"


def _put(node: CommentedMap, key: str, value: Any) -> None:
    if key in node:
        node[key] = value
        return
    # A key the entry did not have goes where KEY_ORDER puts it, not at the end.
    later = [k for k in KEY_ORDER[KEY_ORDER.index(key) + 1:] if k in node]
    position = list(node.keys()).index(later[0]) if later else len(node)
    node.insert(position, key, value)


def _empty_optional(key: str, value: Any) -> bool:
    return key in ("tags", "links") and not value


def _text(value: str) -> Any:
    """A string that every YAML reader reads back as that string. ruamel (YAML 1.2) quotes what 1.2 would
    read as another type, but writes `yes`, `no`, `on`, `off` bare, which YAML 1.1 readers (PyYAML, many
    tools) take for booleans: those are quoted too."""
    if _YAML11.resolve(ScalarNode, value, (True, False)) != "tag:yaml.org,2002:str":
        return SingleQuotedScalarString(value)
    return value


def _node(key: str, value: Any) -> Any:
    if key == "reviewed":
        return dt.date.fromisoformat(value)
    if key == "tags":
        seq = CommentedSeq(_text(t) for t in value)
        seq.fa.set_flow_style()  # tags: [giao-hang, delivery]
        return seq
    if key == "questions":
        return CommentedMap((lang, CommentedSeq(_text(q) for q in items)) for lang, items in value.items())
    if key == "answer":
        # A `|` block, as editors write answers by hand; the trailing newline keeps it `|` rather than `|-`.
        return CommentedMap((lang, LiteralScalarString(text.rstrip("\n") + "\n")) for lang, text in value.items())
    if key == "links":
        return CommentedSeq(
            CommentedMap([("title", CommentedMap((k, _text(v)) for k, v in link["title"].items())
                           if isinstance(link["title"], dict) else _text(link["title"])), ("url", _text(link["url"]))])
            for link in value
        )
    return value


def _blank_line_before_items(lines: List[str], wanted: set) -> List[str]:
    """Entries are separated by a blank line in hand-written files; a new or replaced entry loses the one
    ruamel kept on the node it replaced, so it is put back before the entries around the edit."""
    out: List[str] = []
    item = -1
    for line in lines:
        if _TOP_LEVEL_ITEM.match(line):
            item += 1
            if item in wanted and item > 0 and out and out[-1].strip() and not out[-1].lstrip().startswith("#"):
                out.append("")
        out.append(line)
    return out


def plain(node: Any) -> Any:
    """ruamel's nodes as plain values (dates as YYYY-MM-DD), to tell whether an edit changes a field."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [plain(v) for v in node]
    if isinstance(node, (dt.date, dt.datetime)):
        return node.isoformat()
    if isinstance(node, str):
        return str(node).rstrip("\n")
    return node


def title_of(text: str) -> str:
    """The comment a topic file starts with ("# Giao hàng / Delivery")."""
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
        if line.strip():
            break
    return ""


def read_entries(text: str) -> List[Dict[str, Any]]:
    """The entries of a topic file as plain values, each scalar the text written (as the FAQ's loader reads it:
    `yes` is "yes", a date "2026-11-26"), an answer block without its last newline. DocumentError if the
    file is not YAML with an `entries:` list."""
    try:
        root = pyyaml.compose(text, Loader=_FAST_LOADER)
    except pyyaml.YAMLError as exc:
        raise DocumentError(f"not valid YAML: {exc}") from exc
    if root is None and not text.strip():
        return []
    entries = dict((k.value, v) for k, v in root.value if isinstance(k, ScalarNode)).get("entries") \
        if isinstance(root, MappingNode) else None
    if not isinstance(entries, SequenceNode):
        raise DocumentError("the file needs a top-level 'entries:' list")
    return [_plain_node(node) for node in entries.value if isinstance(node, MappingNode)]


def _plain_node(node: Any) -> Any:
    if isinstance(node, MappingNode):
        return {str(k.value) if isinstance(k, ScalarNode) else "?": _plain_node(v) for k, v in node.value}
    if isinstance(node, SequenceNode):
        return [_plain_node(v) for v in node.value]
    return str(node.value).rstrip("\n")


def field_lines(text: str, entry_id: str) -> Tuple[List[Tuple[int, str, Optional[int]]], Optional[int]]:
    """(line, field, item) for each part of the entry in `text`, lines from 1, in file order, and the line
    where the next entry starts (None for the last): to put a `faq check` problem (file:line) at the field
    of the desk's form it is about."""
    try:
        entries = _yaml().load(text)["entries"]
    except (YAMLError, TypeError, KeyError):
        return [], None
    position = next((i for i, e in enumerate(entries) if isinstance(e, CommentedMap) and str(e.get("id")) == entry_id),
                    None)
    if position is None:
        return [], None
    node = entries[position]
    end = entries.lc.item(position + 1)[0] + 1 if position + 1 < len(entries) else None
    found: List[Tuple[int, str, Optional[int]]] = []
    for key in node:
        line = node.lc.key(key)[0] + 1
        value = node[key]
        if key in ("questions", "answer") and isinstance(value, CommentedMap):
            found.append((line, key, None))
            for lang in value:
                found.append((value.lc.key(lang)[0] + 1, f"{key}.{lang}", None))
                items = value[lang]
                if isinstance(items, CommentedSeq):
                    found.extend((items.lc.item(i)[0] + 1, f"{key}.{lang}", i) for i in range(len(items)))
        elif isinstance(value, CommentedSeq) and key == "links":
            found.append((line, key, None))
            found.extend((value.lc.item(i)[0] + 1, key, i) for i in range(len(value)))
        else:
            found.append((line, str(key), None))
    return sorted(found), end


__all__ = ["Document", "DocumentError", "LANGUAGES", "field_lines", "new_topic_file", "plain", "read_entries",
           "title_of", "topic_files", "valid_topic"]
