"""E5 / SBERT wrappers: same vectors as SentenceTransformer.encode, towers, save and load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from embedding_studio.embeddings.models.serialization import (
    MANIFEST_FILE,
    ModelFormatError,
    load_embedding_model,
    save_embedding_model,
)
from embedding_studio.embeddings.models.text_to_text.e5 import TextToTextE5Model
from embedding_studio.embeddings.models.text_to_text.sbert import TextToTextSBERTModel

TEXTS = [
    "Protein folding is driven by the hydrophobic effect.",
    "cells",
    "A much longer passage about the immune response, T cells, antibodies and memory. " * 5,
]


def encode(minilm: Any, texts: list[str]) -> torch.Tensor:
    return minilm.encode(texts, convert_to_tensor=True, normalize_embeddings=True)


def test_sbert_wrapper_gives_the_vectors_of_encode(minilm: Any) -> None:
    model = TextToTextSBERTModel(minilm)
    with torch.inference_mode():
        items = model.forward_items(TEXTS)
        queries = model.forward_query(TEXTS)
    expected = encode(minilm, TEXTS)
    assert items.shape == (3, 384) and items.dtype == torch.float32
    torch.testing.assert_close(items, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(queries, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(items.norm(dim=1), torch.ones(3), atol=1e-5, rtol=0)


def test_e5_wrapper_adds_query_and_passage_prefixes(minilm: Any) -> None:
    model = TextToTextE5Model(minilm)
    with torch.inference_mode():
        queries = model.forward_query(TEXTS[:2])
        items = model.forward_items(TEXTS[:2])
    torch.testing.assert_close(
        queries, encode(minilm, [f"query: {t}" for t in TEXTS[:2]]), atol=1e-5, rtol=0
    )
    torch.testing.assert_close(
        items, encode(minilm, [f"passage: {t}" for t in TEXTS[:2]]), atol=1e-5, rtol=0
    )
    assert model.same_query_and_items


def test_wrapper_describes_the_model(minilm: Any) -> None:
    model = TextToTextSBERTModel(minilm)
    assert model.dimensions == 384
    assert model.max_length == 256
    assert model.normalized
    assert model.tokenizer is minilm.tokenizer
    assert model.device == torch.device("cpu")
    assert model.get_config()["dimensions"] == 384


def test_forward_keeps_gradients_for_training(minilm: Any) -> None:
    model = TextToTextSBERTModel(minilm)
    vectors = model.forward_items(["a"])
    assert vectors.requires_grad


def test_empty_batch_gives_zero_rows(minilm: Any) -> None:
    with torch.inference_mode():
        vectors = TextToTextSBERTModel(minilm).forward_items([])
    assert vectors.shape == (0, 384)


def test_non_text_input_is_refused(minilm: Any) -> None:
    with pytest.raises(TypeError):
        TextToTextSBERTModel(minilm).forward_items(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        TextToTextSBERTModel(object())  # type: ignore[arg-type]


def test_tower_takes_token_ids_and_matches_forward(minilm: Any) -> None:
    model = TextToTextE5Model(minilm)
    texts = model.prepare_items(TEXTS)
    features = model.tokenize(texts)
    tower = model.get_items_model()
    with torch.inference_mode():
        from_ids = tower(features["input_ids"], features["attention_mask"])
        direct = model.forward_items(TEXTS)
    torch.testing.assert_close(from_ids, direct, atol=1e-6, rtol=0)
    assert set(model.get_query_model_params()) == set(minilm.parameters())


@pytest.fixture(scope="module")
def saved_e5(minilm: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("saved_e5")
    save_embedding_model(TextToTextE5Model(minilm), directory)
    return directory


def test_saved_model_loads_with_its_wrapper_and_same_vectors(minilm: Any, saved_e5: Path) -> None:
    manifest = json.loads((saved_e5 / MANIFEST_FILE).read_text())
    assert manifest["wrapper_class"].endswith("text_to_text.e5.TextToTextE5Model")
    assert not list(saved_e5.rglob("*.pkl")) and not list(saved_e5.rglob("*.bin"))
    loaded = load_embedding_model(saved_e5)
    assert isinstance(loaded, TextToTextE5Model)
    assert not loaded.training
    with torch.inference_mode():
        expected = TextToTextE5Model(minilm).forward_query(TEXTS)
        torch.testing.assert_close(loaded.forward_query(TEXTS), expected, atol=1e-6, rtol=0)


def test_manifest_naming_a_non_model_class_is_refused(saved_e5: Path, tmp_path: Path) -> None:
    manifest = json.loads((saved_e5 / MANIFEST_FILE).read_text())
    for wrong in ("os.system", "collections.OrderedDict", "not a path"):
        (tmp_path / MANIFEST_FILE).write_text(json.dumps({**manifest, "wrapper_class": wrong}))
        with pytest.raises(ModelFormatError):
            load_embedding_model(tmp_path)


def test_folder_without_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="not a saved embedding model"):
        load_embedding_model(tmp_path)
