"""LocalInferenceClient: shapes, dtypes, batching, query objects; the loaded-models LRU."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self

import numpy as np
import pytest
import torch

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.embeddings.inference.loaded_models import LoadedModels
from embedding_studio.embeddings.inference.local_client import LocalInferenceClient
from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface
from embedding_studio.embeddings.models.text_to_text.e5 import TextToTextE5Model
from embedding_studio.embeddings.models.text_to_text.sbert import TextToTextSBERTModel

ITEMS = [f"item {i} " + "word " * (i * 7 % 40) for i in range(11)]


@pytest.fixture(scope="module")
def sbert(minilm: Any) -> TextToTextSBERTModel:
    return TextToTextSBERTModel(minilm)


def test_forward_query_is_one_float32_vector(sbert: TextToTextSBERTModel, minilm: Any) -> None:
    vector = LocalInferenceClient(sbert).forward_query("protein folding")
    assert vector.shape == (384,) and vector.dtype == np.float32
    expected = minilm.encode(["protein folding"], normalize_embeddings=True)[0]
    np.testing.assert_allclose(vector, expected, atol=1e-5)


def test_forward_items_keeps_order_across_batches(sbert: TextToTextSBERTModel, minilm: Any) -> None:
    batched = LocalInferenceClient(sbert, batch_size=3).forward_items(ITEMS)
    assert batched.shape == (len(ITEMS), 384) and batched.dtype == np.float32
    assert batched.flags["C_CONTIGUOUS"]
    expected = minilm.encode(ITEMS, normalize_embeddings=True)
    np.testing.assert_allclose(batched, expected, atol=1e-5)


def test_batch_size_comes_from_settings_by_default(
    sbert: TextToTextSBERTModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from embedding_studio.core.config import settings

    monkeypatch.setattr(settings, "INFERENCE_BATCH_SIZE", 4)
    client = LocalInferenceClient(sbert)
    assert client.batch_size == 4
    assert client.forward_items(ITEMS[:5]).shape == (5, 384)


def test_empty_items_give_an_empty_matrix(sbert: TextToTextSBERTModel) -> None:
    vectors = LocalInferenceClient(sbert).forward_items([])
    assert vectors.shape == (0, 384) and vectors.dtype == np.float32


def test_items_must_be_texts(sbert: TextToTextSBERTModel) -> None:
    with pytest.raises(TypeError, match=r"items\[1\]"):
        LocalInferenceClient(sbert).forward_items(["a", {"b": 1}])  # type: ignore[list-item]


def test_object_query_goes_through_the_preprocessor(minilm: Any) -> None:
    def preprocessor(query: Any) -> str:
        return f"{query['title']} {query['body']}"

    client = LocalInferenceClient(TextToTextE5Model(minilm), preprocessor=preprocessor)
    vector = client.forward_query({"title": "cells", "body": "divide"})
    expected = minilm.encode(["query: cells divide"], normalize_embeddings=True)[0]
    np.testing.assert_allclose(vector, expected, atol=1e-5)


def test_object_query_without_preprocessor_is_an_invalid_request(
    sbert: TextToTextSBERTModel,
) -> None:
    with pytest.raises(InvalidRequest, match="send a string"):
        LocalInferenceClient(sbert).forward_query({"title": "x"})
    with pytest.raises(InvalidRequest):
        LocalInferenceClient(sbert).forward_query(42)  # type: ignore[arg-type]


def test_preprocessor_refusing_the_object_is_an_invalid_request(
    sbert: TextToTextSBERTModel,
) -> None:
    def preprocessor(query: Any) -> str:
        raise TypeError("expected text")

    with pytest.raises(InvalidRequest, match="cannot be converted"):
        LocalInferenceClient(sbert, preprocessor=preprocessor).forward_query({"a": 1})


def test_threads_share_one_model_safely(sbert: TextToTextSBERTModel) -> None:
    expected = LocalInferenceClient(sbert).forward_items(ITEMS[:4])
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda _: LocalInferenceClient(sbert).forward_items(ITEMS[:4]), range(8))
        )
    for result in results:
        np.testing.assert_allclose(result, expected, atol=1e-6)


class _ConstantModel(EmbeddingsModelInterface):
    """The smallest EmbeddingsModelInterface: every text maps to [value, value]."""

    def __init__(self, value: float) -> None:
        super().__init__(same_query_and_items=True)
        self.value = torch.nn.Parameter(torch.tensor(value))

    def get_query_model(self) -> torch.nn.Module:
        return self

    def get_items_model(self) -> torch.nn.Module:
        return self

    def forward_query(self, queries: list[str]) -> torch.Tensor:
        return self.value.expand(len(queries), 2)

    def forward_items(self, items: list[str]) -> torch.Tensor:
        return self.value.expand(len(items), 2)

    @property
    def dimensions(self) -> int:
        return 2

    def save(self, directory: Path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, directory: Path) -> Self:
        raise NotImplementedError


def test_loaded_models_keeps_the_most_recent_and_loads_once() -> None:
    cache = LoadedModels(max_models=2)
    loads: list[str] = []

    def loader(model_id: str) -> Any:
        return lambda: loads.append(model_id) or _ConstantModel(float(len(loads)))

    first = cache.get_or_load("a", loader("a"))
    assert cache.get_or_load("a", loader("a")) is first
    cache.get_or_load("b", loader("b"))
    cache.get_or_load("a", loader("a"))  # a is now the most recent
    cache.get_or_load("c", loader("c"))  # drops b
    assert "a" in cache and "c" in cache and "b" not in cache
    assert loads == ["a", "b", "c"]
    assert not first.training


def test_loaded_models_loads_once_under_concurrency_and_forgets_failures() -> None:
    cache = LoadedModels()
    calls = 0
    gate = threading.Event()

    def slow_load() -> EmbeddingsModelInterface:
        nonlocal calls
        calls += 1
        gate.wait(2)
        return _ConstantModel(1.0)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(cache.get_or_load, "x", slow_load) for _ in range(4)]
        gate.set()
        models = {id(f.result()) for f in futures}
    assert calls == 1 and len(models) == 1

    def failing_load() -> EmbeddingsModelInterface:
        raise OSError("disk full")

    with pytest.raises(OSError):
        cache.get_or_load("y", failing_load)
    assert "y" not in cache
    assert cache.get_or_load("y", lambda: _ConstantModel(2.0)).dimensions == 2


@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_local_client_on_any_model_interface(runtime: Any) -> None:
    """A model other than a sentence-transformers text model runs with torch, whatever
    runtime is asked for."""
    client = LocalInferenceClient(_ConstantModel(0.5), batch_size=2, runtime=runtime)
    assert client.runtime == "torch"
    vectors = client.forward_items(["a"] * 5)
    np.testing.assert_array_equal(vectors, np.full((5, 2), 0.5, dtype=np.float32))
