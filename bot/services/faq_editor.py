"""Editing the FAQ from the desk and the staff API: the rules, without HTTP.

- The YAML files in the FAQ folder (HOTRO_FAQ_DIR) stay the source of truth; a save rewrites
  one topic file through bot/faq/document.py (comments and order kept) and the bot's library
  reloads it by itself (bot/faq/library.py checks the folder every second).
- Every save is checked exactly like `python -m bot faq check`, on the whole folder as it would
  be after the save; a refused save changes nothing on disk and says which field is wrong.
- Each save is recorded in faq_revisions (who, when, before and after), from which an earlier
  version can be restored.
- An entry's `version` is a hash of what the file holds for it. A save names the version it
  started from; if the file changed since (another editor, or someone by hand), it is refused
  as a conflict instead of silently overwriting that change.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.faq.check import check_directory
from bot.faq.document import (
    Document, DocumentError, field_lines, new_topic_file, read_entries, title_of, topic_files, valid_topic,
)
from bot.faq.loader import ID_PATTERN, LANGUAGES, FaqProblem
from bot.store.db import session_scope
from bot.store.models import FaqRevision, utcnow
from bot.text import fold, nfc
from bot.timefmt import VIETNAM

# Sizes an editor never needs to exceed: a shipped entry has about 30 questions per language and
# answers of a few hundred characters.
MAX_ID_CHARS = 80
MAX_QUESTIONS = 100
MAX_QUESTION_CHARS = 300
MAX_ANSWER_CHARS = 4000
MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_LINKS = 10
MAX_TITLE_CHARS = 200
MAX_URL_CHARS = 500
MAX_TOPIC_TITLE_CHARS = 100
EDITABLE = ("questions", "answer", "tags", "links")
LOCK_FILE = ".faq-editor.lock"
# Bidirectional overrides and isolates: they make text display differently from what it is.
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_URL = re.compile(r"^https?://[^\s<>\"']+$")


class FaqEditError(Exception):
    pass


class EntryNotFound(FaqEditError):
    pass


class FaqInvalid(FaqEditError):
    """The save would break the FAQ: `fields` maps a form field (id, topic, questions.vi, answer.en, tags,
    links, entry) to what is wrong with it; `warnings` likewise, for what `faq check` only warns about."""

    def __init__(self, fields: Dict[str, List[str]], warnings: Optional[Dict[str, List[str]]] = None):
        super().__init__("; ".join(f"{k}: {m}" for k, ms in fields.items() for m in ms))
        self.fields = fields
        self.warnings = warnings or {}


class FaqConflict(FaqEditError):
    """The entry changed since the editor opened it. `current` is what it is now (None: retired)."""

    def __init__(self, message: str, current: Optional["EditableEntry"]):
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class EditableEntry:
    topic: str
    entry: Dict[str, Any]
    version: str

    def as_dict(self) -> Dict[str, Any]:
        return {"topic": self.topic, "entry": self.entry, "version": self.version}


@dataclass(frozen=True)
class Saved:
    entry: EditableEntry
    revision: int
    warnings: Dict[str, List[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Revision:
    id: int
    faq_id: str
    action: str
    author: str
    created_at: datetime
    before: Optional[Dict[str, Any]]
    after: Optional[Dict[str, Any]]

    def as_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "faq_id": self.faq_id, "action": self.action, "author": self.author,
                "at": self.created_at.isoformat() + "Z", "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Topic:
    name: str
    title: str
    entries: List[Dict[str, Any]]
    problem: Optional[str] = None


def version_of(topic: str, entry: Dict[str, Any]) -> str:
    canonical = json.dumps({"topic": topic, "entry": entry}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


# -- what an editor sends ---------------------------------------------------------------------------


def _text_problem(text: str, multiline: bool) -> Optional[str]:
    for ch in text:
        if ch in _BIDI:
            return "contains an invisible direction-changing character (U+%04X)" % ord(ch)
        if unicodedata.category(ch) == "Cs":  # half of a character: no file can hold it (JSON can send one)
            return "contains a broken character (U+%04X)" % ord(ch)
        if unicodedata.category(ch) == "Cc" and not (multiline and ch == "\n"):
            return "contains a control character (U+%04X)" % ord(ch)
        if unicodedata.category(ch) in ("Zl", "Zp"):  # line breaks to YAML 1.1 readers, not to the eye
            return "contains a line or paragraph separator (U+%04X): use a new line" % ord(ch)
    return None


def _clean_text(value: Any, where: str, limit: int, errors: Dict[str, List[str]], multiline: bool = False,
                label: str = "") -> Optional[str]:
    if not isinstance(value, str):
        errors.setdefault(where, []).append(f"{label}must be text")
        return None
    text = nfc(value).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip() if multiline else text.strip()
    if len(text) > limit:
        errors.setdefault(where, []).append(f"{label}is {len(text)} characters; at most {limit}")
        return None
    problem = _text_problem(text, multiline)
    if problem:
        errors.setdefault(where, []).append(label + problem)
        return None
    return text


def clean_entry(body: Any, errors: Dict[str, List[str]]) -> Dict[str, Any]:
    """The editable fields of an entry from a request, checked for type, size and hostile characters.
    Whether the entry is complete (both languages, at least one question…) is left to the FAQ's own
    loader, so the desk refuses exactly what `faq check` refuses."""
    if not isinstance(body, dict):
        errors.setdefault("entry", []).append("the entry must be an object")
        return {}
    for key in body:
        if key not in EDITABLE + ("id", "reviewed"):
            errors.setdefault("entry", []).append(f"unknown field '{str(key)[:40]}'")
    out: Dict[str, Any] = {}
    questions = _per_language(body, "questions", "a vi and an en list", errors)
    out["questions"] = {}
    for lang in LANGUAGES:
        where = f"questions.{lang}"
        items = questions.get(lang, [])
        if not isinstance(items, list):
            errors.setdefault(where, []).append("must be a list of questions")
            continue
        if len(items) > MAX_QUESTIONS:
            errors.setdefault(where, []).append(f"{len(items)} questions; at most {MAX_QUESTIONS}")
            continue
        cleaned = [_clean_text(q, where, MAX_QUESTION_CHARS, errors, label=f"question {i + 1} ")
                   for i, q in enumerate(items)]
        out["questions"][lang] = [q for q in cleaned if q is not None]
    answer = _per_language(body, "answer", "a vi and an en text", errors)
    out["answer"] = {}
    for lang in LANGUAGES:
        text = _clean_text(answer.get(lang, ""), f"answer.{lang}", MAX_ANSWER_CHARS, errors, multiline=True)
        out["answer"][lang] = text or ""
    tags = body.get("tags", [])
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        errors.setdefault("tags", []).append(f"a list of at most {MAX_TAGS} tags")
        tags = []
    out["tags"] = []
    for tag in tags:
        text = _clean_text(tag, "tags", MAX_TAG_CHARS, errors, label="a tag ")
        if text and ("," in text or ":" in text or "#" in text):
            errors.setdefault("tags", []).append(f"tag {text!r}: no commas, colons or #")
        elif text:
            out["tags"].append(text)
    out["links"] = _clean_links(body.get("links", []), errors)
    return out


def _per_language(body: Dict[str, Any], key: str, what: str, errors: Dict[str, List[str]]) -> Dict[str, Any]:
    value = body.get(key, {})
    if not isinstance(value, dict) or set(value) - set(LANGUAGES):
        errors.setdefault("entry", []).append(f"{key} has {what}")
        return {}
    return value


def _clean_links(links: Any, errors: Dict[str, List[str]]) -> List[Dict[str, Any]]:
    if not isinstance(links, list) or len(links) > MAX_LINKS:
        errors.setdefault("links", []).append(f"a list of at most {MAX_LINKS} links")
        return []
    out = []
    for i, link in enumerate(links):
        label = f"link {i + 1}: "
        if not isinstance(link, dict) or set(link) - {"title", "url"}:
            errors.setdefault("links", []).append(label + "a link has a title and a url")
            continue
        url = _clean_text(link.get("url", ""), "links", MAX_URL_CHARS, errors, label=label + "the url ")
        if url is not None and not _URL.match(url):
            errors.setdefault("links", []).append(label + "the url must start with https:// (or http://)")
            continue
        raw_title = link.get("title", "")
        if isinstance(raw_title, dict):
            # Titles in both languages: kept as the editor gave them; the FAQ's loader decides whether it reads them.
            title: Any = {}
            for lang, text in raw_title.items():
                if lang not in LANGUAGES:
                    errors.setdefault("links", []).append(label + "a title has vi and en")
                    continue
                cleaned = _clean_text(text, "links", MAX_TITLE_CHARS, errors, label=label + f"the {lang} title ")
                if cleaned:
                    title[lang] = cleaned
        else:
            title = _clean_text(raw_title, "links", MAX_TITLE_CHARS, errors, label=label + "the title ")
        if url is not None and title:
            out.append({"title": title, "url": url})
        elif url is not None:
            errors.setdefault("links", []).append(label + "needs a title")
    return out


def clean_id(value: Any, errors: Dict[str, List[str]]) -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value) or len(value) > MAX_ID_CHARS:
        errors.setdefault("id", []).append(
            f"lowercase letters, digits and dashes (e.g. wholesale-discount), at most {MAX_ID_CHARS} characters")
        return ""
    return value


# -- the service -----------------------------------------------------------------------------------


class FaqEditor:
    def __init__(self, directory: Path, factory: sessionmaker, clock: Callable = utcnow,
                 on_change: Optional[Callable[[], None]] = None):
        """`on_change`: called after each write, e.g. to reload the FAQ this process answers from."""
        self.directory = Path(directory)
        self._factory = factory
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()
        self._cache: Dict[Path, Tuple[Tuple[int, int], Topic]] = {}

    # reading

    def topics(self) -> List[Topic]:
        return [self._read(name, path) for name, path in topic_files(self.directory).items()]

    def _read(self, name: str, path: Path) -> Topic:
        # Read again only when the file changed: the list is asked for on every search.
        try:
            stat = path.stat()
        except OSError as exc:
            return Topic(name, "", [], str(exc))
        signature = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached and cached[0] == signature:
            return cached[1]
        try:
            text = path.read_text(encoding="utf-8")
            topic = Topic(name, title_of(text), read_entries(text))
        except (DocumentError, OSError, UnicodeDecodeError) as exc:
            topic = Topic(name, "", [], f"{path.name}: {exc}")
        self._cache[path] = (signature, topic)
        return topic

    def search(self, query: str = "", topic: Optional[str] = None) -> List[Tuple[str, Dict[str, Any]]]:
        """(topic, entry) whose id, questions, answers or tags contain `query` (diacritics or not)."""
        needle = fold(query).strip()
        hits = []
        for t in self.topics():
            if topic and t.name != topic:
                continue
            for entry in t.entries:
                if not needle or needle in fold(json.dumps(entry, ensure_ascii=False)):
                    hits.append((t.name, entry))
        return hits

    def get(self, entry_id: str) -> EditableEntry:
        for topic in self.topics():
            for entry in topic.entries:
                if entry.get("id") == entry_id:
                    return EditableEntry(topic.name, entry, version_of(topic.name, entry))
        raise EntryNotFound(f"no FAQ entry '{entry_id}'")

    def _find(self, entry_id: str) -> Optional[EditableEntry]:
        """The entry as its file holds it right now (not from the cache: a save compares against this)."""
        for name, path in topic_files(self.directory).items():
            try:
                entries = read_entries(path.read_text(encoding="utf-8"))
            except (DocumentError, OSError, UnicodeDecodeError):
                continue
            for entry in entries:
                if entry.get("id") == entry_id:
                    return EditableEntry(name, entry, version_of(name, entry))
        return None

    def history(self, entry_id: str) -> List[Revision]:
        """Newest first."""
        with session_scope(self._factory) as session:
            rows = session.execute(select(FaqRevision).where(FaqRevision.faq_id == entry_id)
                                   .order_by(FaqRevision.id.desc())).scalars()
            return [_revision(r) for r in rows]

    def retired(self) -> List[Revision]:
        """The last revision of each entry that is retired now (not in any file)."""
        present = {e.get("id") for t in self.topics() for e in t.entries}
        latest: Dict[str, Revision] = {}
        with session_scope(self._factory) as session:
            for row in session.execute(select(FaqRevision).order_by(FaqRevision.id)).scalars():
                latest[row.faq_id] = _revision(row)
        return [r for r in latest.values() if r.action == "retire" and r.faq_id not in present]

    # writing

    def create(self, topic: str, body: Any, author: str, topic_title: str = "") -> Saved:
        errors: Dict[str, List[str]] = {}
        entry_id = clean_id(body.get("id") if isinstance(body, dict) else None, errors)
        fields = clean_entry(body, errors)
        title = _clean_text(topic_title or "", "topic", MAX_TOPIC_TITLE_CHARS, errors) or ""
        if not valid_topic(topic):
            errors.setdefault("topic", []).append("a topic is lowercase letters, digits and dashes (e.g. mua-si)")
        if errors:
            raise FaqInvalid(errors)
        with self._writing():
            if self._find(entry_id) is not None:
                raise FaqInvalid({"id": [f"'{entry_id}' is already an entry: choose another id"]})
            if any(r.faq_id == entry_id for r in self.retired()):
                raise FaqInvalid({"id": [f"'{entry_id}' was retired: restore it from the retired entries, "
                                         "or choose another id"]})
            return self._save(topic, entry_id, fields, author, "create", before=None, title=title)

    def update(self, entry_id: str, version: Any, body: Any, author: str) -> Saved:
        errors: Dict[str, List[str]] = {}
        fields = clean_entry(body, errors)
        if isinstance(body, dict) and body.get("id", entry_id) != entry_id:
            errors.setdefault("id", []).append("an entry's id never changes: reports and figures refer to it")
        if errors:
            raise FaqInvalid(errors)
        with self._writing():
            current = self._current(entry_id, version)
            return self._save(current.topic, entry_id, fields, author, "update", before=current)

    def retire(self, entry_id: str, version: Any, author: str) -> Revision:
        """Take the entry out of its file (customers stop getting it); its history keeps it for a restore."""
        with self._writing():
            current = self._current(entry_id, version)
            try:
                document = Document(topic_files(self.directory)[current.topic])
            except DocumentError as exc:
                raise FaqInvalid({"entry": [f"{exc}: fix the file by hand first (`python -m bot faq check`)"]}) from exc
            index = document.remove(entry_id)
            with session_scope(self._factory) as session:
                row = self._record(session, entry_id, "retire", author, current, None)
                self._write(document, document.render(around=index))
                session.flush()
                revision = _revision(row)
        self._changed()
        return revision

    def restore(self, entry_id: str, revision_id: int, version: Any, author: str) -> Saved:
        """Make an earlier version current again: the entry as it was after that revision (for a retirement,
        as it was before it). A retired entry comes back into its topic."""
        # Ids are 32-bit in the table: a bigger number from a request is no revision, not a database error.
        in_range = isinstance(revision_id, int) and 0 < revision_id < 2 ** 31
        with session_scope(self._factory) as session:
            row = session.get(FaqRevision, revision_id) if in_range else None
            old = _revision(row) if row is not None and row.faq_id == entry_id else None
        if old is None:
            raise EntryNotFound(f"entry '{entry_id}' has no revision {revision_id}")
        wanted = old.after or old.before
        errors: Dict[str, List[str]] = {}
        fields = clean_entry({key: wanted["entry"][key] for key in EDITABLE if key in wanted["entry"]}, errors)
        if errors:
            raise FaqInvalid(errors)
        with self._writing():
            if self._find(entry_id) is None:
                if version:
                    raise FaqConflict("this entry was retired meanwhile", None)
                return self._save(wanted["topic"], entry_id, fields, author, "restore", before=None)
            current = self._current(entry_id, version)
            return self._save(current.topic, entry_id, fields, author, "restore", before=current)

    # inside

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """One save at a time: in this process (the lock) and among processes sharing the folder (flock)."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.directory / LOCK_FILE, "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def _current(self, entry_id: str, version: Any) -> EditableEntry:
        current = self._find(entry_id)
        if current is None:
            if any(r.faq_id == entry_id for r in self.retired()):
                raise FaqConflict("this entry was retired meanwhile: restore it to edit it", None)
            raise EntryNotFound(f"no FAQ entry '{entry_id}'")
        if version != current.version:
            raise FaqConflict("this entry was changed since you opened it (by a colleague or in its file): "
                              "reload it, then make your change again", current)
        return current

    def _save(self, topic: str, entry_id: str, fields: Dict[str, Any], author: str, action: str,
              before: Optional[EditableEntry], title: str = "") -> Saved:
        files = topic_files(self.directory)
        path = files.get(topic) or new_topic_file(self.directory, topic)
        try:
            document = Document(path) if path.exists() else Document.new(path, title or topic)
        except DocumentError as exc:
            raise FaqInvalid({"entry": [f"{exc}: fix the file by hand first (`python -m bot faq check`)"]}) from exc
        today = datetime.now(VIETNAM).date().isoformat()  # saving is reviewing: the date editors keep by hand
        index = document.set_entry({"id": entry_id, "reviewed": today, **fields})
        text = document.render(around=index)
        warnings = self._check(path, text, entry_id)
        after_entry = next(e for e in read_entries(text) if e.get("id") == entry_id)
        after = EditableEntry(topic, after_entry, version_of(topic, after_entry))
        with session_scope(self._factory) as session:
            row = self._record(session, entry_id, action, author, before, after)
            self._write(document, text)
            session.flush()
            revision = row.id
        self._changed()
        return Saved(after, revision, warnings)

    def _check(self, path: Path, text: str, entry_id: str) -> Dict[str, List[str]]:
        """`faq check` on a copy of the folder with this file changed. Refuses (FaqInvalid) on any error in this
        file (which the bot would not load) or about this entry; the warnings about this entry otherwise."""
        with tempfile.TemporaryDirectory(prefix="hotro-faq-check-") as scratch:
            copy = Path(scratch)
            for other in topic_files(self.directory).values():
                if other.name != path.name:
                    shutil.copyfile(other, copy / other.name)
            (copy / path.name).write_text(text, encoding="utf-8")
            errors, warnings = (_without_folder(found, copy) for found in check_directory(copy))
        target = path.name
        mine = [p for p in errors if p.file == target or f"'{entry_id}'" in p.message]
        if mine:
            raise FaqInvalid(_by_field(mine, target, text, entry_id), _by_field(
                [w for w in warnings if w.file == target and f"'{entry_id}'" in w.message], target, text, entry_id))
        return _by_field([w for w in warnings if f"'{entry_id}'" in w.message], target, text, entry_id)

    def _record(self, session, entry_id: str, action: str, author: str, before: Optional[EditableEntry],
                after: Optional[EditableEntry]) -> FaqRevision:
        row = FaqRevision(faq_id=entry_id, action=action, author=author, created_at=self._clock(),
                          before=_dump(before), after=_dump(after))
        session.add(row)
        return row

    @staticmethod
    def _write(document: Document, text: str) -> None:
        """Replace the file in one step, so the bot never reads half of it; same permissions as before."""
        path = document.path
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()


def _without_folder(problems: List[FaqProblem], folder: Path) -> List[FaqProblem]:
    """The scratch copy's path is nobody's business: problems name the file as editors know it."""
    prefix = str(folder) + os.sep
    return [FaqProblem(p.file.replace(prefix, ""), p.line, p.message.replace(prefix, "")) for p in problems]


def _dump(state: Optional[EditableEntry]) -> Optional[str]:
    return json.dumps({"topic": state.topic, "entry": state.entry}, ensure_ascii=False) if state else None


def _revision(row: FaqRevision) -> Revision:
    return Revision(row.id, row.faq_id, row.action, row.author, row.created_at,
                    json.loads(row.before) if row.before else None, json.loads(row.after) if row.after else None)


_FIELD_IN_MESSAGE = re.compile(r"\b(questions|answer)\.(vi|en)\b")


def _by_field(problems: List[FaqProblem], target: str, text: str, entry_id: str) -> Dict[str, List[str]]:
    """Each `faq check` problem under the form field it is about: named in the message, else found by its line.
    Problems elsewhere (another entry of the file, another file) go under "entry" with their file and line."""
    lines, end = field_lines(text, entry_id)
    start = lines[0][0] if lines else None
    out: Dict[str, List[str]] = {}
    for problem in problems:
        message, where, prefix = problem.message, "entry", f"{Path(problem.file).name}:{problem.line}: "
        inside = problem.file == target and start is not None and start <= problem.line < (end or 10 ** 9)
        named = _FIELD_IN_MESSAGE.search(message)
        if "duplicate id" in message:
            where, prefix = "id", ""
        elif inside and named:
            where, prefix = named.group(0), ""
        elif inside:
            prefix = ""
            for line, name, item in lines:
                if line > problem.line:
                    break
                where = name if name in ("id", "tags", "links") or "." in name else "entry"
                if item is not None:
                    prefix = f"{'question' if name.startswith('questions') else 'link'} {item + 1}: "
                else:
                    prefix = ""
        out.setdefault(where, []).append(prefix + message)
    return out


# -- what the bot would do, and what to write next -------------------------------------------------


def try_question(faq, question: str, limit: int = 5) -> Dict[str, Any]:
    """What the bot's FAQ would do with `question` (answer, did-you-mean or no answer) and the ranked entries
    with their scores, from the same library and decision the bot uses (`faq` is a FaqService)."""
    decision = faq.ask(question)
    ranked = faq.library.search(question, limit=limit)
    return {
        "decision": decision.kind,
        "entry": decision.entry.id if decision.entry else None,
        "suggestions": [e.id for e in decision.suggestions],
        "ranked": [{"id": m.entry.id, "score": round(m.score, 3), "similarity": round(m.similarity, 3),
                    "question": (m.entry.questions.get("vi") or m.entry.questions.get("en") or ("",))[0],
                    "answer": m.entry.answer} for m in ranked],
    }


@dataclass(frozen=True)
class WorkItem:
    """A line of `faq report` with the one thing to do about it: add the customer's wording as an example
    question of an entry (`entry`), or start a new entry from it."""
    kind: str  # unanswered | not_helpful | picked
    question: str
    language: str
    count: int
    faq_id: Optional[str]  # the entry the customer got (👎) or picked
    action: str  # add_example | new_entry
    entry: Optional[str] = None

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


def work_list(faq, editor: FaqEditor, limit: int = 50) -> List[WorkItem]:
    """The report as work, most frequent first. A question that is already an example question is done and
    left out; phones and emails are masked (again: events stored before masking existed are old)."""
    from bot.parsers import redact_contacts
    from bot.services.privacy import ERASED
    from bot.text import words

    def key(text: str) -> str:
        return " ".join(words(text))

    entries = {e.get("id"): e for t in editor.topics() for e in t.entries}
    known = {key(q) for e in entries.values() for qs in (e.get("questions") or {}).values()
             if isinstance(qs, list) for q in qs if isinstance(q, str)}
    items: List[WorkItem] = []
    for line in faq.report(limit=limit * 2):
        question = redact_contacts(line.question).strip()
        if not question or question == ERASED or key(question) in known:
            continue
        language = line.language if line.language in LANGUAGES else "vi"
        if line.kind == "picked" and line.faq_id in entries:
            action, target = "add_example", line.faq_id
        elif line.kind == "unanswered":
            # The entry the FAQ leans to now (edits since may have made it answer) is the likely home.
            decision = faq.ask(question)
            close = [e.id for e in ([decision.entry] if decision.entry else []) + decision.suggestions
                     if e.id in entries]
            action, target = ("add_example", close[0]) if close else ("new_entry", None)
        else:
            # 👎: the answer the customer got did not fit their question, which wants its own entry.
            action, target = "new_entry", None
        items.append(WorkItem(line.kind, question, language, line.count, line.faq_id, action, target))
        if len(items) >= limit:
            break
    return items
