"""Static files (ES modules, CSS) read once into memory and versioned by their content.

The messenger and the agent inbox serve theirs under ``<prefix>/<version>/…``: relative imports
between the modules keep the version, so each release has its own URLs, which may be cached for
a year. ``mounts`` adds another package's folder under a sub-path, so the inbox can import the
messenger's generic modules (``./messenger/dom.js``) as files of its own version.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable

TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str


class Assets:
    """Every file under a directory, by relative path, and a version of them all.

    ``mounts`` maps a sub-path to ``(folder, names)``: only those files of that folder are
    added, as ``<sub-path>/<name>``.
    """

    def __init__(
        self,
        root: Traversable,
        *,
        mounts: Mapping[str, tuple[Traversable, tuple[str, ...]]] | None = None,
    ) -> None:
        self.files: dict[str, Asset] = {}
        found = _walk(root, "")
        for prefix, (folder, names) in (mounts or {}).items():
            found += [(f"{prefix}/{name}", folder / name) for name in names]
        for path, item in found:
            suffix = "." + path.rsplit(".", 1)[-1] if "." in path else ""
            media_type = TYPES.get(suffix) or mimetypes.guess_type(path)[0]
            self.files[path] = Asset(item.read_bytes(), media_type or "application/octet-stream")
        digest = hashlib.sha256()
        for path in sorted(self.files):
            digest.update(path.encode() + b"\0" + self.files[path].body + b"\0")
        self.version = digest.hexdigest()[:12]

    def get(self, path: str) -> Asset | None:
        return self.files.get(path)

    def urls(self, prefix: str = "/static") -> list[str]:
        return [f"{prefix}/{self.version}/{path}" for path in sorted(self.files)]


def _walk(folder: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for item in folder.iterdir():
        if item.name.startswith(".") or item.name == "__pycache__":
            continue
        path = f"{prefix}{item.name}"
        if item.is_dir():
            found += _walk(item, path + "/")
        else:
            found.append((path, item))
    return found
