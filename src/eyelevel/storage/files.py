"""Attachment bytes on the local disk, under ``<data dir>/files/<company id>/<random>.<ext>``,
and customers' data exports under ``<data dir>/files/exports/<random>.zip``.

Several processes on one host share the directory; several hosts need a shared volume (an
object store would implement the same :class:`~eyelevel.core.ports.FileStore`).
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

_KEY = re.compile(r"^(\d{1,19}/[0-9a-f]{32}(\.thumb)?\.[a-z0-9]{2,5}|exports/[0-9a-f]{32}\.zip)$")


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):  # keys are made by the core; anything else is a bug
            raise ValueError("invalid file key")
        return self._root / key

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        """Write to a temporary name, flush to disk, then rename: never a half-written file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
