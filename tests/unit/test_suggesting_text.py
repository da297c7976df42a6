"""Normalisation, folding and typed-text parsing of the suggestion system."""

from __future__ import annotations

import pytest

from embedding_studio.suggesting.text import (
    fold,
    normalize_phrase,
    parse_typed,
    phrase_id_of,
    word_starts,
)


def test_normalize_trims_and_collapses_whitespace_and_composes_unicode():
    assert normalize_phrase("  deep \t learning\n ") == "deep learning"
    assert normalize_phrase("cafe\u0301") == "caf\u00e9"


def test_fold_keeps_the_length_so_offsets_map_back():
    text = "\u0130stanbul Straße DEEP"  # capital dotted I lower-cases to two characters
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded.endswith("straße deep")


def test_phrase_ids_are_derived_from_the_exact_text():
    assert phrase_id_of("deep learning") == phrase_id_of("deep learning")
    assert phrase_id_of("deep learning") != phrase_id_of("Deep learning")


def test_a_trailing_space_completes_the_last_word():
    typed = parse_typed("Deep  Lea")
    assert (typed.text, typed.words, typed.last_word_complete) == (
        "Deep Lea",
        ("deep", "lea"),
        False,
    )
    assert typed.needle == " deep lea"
    complete = parse_typed("deep learning ")
    assert complete.last_word_complete and complete.needle == " deep learning "


def test_typed_text_without_a_word_is_refused():
    with pytest.raises(ValueError, match="no word"):
        parse_typed(" \t ")


def test_word_starts():
    assert word_starts("a bc def") == [0, 2, 5]
