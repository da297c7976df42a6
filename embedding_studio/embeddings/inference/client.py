"""The interface search and the workers embed through, whatever runs the model.

`EmbeddingClient.forward_query` embeds one query (text, or a dict the plugin's
preprocessor turns into text); `forward_items` embeds many already preprocessed and
split item texts, in batches of `settings.INFERENCE_BATCH_SIZE`. Both return float32
numpy arrays. Implementations: `LocalInferenceClient` (in process: ONNX Runtime or torch)
and the Triton gRPC clients.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np

from embedding_studio.core.errors import InvalidRequest

logger = logging.getLogger(__name__)

QueryPreprocessor = Callable[[Any], str]
"""Turns a query (text or dict) into model text: e.g. the plugin's items preprocessor."""


def query_to_text(query: str | dict[str, Any], preprocessor: QueryPreprocessor | None) -> str:
    """The text a query is embedded as: strings as they are, dicts through `preprocessor`.

    :raises InvalidRequest: the query is neither, or a dict with no way to convert it
    """
    if isinstance(query, str):
        return query
    if not isinstance(query, dict):
        raise InvalidRequest(f"a query is a string or an object, got {type(query).__name__}")
    if preprocessor is None:
        raise InvalidRequest("this plugin has no preprocessor for object queries: send a string")
    try:
        text = preprocessor(query)
    except (TypeError, ValueError, KeyError) as exc:
        raise InvalidRequest(f"the query object cannot be converted to text: {exc}") from exc
    if not isinstance(text, str):
        raise InvalidRequest("the plugin's preprocessor did not turn the query into text")
    return text


def _check_texts(items: list[str]) -> None:
    if not isinstance(items, list | tuple):
        raise TypeError(f"items must be a list of strings, got {type(items).__name__}")
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"items[{index}] is {type(item).__name__}, expected str")


def as_float32_matrix(vectors: Any, rows: int) -> np.ndarray:
    """`vectors` as a C-contiguous float32 [rows, D] array; ValueError on another shape."""
    array = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if array.ndim != 2 or array.shape[0] != rows:
        raise ValueError(f"the model returned shape {array.shape}, expected ({rows}, D)")
    return array


class EmbeddingClient(ABC):
    """Embeds queries and items with one embedding model.

    :param preprocessor: converts dict queries to text (None: string queries only)
    :param batch_size: items per model call (None: `settings.INFERENCE_BATCH_SIZE`)
    """

    def __init__(
        self, preprocessor: QueryPreprocessor | None = None, batch_size: int | None = None
    ) -> None:
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"batch_size must be > 0, got {batch_size}")
        self.preprocessor = preprocessor
        self._batch_size = batch_size

    @property
    def batch_size(self) -> int:
        if self._batch_size is not None:
            return self._batch_size
        from embedding_studio.core.config import settings

        return settings.INFERENCE_BATCH_SIZE

    @property
    def dimensions(self) -> int | None:
        """D when known without a model call, else None."""
        return None

    def forward_query(self, query: str | dict[str, Any]) -> np.ndarray:
        """One query's vector: float32 [D]."""
        text = query_to_text(query, self.preprocessor)
        return as_float32_matrix(self._embed_queries([text]), 1)[0]

    def forward_items(self, items: list[str]) -> np.ndarray:
        """Vectors of `items`, in their order: float32 [N, D] (N = len(items))."""
        _check_texts(items)
        if not items:
            return np.zeros((0, self.dimensions or 0), dtype=np.float32)
        # Similar lengths in one batch pad less; the result keeps the input order.
        order = sorted(range(len(items)), key=lambda index: len(items[index]), reverse=True)
        result: np.ndarray | None = None
        for start in range(0, len(order), self.batch_size):
            indices = order[start : start + self.batch_size]
            batch = as_float32_matrix(self._embed_items([items[i] for i in indices]), len(indices))
            if result is None:
                result = np.empty((len(items), batch.shape[1]), dtype=np.float32)
            result[indices] = batch
        assert result is not None
        return result

    @abstractmethod
    def _embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed query texts (already converted to text): [len(texts), D]."""

    @abstractmethod
    def _embed_items(self, texts: list[str]) -> np.ndarray:
        """Embed one batch of item texts: [len(texts), D]."""
