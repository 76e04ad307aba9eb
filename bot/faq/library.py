"""The live FAQ: reloads faq/ when an editor saves a file, and never serves less than the last good version.

A file that fails to load keeps its last good entries (or none, if it never
loaded); the problem is logged once per change. Checked at most once a second,
so a change reaches customers within a few seconds without a restart.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot.faq.index import FaqIndex, FaqMatch
from bot.faq.loader import FaqEntry, FaqProblem, duplicate_id_problems, faq_files, load_file

logger = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class _FileState:
    signature: Tuple[int, int]
    entries: Tuple[FaqEntry, ...]


class FaqLibrary:
    def __init__(self, directory: Path, check_interval: float = CHECK_INTERVAL_SECONDS):
        self.directory = Path(directory)
        self._check_interval = check_interval
        self._lock = threading.Lock()
        self._files: Dict[str, _FileState] = {}
        self._signatures: Dict[str, Tuple[int, int]] = {}
        self._index = FaqIndex([])
        self._checked_at = 0.0
        self.problems: List[FaqProblem] = []
        self.refresh(force=True)

    def _scan(self) -> Dict[str, Tuple[int, int]]:
        signatures = {}
        for path in faq_files(self.directory) if self.directory.is_dir() else []:
            try:
                stat = path.stat()
            except OSError:
                continue
            signatures[path.name] = (stat.st_mtime_ns, stat.st_size)
        return signatures

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked_at < self._check_interval:
            return
        with self._lock:
            self._checked_at = now
            signatures = self._scan()
            if signatures == self._signatures and not force:
                return
            problems: List[FaqProblem] = []
            files: Dict[str, _FileState] = {}
            for name, signature in signatures.items():
                previous = self._files.get(name)
                if previous and previous.signature == signature:
                    files[name] = previous
                    continue
                result = load_file(self.directory / name)
                if result.problems:
                    problems.extend(result.problems)
                    for problem in result.problems:
                        logger.error("FAQ not reloaded from %s", problem)
                    if previous:  # keep serving the last good version of this file
                        files[name] = _FileState(signature, previous.entries)
                    continue
                files[name] = _FileState(signature, tuple(result.entries))
            entries: List[FaqEntry] = []
            seen = set()
            for name in sorted(files):
                for entry in files[name].entries:
                    if entry.id in seen:
                        continue
                    seen.add(entry.id)
                    entries.append(entry)
            duplicates = duplicate_id_problems([e for n in sorted(files) for e in files[n].entries])
            for problem in duplicates:
                logger.error("FAQ: %s", problem)
            self._files = files
            self._signatures = signatures
            self._index = FaqIndex(entries)
            self.problems = problems + duplicates
            logger.info("FAQ loaded: %d entries from %d files", len(entries), len(files))

    @property
    def entries(self) -> List[FaqEntry]:
        self.refresh()
        return self._index.entries

    def get(self, entry_id: str) -> Optional[FaqEntry]:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        return None

    def search(self, text: str, limit: int = 3) -> List[FaqMatch]:
        self.refresh()
        return self._index.search(text, limit)
