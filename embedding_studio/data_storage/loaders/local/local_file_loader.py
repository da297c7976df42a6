"""Load items from files under one root folder, never outside it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.data_storage.loaders.content_decoding import (
    ContentDecodeError,
    ContentFormat,
    decode_content,
)
from embedding_studio.data_storage.loaders.data_loader import OutcomeDataLoader
from embedding_studio.data_storage.loaders.downloaded_item import DownloadedItem
from embedding_studio.data_storage.loaders.item_meta import ItemMeta
from embedding_studio.data_storage.loaders.load_outcome import ItemLoadFailure, LoadOutcome
from embedding_studio.data_storage.loaders.local.item_meta import LocalFileMeta

if TYPE_CHECKING:
    from datasets import Features

logger = logging.getLogger(__name__)


class PathOutsideRoot(ValueError):
    """A requested path resolves outside the loader's root folder."""


class LocalFileLoader(OutcomeDataLoader):
    """Loads files under `root_dir`, named by `LocalFileMeta.path`; data is the bytes.

    Subclasses decode: `LocalTextFileLoader` (str), `LocalJSONFileLoader` (dict).
    A path that resolves outside `root_dir` (`..`, an absolute path elsewhere, a symbolic
    link pointing out) is refused as a failure of that item, as are missing, unreadable,
    undecodable or too large files.

    Full loads list the files matching `pattern` under the root, in path order.

    :param root_dir: the folder items are read from.
    :param pattern: the glob of a full load (default: every file, recursively).
    :param max_file_bytes: larger files are refused.
    """

    item_meta_cls = LocalFileMeta
    content_format = ContentFormat.raw

    def __init__(
        self,
        root_dir: str | Path,
        pattern: str = "**/*",
        encoding: str = "utf-8",
        max_file_bytes: int | None = 64 * 1024 * 1024,
        features: Features | None = None,
    ) -> None:
        self.root_dir = Path(root_dir)
        self.pattern = pattern
        self.encoding = encoding
        self.max_file_bytes = max_file_bytes
        self.features = features

    def resolve(self, path: str) -> Path:
        """The real path of `path` under the root; raises `PathOutsideRoot` otherwise."""
        root = self.root_dir.resolve()
        try:
            candidate = (root / path).resolve()
        except RuntimeError as exc:  # a symbolic link loop
            raise PathOutsideRoot(f"{path!r} cannot be resolved: {exc}") from None
        if not candidate.is_relative_to(root):
            raise PathOutsideRoot(f"{path!r} is outside the loader's root folder")
        return candidate

    def load_items_with_failures(self, items_data: list[ItemMeta]) -> LoadOutcome:
        outcome = LoadOutcome()
        seen: set[str] = set()
        for meta in items_data:
            if meta.id in seen:
                continue
            seen.add(meta.id)
            result = self._load_one(meta)
            if isinstance(result, ItemLoadFailure):
                outcome.failures.append(result)
            else:
                outcome.items.append(result)
        return outcome

    def _load_one(self, meta: ItemMeta) -> DownloadedItem | ItemLoadFailure:
        if not isinstance(meta, LocalFileMeta):
            return ItemLoadFailure.of(meta, "a local file item needs `path`")
        try:
            data = decode_content(self._read(meta.path), self.content_format, self.encoding)
        except ValueError as exc:  # outside the root, undecodable, an invalid path
            return ItemLoadFailure.of(meta, f"{meta.path}: {exc}")
        except OSError as exc:
            return ItemLoadFailure.of(meta, f"{meta.path}: {exc.strerror or exc}")
        return DownloadedItem(id=meta.id, data=data, meta=meta)

    def _read(self, path: str) -> bytes:
        file_path = self.resolve(path)
        if not file_path.is_file():
            raise FileNotFoundError(2, "no such file")
        size = file_path.stat().st_size
        if self.max_file_bytes is not None and size > self.max_file_bytes:
            raise ContentDecodeError(
                f"file is {size} bytes, over the limit of {self.max_file_bytes}"
            )
        return file_path.read_bytes()

    def _listed_paths(self) -> list[str]:
        root = self.root_dir.resolve()
        if not root.is_dir():
            raise InvalidRequest(f"root folder {str(self.root_dir)!r} does not exist")
        paths = (p for p in root.glob(self.pattern) if p.is_file())
        return sorted(p.relative_to(root).as_posix() for p in paths)

    def total_count(self) -> int | None:
        """The number of files matching `pattern` under the root."""
        return len(self._listed_paths())

    def load_all(self, batch_size: int) -> Iterator[list[DownloadedItem]]:
        """Every file matching `pattern`, `batch_size` at a time; failures are logged."""
        if batch_size <= 0:
            raise InvalidRequest(f"batch_size must be positive, got {batch_size}")
        paths = self._listed_paths()
        for start in range(0, len(paths), batch_size):
            metas: list[ItemMeta] = [
                LocalFileMeta(path=p) for p in paths[start : start + batch_size]
            ]
            outcome = self.load_items_with_failures(metas)
            for failure in outcome.failures:
                logger.warning("full load skips %s: %s", failure.object_id, failure.detail)
            if outcome.items:
                yield outcome.items


class LocalTextFileLoader(LocalFileLoader):
    """`LocalFileLoader` whose item data is the file decoded as text (`encoding`)."""

    content_format = ContentFormat.text


class LocalJSONFileLoader(LocalFileLoader):
    """`LocalFileLoader` whose item data is the file parsed as a JSON object (a dict)."""

    content_format = ContentFormat.json
