"""In-process inference: the model runs on this machine's CPU with torch, or, for
sentence-transformers text models, in ONNX Runtime (`onnx_runtime.py`).

Used when `settings.INFERENCE_BACKEND == "local"` (the embedded stack's default) and
in tests; gives the same vectors as the model's own `forward_query` / `forward_items`.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

import numpy as np
import torch

from embedding_studio.embeddings.inference.client import EmbeddingClient, QueryPreprocessor
from embedding_studio.embeddings.inference.onnx_runtime import (
    LocalRuntime,
    OnnxTextModel,
    onnx_text_model,
)
from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface

_model_locks: weakref.WeakKeyDictionary[torch.nn.Module, threading.Lock] = (
    weakref.WeakKeyDictionary()
)
_model_locks_guard = threading.Lock()


def _lock_for(model: torch.nn.Module) -> threading.Lock:
    """One lock per model instance: Hugging Face tokenizers are not safe to call from
    several threads at once, and torch already uses every core for one call."""
    with _model_locks_guard:
        lock = _model_locks.get(model)
        if lock is None:
            lock = _model_locks[model] = threading.Lock()
        return lock


class LocalInferenceClient(EmbeddingClient):
    """Embeds with `model` in this process: under `torch.inference_mode()`, or through
    the model's ONNX Runtime export when `runtime="onnx"` and the model exports (see
    `onnx_runtime.py`; the vectors are the same within 1e-4).

    :param model: the embedding model (moved to eval mode; kept on its device); with
        `runtime="onnx"` it must not change afterwards (its export is kept)
    :param preprocessor: converts dict queries to text (e.g. the plugin's preprocessor)
    :param batch_size: items per forward pass (None: `settings.INFERENCE_BATCH_SIZE`)
    :param runtime: "torch", or "onnx" (exported on the first call; torch for a model
        that does not export)
    """

    def __init__(
        self,
        model: EmbeddingsModelInterface,
        preprocessor: QueryPreprocessor | None = None,
        batch_size: int | None = None,
        runtime: LocalRuntime = "torch",
    ) -> None:
        super().__init__(preprocessor=preprocessor, batch_size=batch_size)
        if not isinstance(model, EmbeddingsModelInterface):
            raise TypeError(f"expected an EmbeddingsModelInterface, got {type(model).__name__}")
        self.model = model
        if model.training:
            model.eval()
        self._lock = _lock_for(model)
        self._runtime = runtime

    def _onnx(self) -> OnnxTextModel | None:
        # Exported on first use, not here: creating a client stays cheap.
        return onnx_text_model(self.model) if self._runtime == "onnx" else None

    @property
    def runtime(self) -> LocalRuntime:
        """What embeds: "onnx" or "torch" (exports the model on the first call)."""
        with self._lock:
            return "torch" if self._onnx() is None else "onnx"

    @property
    def dimensions(self) -> int | None:
        return self.model.dimensions

    def _embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, OnnxTextModel.embed_queries, self.model.forward_query)

    def _embed_items(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, OnnxTextModel.embed_items, self.model.forward_items)

    def _embed(
        self,
        texts: list[str],
        onnx_embed: Callable[[OnnxTextModel, list[str]], np.ndarray],
        forward: Callable[[list[str]], torch.Tensor],
    ) -> np.ndarray:
        # The model's lock: its tokenizer is not thread-safe, and its first call exports it.
        with self._lock:
            onnx = self._onnx()
            if onnx is not None:
                return onnx_embed(onnx, texts)
            with torch.inference_mode():
                vectors = forward(texts)
        return vectors.detach().to("cpu", torch.float32).numpy()
