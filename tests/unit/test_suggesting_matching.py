"""Matching and ranking on an in-memory view of the pool (snapshot + delta), no server."""

from __future__ import annotations

import pytest

from embedding_studio.suggesting import matching
from embedding_studio.suggesting.models import MatchType, PhraseEntry
from embedding_studio.suggesting.snapshot import Snapshot
from embedding_studio.suggesting.suggester import suggest
from embedding_studio.suggesting.text import fold, normalize_phrase, phrase_id_of
from embedding_studio.suggesting.view import IndexView


def entry(
    phrase: str, prob: float = 0.5, labels: tuple[str, ...] = (), domains: tuple[str, ...] = ()
) -> PhraseEntry:
    text = normalize_phrase(phrase)
    return PhraseEntry(phrase_id_of(text), text, fold(text), prob, labels, domains)


POOL = [
    entry("deep learning", 0.9, ("ml",), ("ai",)),
    entry("Deep Learning for images", 0.5, ("ml",), ("ai", "vision")),
    entry("machine learning", 0.8, ("ml",), ("ai",)),
    entry("learning rate schedule", 0.3, ("training",)),
    entry("deep sea creatures", 0.7, ("ocean",), ("biology",)),
    entry("protein kinase inhibitors", 0.6, ("chemistry",), ("biology",)),
    entry('100% cotton_shirt\'s \\ "x"', 0.2),
]


def view_of(entries: list[PhraseEntry], delta: dict[str, PhraseEntry | None] | None = None):
    return IndexView(Snapshot.build(entries, revision=1), delta or {}, revision=2)


@pytest.fixture(scope="module")
def pool() -> IndexView:
    return view_of(POOL)


def phrases(found) -> list[str]:
    return [s.phrase for s in found]


def test_the_last_word_is_a_prefix_and_the_completion_follows_it(pool):
    found = suggest(pool, "deep le", 10)
    assert phrases(found) == ["deep learning", "Deep Learning for images"]
    first = found[0]
    assert (first.prefix, first.postfix, first.start, first.end) == ("deep le", "arning", 0, 7)
    assert first.match_type is MatchType.prefix


def test_typing_from_the_middle_of_a_phrase_finds_it(pool):
    found = suggest(pool, "learning fo", 10)
    assert phrases(found) == ["Deep Learning for images"]
    assert (found[0].start, found[0].end, found[0].prefix) == (5, 16, "Deep Learning fo")


def test_earlier_words_must_be_whole_words_in_order(pool):
    assert suggest(pool, "dee learning", 10)[0].match_type is MatchType.fuzzy
    assert phrases(suggest(pool, "learning deep", 10)) == []
    completed = suggest(pool, "learnin ", 10)  # a space completes the word: a typo now
    assert {s.match_type for s in completed} == {MatchType.fuzzy}
    assert len(suggest(pool, "learning ", 10)) == 4


def test_whole_phrases_rank_first_exact_before_case_insensitive():
    pool = view_of([*POOL, entry("Deep learning", 0.1)])
    found = suggest(pool, "Deep learning", 10)
    assert [(s.phrase, s.match_type) for s in found[:3]] == [
        ("Deep learning", MatchType.exact),
        ("deep learning", MatchType.exact_case_insensitive),
        ("Deep Learning for images", MatchType.prefix),
    ]


def test_prefix_matches_rank_by_probability_with_labels_taking_turns(pool):
    unlabeled = view_of([entry(e.phrase, e.prob) for e in POOL])
    assert phrases(suggest(unlabeled, "lea", 10)) == [
        "deep learning",
        "machine learning",
        "Deep Learning for images",
        "learning rate schedule",
    ]
    assert phrases(suggest(pool, "lea", 10)) == [
        "deep learning",  # ml
        "learning rate schedule",  # training: a label not shown yet goes first
        "machine learning",
        "Deep Learning for images",
    ]


def test_typos_are_found_when_nothing_matches_exactly(pool):
    found = suggest(pool, "machne lerning", 10)
    assert phrases(found) == ["machine learning"]
    assert found[0].match_type is MatchType.fuzzy and found[0].postfix == ""
    unfinished = suggest(pool, "protien kin", 10)
    assert [(s.phrase, s.prefix) for s in unfinished] == [
        ("protein kinase inhibitors", "protein kin")
    ]
    assert phrases(suggest(pool, "dep sea", 10)) == ["deep sea creatures"]


def test_more_than_two_edits_are_not_a_match(pool):
    assert suggest(pool, "mchne lrnng", 10) == []


def test_domain_restricts_every_match_type(pool):
    assert phrases(suggest(pool, "deep", 10, domain="biology")) == ["deep sea creatures"]
    assert phrases(suggest(pool, "deep lerning", 10, domain="vision")) == [
        "Deep Learning for images"
    ]
    assert suggest(pool, "deep", 10, domain="no such domain") == []


def test_labels_take_turns_within_a_match_type():
    pool = view_of(
        [
            entry("cell a", 0.9, ("x",)),
            entry("cell b", 0.8, ("x",)),
            entry("cell c", 0.7, ("x",)),
            entry("cell d", 0.2, ("y",)),
            entry("cell e", 0.1),
        ]
    )
    assert phrases(suggest(pool, "cel", 4)) == ["cell a", "cell d", "cell e", "cell b"]


def test_special_characters_are_literal(pool):
    assert phrases(suggest(pool, "100% cotton_", 10)) == ['100% cotton_shirt\'s \\ "x"']
    for wildcard in ("%", "_", "c%n", ".*", "[a-z]"):
        assert suggest(pool, wildcard, 10) == [], wildcard
    assert suggest(pool, "cotton_shirt's \\ \"", 10)[0].postfix == 'x"'


def test_changes_after_the_snapshot_shadow_it(pool):
    changed = entry("deep learning", 0.01, ("ml",), ("ai",))
    added = entry("deep water", 0.95)
    deleted = POOL[4]  # deep sea creatures
    view = IndexView(
        pool.snapshot,
        {changed.phrase_id: changed, added.phrase_id: added, deleted.phrase_id: None},
        revision=3,
    )
    assert phrases(suggest(view, "deep", 10)) == [
        "deep water",
        "Deep Learning for images",
        "deep learning",
    ]
    assert phrases(suggest(view, "wter", 10)) == ["deep water"]  # typo, in the delta
    assert view.get(deleted.phrase_id) is None and len(view) == len(POOL)


def test_top_k_is_checked():
    with pytest.raises(ValueError, match="top_k"):
        suggest(view_of(POOL), "deep", 101)


def test_narrowing_by_a_rare_word_finds_what_the_full_scan_finds(pool, monkeypatch):
    queries = ["deep learning", "learning fo", "learning ", "deep sea c", "for images ", "sea"]
    narrowed = {(q, d): suggest(pool, q, 10, d) for q in queries for d in (None, "ai")}
    monkeypatch.setattr(matching, "_NARROW_BELOW", 0)  # always scan the haystack
    assert {(q, d): suggest(pool, q, 10, d) for q in queries for d in (None, "ai")} == narrowed
