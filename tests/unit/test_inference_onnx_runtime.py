"""Embedding through ONNX Runtime: the same vectors as torch, torch whenever a model
does not export faithfully, and the factory's choice of runtime (other model classes:
`test_inference_local_client.py`)."""

from __future__ import annotations

import gc
import logging
import weakref
from typing import Any

import numpy as np
import pytest
import torch

from embedding_studio.embeddings.inference import onnx_runtime
from embedding_studio.embeddings.inference.local_client import LocalInferenceClient
from embedding_studio.embeddings.models.text_to_text.e5 import TextToTextE5Model
from embedding_studio.embeddings.models.text_to_text.sbert import TextToTextSBERTModel

TEXTS = [
    "protein folding",
    "a longer text about the immune response of cells, so that the batch is padded",
    "x",
    "truncated: " + "the cell membrane regulates transport " * 80,  # > 256 tokens
]


@pytest.fixture(scope="module")
def e5(minilm: Any) -> TextToTextE5Model:
    """MiniLM behind the E5 wrapper: query and passage prefixes to reproduce."""
    return TextToTextE5Model(minilm)


def test_onnx_queries_get_the_torch_vectors_with_prefix_and_truncation(
    e5: TextToTextE5Model,
) -> None:
    onnx = LocalInferenceClient(e5, runtime="onnx")
    assert onnx.runtime == "onnx"
    torch_client = LocalInferenceClient(e5, runtime="torch")
    assert torch_client.runtime == "torch"
    for text in TEXTS:
        query = onnx.forward_query(text)
        assert query.shape == (384,) and query.dtype == np.float32
        np.testing.assert_allclose(query, torch_client.forward_query(text), atol=1e-5)
    # The query prefix is applied: a query is not embedded as an item of the same text.
    assert not np.allclose(onnx.forward_query(TEXTS[0]), onnx.forward_items(TEXTS[:1])[0])


def test_onnx_items_get_the_torch_vectors_in_the_input_order(e5: TextToTextE5Model) -> None:
    """Batches of items of mixed lengths (sorted and padded per batch, one truncated), with
    the passage prefix."""
    onnx = LocalInferenceClient(e5, batch_size=3, runtime="onnx")
    torch_client = LocalInferenceClient(e5, batch_size=3, runtime="torch")
    items = TEXTS + [f"item {i}: " + "cells divide " * i for i in range(5)]
    vectors = onnx.forward_items(items)
    assert vectors.shape == (len(items), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, torch_client.forward_items(items), atol=1e-5)
    expected = e5.model.encode(["passage: " + TEXTS[1]], normalize_embeddings=True)[0]
    np.testing.assert_allclose(vectors[1], expected, atol=1e-5)


def test_the_exported_tower_embeds_padded_batches_like_the_model(e5: TextToTextE5Model) -> None:
    """Several queries of different lengths at once (padding in the exported graph)."""
    exported = onnx_runtime.onnx_text_model(e5)
    assert exported is not None
    with torch.no_grad():
        expected = e5.forward_query(TEXTS).numpy()
    np.testing.assert_allclose(exported.embed_queries(TEXTS), expected, atol=1e-5)


def test_an_exported_model_is_released_with_its_last_client(minilm: Any) -> None:
    model = TextToTextSBERTModel(minilm)
    client = LocalInferenceClient(model, runtime="onnx")
    assert client.runtime == "onnx"
    released = weakref.ref(model)
    del client, model
    gc.collect()
    assert released() is None


def test_an_export_that_differs_from_the_model_falls_back_to_torch(
    minilm: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(onnx_runtime, "EQUIVALENCE_ATOL", -1.0)  # any difference fails
    model = TextToTextSBERTModel(minilm)
    with caplog.at_level(logging.WARNING, logger=onnx_runtime.__name__):
        client = LocalInferenceClient(model, runtime="onnx")
        again = LocalInferenceClient(model, runtime="onnx")
        assert client.runtime == again.runtime == "torch"
    warnings = [r for r in caplog.records if "embeds with torch" in r.getMessage()]
    assert len(warnings) == 1 and "differs from the eager model" in warnings[0].getMessage()
    expected = minilm.encode(["protein folding"], normalize_embeddings=True)[0]
    np.testing.assert_allclose(client.forward_query("protein folding"), expected, atol=1e-5)
    np.testing.assert_allclose(client.forward_items(["protein folding"])[0], expected, atol=1e-5)


@pytest.mark.parametrize(
    ("runtime", "int8", "expected"),
    [("onnx", False, "onnx"), ("torch", False, "torch"), ("onnx", True, "torch")],
)
def test_the_factory_runs_models_in_the_configured_runtime(
    minilm: Any, monkeypatch: pytest.MonkeyPatch, runtime: str, int8: bool, expected: str
) -> None:
    from embedding_studio.core.config import settings
    from embedding_studio.embeddings.inference.loaded_models import loaded_models
    from embedding_studio.embeddings.inference.triton.client import TritonClientFactory

    monkeypatch.setattr(settings, "INFERENCE_LOCAL_RUNTIME", runtime)
    monkeypatch.setattr(settings, "INFERENCE_QUANTIZE_INT8", int8)
    model = TextToTextSBERTModel(minilm)
    model_id = f"onnx-factory-{runtime}-{int8}"
    monkeypatch.setattr(loaded_models, "get_or_load", lambda _id, _load: model)
    client = TritonClientFactory("unused:1", "plugin").get_local_client(model_id)
    assert client.runtime == expected
