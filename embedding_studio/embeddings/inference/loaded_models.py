"""A small process-wide LRU of models loaded for in-process inference, keyed by
embedding model id. Loading a model takes seconds and hundreds of MB; every client of
the same model id shares one instance."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface

logger = logging.getLogger(__name__)

DEFAULT_MAX_MODELS = 3


class LoadedModels:
    """At most `max_models` models in memory; the least recently used one is dropped.

    `get_or_load(model_id, load)` calls `load()` once per model id even when threads
    ask for it together; a failed load is not cached.
    """

    def __init__(self, max_models: int = DEFAULT_MAX_MODELS) -> None:
        if max_models <= 0:
            raise ValueError(f"max_models must be > 0, got {max_models}")
        self.max_models = max_models
        self._models: OrderedDict[str, EmbeddingsModelInterface] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def get_or_load(
        self, model_id: str, load: Callable[[], EmbeddingsModelInterface]
    ) -> EmbeddingsModelInterface:
        with self._lock:
            model = self._touch(model_id)
            if model is not None:
                return model
            loading = self._loading.setdefault(model_id, threading.Lock())
        with loading:
            with self._lock:
                model = self._touch(model_id)
                if model is not None:
                    return model
            logger.info("loading embedding model %s for in-process inference", model_id)
            try:
                model = load()
                model.eval()
                with self._lock:
                    self._models[model_id] = model
                    while len(self._models) > self.max_models:
                        dropped, _ = self._models.popitem(last=False)
                        logger.info("dropped embedding model %s from memory", dropped)
            finally:
                with self._lock:
                    self._loading.pop(model_id, None)
            return model

    def _touch(self, model_id: str) -> EmbeddingsModelInterface | None:
        model = self._models.get(model_id)
        if model is not None:
            self._models.move_to_end(model_id)
        return model

    def discard(self, model_id: str) -> None:
        with self._lock:
            self._models.pop(model_id, None)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()

    def __contains__(self, model_id: object) -> bool:
        with self._lock:
            return model_id in self._models

    def __len__(self) -> int:
        with self._lock:
            return len(self._models)


loaded_models = LoadedModels()
"""The process's models for in-process inference."""
