"""Files website customers attach, on disk under random ids (HOTRO_UPLOAD_DIR, default var/uploads).

The customer's file name never reaches the file system: it is kept, cleaned, in
the transcript only. An id is checked against its exact shape before it becomes
a path, so a damaged or forged transcript line cannot point outside the folder.

The folder has a cap (HOTRO_UPLOAD_MAX_MB, every customer's files together): the
per-client limits bound one client, the cap bounds the disk whoever sends.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from pathlib import Path
from typing import Iterable, Optional

logger = logging.getLogger(__name__)

_ID = re.compile(r"[0-9a-f]{32}")


class StoreFull(Exception):
    """The file would take the upload folder past its cap."""


def is_upload_id(value) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


class UploadStore:
    def __init__(self, directory: Path, max_bytes: Optional[int] = None):
        """`max_bytes`: the folder's cap, None for none."""
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        # Two uploads at once must not both take the last free space: the check and the write go together.
        # (Several gateway instances sharing the folder can still overshoot by a file each.)
        self._lock = threading.Lock()

    def used_bytes(self) -> int:
        """What the folder holds now: counted from the disk, which other instances write too."""
        try:
            with os.scandir(self.directory) as entries:
                return sum(entry.stat().st_size for entry in entries if entry.is_file(follow_symlinks=False))
        except FileNotFoundError:
            return 0

    def check_room(self, size: int = 0) -> None:
        """StoreFull (and a line in the log for the operator) when `size` more bytes would pass the cap."""
        if self.max_bytes is None:
            return
        used = self.used_bytes()
        if used + size > self.max_bytes:
            logger.error("upload folder %s is full: %d MB used of %d MB (HOTRO_UPLOAD_MAX_MB); customers' files "
                         "are refused until files are removed or the cap is raised",
                         self.directory, used // 2**20, self.max_bytes // 2**20)
            raise StoreFull(f"{used + size} bytes would pass the cap of {self.max_bytes}")

    def save(self, data: bytes) -> str:
        """Write the bytes under a new random id (the folder is created on first use); returns the id.

        StoreFull when they would take the folder past its cap.
        """
        with self._lock:
            self.check_room(len(data))
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            upload_id = secrets.token_hex(16)
            # O_EXCL: never overwrite, even in the astronomically unlikely case of a repeated id.
            fd = os.open(self._path(upload_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
        return upload_id

    def read(self, upload_id: str) -> Optional[bytes]:
        """The bytes, or None when there is no such file (erased, or never stored here)."""
        if not is_upload_id(upload_id):
            return None
        try:
            return self._path(upload_id).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, upload_ids: Iterable[str]) -> int:
        """Remove the files; returns how many were there."""
        removed = 0
        for upload_id in upload_ids:
            if is_upload_id(upload_id):
                try:
                    self._path(upload_id).unlink()
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def _path(self, upload_id: str) -> Path:
        return self.directory / upload_id
