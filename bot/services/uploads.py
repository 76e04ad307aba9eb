"""Files website customers attach, on disk under random ids (HOTRO_UPLOAD_DIR, default var/uploads).

The customer's file name never reaches the file system: it is kept, cleaned, in
the transcript only. An id is checked against its exact shape before it becomes
a path, so a damaged or forged transcript line cannot point outside the folder.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Iterable, Optional

_ID = re.compile(r"[0-9a-f]{32}")


def is_upload_id(value) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


class UploadStore:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def save(self, data: bytes) -> str:
        """Write the bytes under a new random id (the folder is created on first use); returns the id."""
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
