"""Augmentations: case variants, misspellings, random selection, composition, applier."""

from __future__ import annotations

import difflib
import random

import pytest
from datasets import Dataset

from embedding_studio.embeddings.augmentations.augmentation_with_random_selection import (
    AugmentationWithRandomSelection,
)
from embedding_studio.embeddings.augmentations.compose import AugmentationsComposition
from embedding_studio.embeddings.augmentations.items_set_augmentation_applier import (
    ItemsSetAugmentationApplier,
)
from embedding_studio.embeddings.augmentations.text.cases import ChangeCases
from embedding_studio.embeddings.augmentations.text.misspellings import Misspellings

TEXT = "Wireless Keyboard with backlight"


class SynonymReplacement(AugmentationWithRandomSelection):
    """The custom augmentation of the seed tutorial (step 10.1), as a plugin writes it."""

    def __init__(self, selection_size: float = 1.0):
        super().__init__(selection_size)
        self.synonyms = {"good": ["great", "excellent", "fine"], "bad": ["poor", "awful"]}

    def _raw_transform(self, object: str) -> list[str]:
        results = [object]
        for _ in range(3):
            text = object
            for word, synonyms in self.synonyms.items():
                if word in text and random.random() < 0.7:
                    text = text.replace(word, random.choice(synonyms))
            results.append(text)
        return results


# ChangeCases -----------------------------------------------------------------------------


def test_change_cases_gives_up_to_five_distinct_case_variants() -> None:
    variants = ChangeCases(5)(TEXT)

    assert variants == [
        TEXT.lower(),
        TEXT.upper(),
        TEXT.title(),
        "Wireless keyboard with backlight",
        TEXT.swapcase(),
    ]
    assert TEXT not in variants


def test_change_cases_keeps_the_requested_count_reproducibly() -> None:
    first = ChangeCases(2, seed=7)(TEXT)

    assert len(first) == 2
    assert ChangeCases(2, seed=7)(TEXT) == first
    assert set(first) <= set(ChangeCases(5)(TEXT))


def test_change_cases_drops_variants_equal_to_the_text() -> None:
    assert ChangeCases(5)("hello") == ["HELLO", "Hello"]
    assert ChangeCases(5)("123 456") == []


# Misspellings ----------------------------------------------------------------------------


def test_misspellings_gives_n_distinct_variants_with_small_character_edits() -> None:
    variants = Misspellings(5, seed=0)(TEXT)

    assert len(variants) == 5
    assert len(set(variants)) == 5
    assert TEXT not in variants
    for variant in variants:
        assert difflib.SequenceMatcher(None, TEXT, variant).ratio() > 0.8


def test_misspellings_are_reproducible_with_a_seed() -> None:
    assert Misspellings(5, seed=3)(TEXT) == Misspellings(5, seed=3)(TEXT)
    assert Misspellings(5, seed=3)(TEXT) != Misspellings(5, seed=4)(TEXT)


def test_misspellings_do_not_depend_on_call_order_with_a_seed() -> None:
    augmentation = Misspellings(3, seed=1)
    first = [augmentation("first text"), augmentation("second text")]
    second = [augmentation("second text"), augmentation("first text")]

    assert first == second[::-1]


def test_misspellings_leave_text_without_letters_alone() -> None:
    assert Misspellings(5, seed=0)("12345 !!") == []
    assert Misspellings(5, seed=0)("") == []


def test_misspellings_refuse_bad_error_rates() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        Misspellings(2, error_rate=0)
    with pytest.raises(ValueError, match="error_rate"):
        Misspellings(2, error_rate=1.5)


# Random selection ------------------------------------------------------------------------


def test_selection_size_fraction_keeps_that_share_and_at_least_one() -> None:
    assert len(ChangeCases(0.4, seed=0)(TEXT)) == 2  # 40 % of 5
    assert len(ChangeCases(0.01, seed=0)(TEXT)) == 1
    assert len(ChangeCases(1.0)(TEXT)) == 5
    assert len(ChangeCases(50)(TEXT)) == 5


def test_selection_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="selection_size"):
        ChangeCases(0)
    with pytest.raises(ValueError, match="selection_size"):
        ChangeCases(-1)


def test_custom_augmentation_from_the_tutorial_never_returns_the_original() -> None:
    augmentation = SynonymReplacement(5)

    for _ in range(20):
        variants = augmentation("a good day, not a bad one")
        assert "a good day, not a bad one" not in variants
        assert len(variants) == len(set(variants)) <= 3

    assert augmentation("nothing to replace") == []


# AugmentationsComposition ----------------------------------------------------------------


def test_composition_combines_cases_misspellings_and_both() -> None:
    cases = ChangeCases(5)
    misspellings = Misspellings(2, seed=0)
    variants = AugmentationsComposition([cases, misspellings])(TEXT)

    assert TEXT not in variants
    assert len(variants) == len(set(variants))
    assert set(cases(TEXT)) <= set(variants)
    assert set(misspellings(TEXT)) <= set(variants)
    assert set(misspellings(TEXT.upper())) <= set(variants)
    assert len(variants) == 5 + 2 + 5 * 2


def test_composition_selection_size_caps_the_variants_reproducibly() -> None:
    composition = AugmentationsComposition(
        [ChangeCases(5), Misspellings(5, seed=0)], selection_size=4, seed=0
    )

    assert len(composition(TEXT)) == 4
    assert composition(TEXT) == composition(TEXT)


# ItemsSetAugmentationApplier -------------------------------------------------------------


def test_applier_augments_one_item_without_the_original() -> None:
    applier = ItemsSetAugmentationApplier(ChangeCases(5))

    assert applier.augment_item(TEXT) == ChangeCases(5)(TEXT)
    assert ItemsSetAugmentationApplier(lambda text: [text, text + "!"]).augment_item("a") == ["a!"]


def test_applier_adds_variants_after_the_originals_with_their_ids() -> None:
    dataset = Dataset.from_dict(
        {"item_id": ["1", "2"], "item": ["Red Lamp", "123"], "price": [10, 20]}
    )

    augmented = ItemsSetAugmentationApplier(ChangeCases(2, seed=0)).apply_augmentation(dataset)

    rows = augmented.to_list()
    assert rows[:2] == dataset.to_list()
    assert [row["item_id"] for row in rows[2:]] == ["1", "1"]
    assert {row["item"] for row in rows[2:]} <= set(ChangeCases(5)("Red Lamp"))
    assert [row["price"] for row in rows[2:]] == [None, None]
