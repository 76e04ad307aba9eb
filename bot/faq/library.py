"""The live FAQ: reloads faq/ when an editor saves a file, and never serves less than the last good version.

A file that fails to load keeps its last good entries (or none, if it never
loaded); the problem is logged once per change.

Rebuilding the index takes seconds for a large FAQ, so it never happens on the
answering path: a question checks the files at most once a second (a `stat`
per file), and a change starts a rebuild in a background thread while the
previous index keeps answering. The new entries and index replace the old ones
together, in one assignment, once the new index is ready. `refresh()` is the
blocking variant, for the CLI, the editor's "try a question" and tests.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from bot.faq.index import FaqIndex, FaqMatch
from bot.faq.loader import FaqEntry, FaqProblem, duplicate_id_problems, faq_files, load_file

logger = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 1.0

Builder = Callable[[Sequence[FaqEntry]], FaqIndex]


@dataclass(frozen=True)
class _FileState:
    signature: Tuple[int, int]
    entries: Tuple[FaqEntry, ...]


@dataclass(frozen=True)
class _Snapshot:
    """Everything one version of faq/ serves; replaced whole, never changed in place."""

    signatures: Dict[str, Tuple[int, int]]
    files: Dict[str, _FileState]
    index: FaqIndex
    problems: List[FaqProblem] = field(default_factory=list)
    by_id: Dict[str, FaqEntry] = field(default_factory=dict)


class FaqLibrary:
    def __init__(self, directory: Path, check_interval: float = CHECK_INTERVAL_SECONDS,
                 builder: Builder = FaqIndex, background: bool = True):
        self.directory = Path(directory)
        self._check_interval = check_interval
        self._builder = builder
        self._background = background
        self._build_lock = threading.Lock()  # one rebuild at a time
        self._state_lock = threading.Lock()  # guards the two flags below
        self._rebuilding = False
        self._again = False  # files changed while a rebuild ran: look once more when it ends
        self._thread: Optional[threading.Thread] = None
        self._watcher: Optional[threading.Thread] = None
        self._checked_at = 0.0
        self._snapshot = _Snapshot({}, {}, FaqIndex([]))
        self.rebuilds = 0
        self.last_rebuild_seconds = 0.0
        self.last_rebuild_cpu_seconds = 0.0
        self.refresh(force=True)

    # --- reading the files -------------------------------------------------

    def _scan(self) -> Dict[str, Tuple[int, int]]:
        signatures = {}
        for path in faq_files(self.directory) if self.directory.is_dir() else []:
            try:
                stat = path.stat()
            except OSError:
                continue
            signatures[path.name] = (stat.st_mtime_ns, stat.st_size)
        return signatures

    def _rebuild(self, force: bool = False) -> None:
        with self._build_lock:
            previous = self._snapshot
            signatures = self._scan()
            if signatures == previous.signatures and not force:
                return
            started, cpu = time.perf_counter(), time.thread_time()
            problems: List[FaqProblem] = []
            files: Dict[str, _FileState] = {}
            for name, signature in signatures.items():
                before = previous.files.get(name)
                if before and before.signature == signature:
                    files[name] = before
                    continue
                result = load_file(self.directory / name)
                if result.problems:
                    problems.extend(result.problems)
                    for problem in result.problems:
                        logger.error("FAQ not reloaded from %s", problem)
                    if before:  # keep serving the last good version of this file
                        files[name] = _FileState(signature, before.entries)
                    continue
                files[name] = _FileState(signature, tuple(result.entries))
            entries: List[FaqEntry] = []
            by_id: Dict[str, FaqEntry] = {}
            for name in sorted(files):
                for entry in files[name].entries:
                    if entry.id not in by_id:
                        by_id[entry.id] = entry
                        entries.append(entry)
            duplicates = duplicate_id_problems([e for n in sorted(files) for e in files[n].entries])
            for problem in duplicates:
                logger.error("FAQ: %s", problem)
            index = self._builder(entries)
            self._snapshot = _Snapshot(signatures, files, index, problems + duplicates, by_id)
            self.rebuilds += 1
            self.last_rebuild_seconds = time.perf_counter() - started
            self.last_rebuild_cpu_seconds = time.thread_time() - cpu
            logger.info("FAQ loaded: %d entries from %d files in %.2f s", len(entries), len(files),
                        self.last_rebuild_seconds)

    def _rebuild_in_background(self) -> None:
        try:
            while True:
                try:
                    self._rebuild()
                except Exception:
                    logger.exception("FAQ rebuild failed; the previous version keeps answering")
                with self._state_lock:
                    if not self._again:
                        self._rebuilding = False
                        return
                    self._again = False
        finally:
            with self._state_lock:
                self._rebuilding = False

    def _poll(self) -> None:
        """On the answering path: notice a change cheaply and leave the rebuild to a thread."""
        now = time.monotonic()
        if now - self._checked_at < self._check_interval:
            return
        self._checked_at = now
        if self._scan() == self._snapshot.signatures:
            return
        if not self._background:
            self._rebuild()
            return
        with self._state_lock:
            if self._rebuilding:
                self._again = True
                return
            self._rebuilding = True
        self._thread = threading.Thread(target=self._rebuild_in_background, name="faq-rebuild", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while True:
            time.sleep(max(self._check_interval, 0.2))
            try:
                self._poll()
            except Exception:
                logger.exception("FAQ check failed; trying again")

    # --- public interface ---------------------------------------------------

    def watch(self) -> "FaqLibrary":
        """Check the files every `check_interval` in a thread of their own, so that an edit starts
        rebuilding at once rather than on the next question: the first customer after a save gets
        the new answer instead of starting the rebuild."""
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="faq-watch", daemon=True)
            self._watcher.start()
        return self

    def refresh(self, force: bool = False) -> None:
        """Serve what is on disk now: waits for a running rebuild, then reloads what changed
        (everything with `force`). For callers that must see their own edit at once."""
        self._checked_at = time.monotonic()
        self._rebuild(force=force)

    @property
    def rebuilding(self) -> bool:
        return self._rebuilding

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Until a background rebuild has finished; False if it is still running after `timeout`."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self._rebuilding

    @property
    def problems(self) -> List[FaqProblem]:
        return self._snapshot.problems

    @property
    def index(self) -> FaqIndex:
        self._poll()
        return self._snapshot.index

    @property
    def entries(self) -> List[FaqEntry]:
        self._poll()
        return self._snapshot.index.entries

    def get(self, entry_id: str) -> Optional[FaqEntry]:
        self._poll()
        return self._snapshot.by_id.get(entry_id)

    def search(self, text: str, limit: int = 3) -> List[FaqMatch]:
        self._poll()
        return self._snapshot.index.search(text, limit)
