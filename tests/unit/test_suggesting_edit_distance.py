"""The vectorised edit distance agrees with the scalar definition."""

from __future__ import annotations

import random

import pytest

from embedding_studio.suggesting.edit_distance import (
    WordMatrix,
    osa_distance,
    prefix_distance,
)
from embedding_studio.suggesting.fuzzy import word_budget


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("learning", "lerning", 1),
        ("machine", "mahcine", 1),
        ("abc", "", 3),
        ("kitten", "sitting", 3),
    ],
)
def test_osa_distance(a, b, expected):
    assert osa_distance(a, b) == expected


def test_prefix_distance_finds_the_closest_prefix():
    assert prefix_distance("lern", "learning") == (1, 5)  # "learn"
    assert prefix_distance("deep", "deep") == (0, 4)


def test_matrix_candidates_equal_the_scalar_distances_on_random_words():
    rng = random.Random(3)
    alphabet = "abcdé1-"
    words = sorted(
        {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9))) for _ in range(300)}
    )
    matrix = WordMatrix.build(words)
    for _ in range(40):
        typed = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
        for prefix in (False, True):
            exact = {
                word: prefix_distance(typed, word)[0] if prefix else osa_distance(typed, word)
                for word in words
            }
            for bound in (0, 1, 2):
                expected = {word: d for word, d in exact.items() if d <= bound}
                assert matrix.candidates(typed, bound, prefix) == expected, (typed, bound, prefix)


def test_long_words_are_compared_on_their_first_characters():
    long_word = "pneumonoultramicroscopicsilicovolcanoconiosis"
    matrix = WordMatrix.build([long_word])
    assert matrix.candidates("pneumonoultra", 1, prefix=True) == {long_word: 0}


def test_word_budget_grows_with_length():
    assert [word_budget(w, False) for w in ("ab", "abc", "abcde", "abcdef")] == [0, 1, 1, 2]
    assert [word_budget(w, True) for w in ("abc", "abcd", "abcdef", "abcdefg")] == [0, 1, 1, 2]
