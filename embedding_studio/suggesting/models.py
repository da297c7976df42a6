"""The suggestion system's domain objects: stored phrases and the suggestions made of them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MatchType(StrEnum):
    """How a suggestion matched what was typed, best first."""

    exact = "exact"
    """The typed text is the whole phrase, character for character."""
    exact_case_insensitive = "exact_case_insensitive"
    """The typed text is the whole phrase, ignoring case."""
    prefix = "prefix"
    """The typed words appear in the phrase, in order and adjacent, starting at a word
    (anywhere in the phrase); the last typed word is the start of a phrase word."""
    fuzzy = "fuzzy"
    """As `prefix`, within a total edit distance of 1-2 (typos)."""

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {
    MatchType.exact: 0,
    MatchType.exact_case_insensitive: 1,
    MatchType.prefix: 2,
    MatchType.fuzzy: 3,
}


class PhraseOrigin(StrEnum):
    manual = "manual"
    """Added through the API; its probability is what an operator set."""
    learned = "learned"
    """Added from clickstream sessions with clicks; its probability follows its clicks
    until an operator sets one (it then becomes `manual`)."""


@dataclass(frozen=True, slots=True)
class PhraseEntry:
    """A live phrase as the matcher holds it.

    :param folded: the phrase folded (same length as `phrase`)
    :param labels: sorted, distinct
    :param domains: sorted, distinct
    """

    phrase_id: str
    phrase: str
    folded: str
    prob: float
    labels: tuple[str, ...]
    domains: tuple[str, ...]

    @property
    def sort_key(self) -> tuple[float, str]:
        """Matching order: most probable first, ties by id (stable everywhere)."""
        return (-self.prob, self.phrase_id)


@dataclass(frozen=True)
class StoredPhrase:
    """A phrase as stored, with what the API reports about it."""

    phrase_id: str
    phrase: str
    prob: float
    labels: tuple[str, ...]
    domains: tuple[str, ...]
    origin: PhraseOrigin
    clicks: int


@dataclass(frozen=True)
class NewPhrase:
    """A phrase to add; `phrase` is normalised, labels and domains distinct."""

    phrase: str
    prob: float = 1.0
    labels: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """A phrase that matched, before ranking.

    :param start: offset in the phrase where the matched text starts (characters)
    :param end: offset where the typed text ends in the phrase (the completion follows)
    :param distance: total edit distance of the typed words (0 unless fuzzy)
    """

    entry: PhraseEntry
    match_type: MatchType
    start: int
    end: int
    distance: int = 0

    @property
    def rank_key(self) -> tuple[int, float, int, int, int, str]:
        """Match type, then probability, then fewer edits, earlier start, shorter phrase."""
        entry = self.entry
        return (
            self.match_type.rank,
            -entry.prob,
            self.distance,
            self.start,
            len(entry.phrase),
            entry.phrase_id,
        )


@dataclass(frozen=True)
class Suggestion:
    """A suggestion for the API: `prefix + postfix == phrase`; `prefix` ends where the
    typed text ends in the phrase, `postfix` is the completion; `start`/`end` delimit
    the matched text in `phrase` (characters, end exclusive)."""

    phrase_id: str
    phrase: str
    prefix: str
    postfix: str
    start: int
    end: int
    match_type: MatchType
    prob: float
    labels: tuple[str, ...]
    domains: tuple[str, ...]

    @classmethod
    def of(cls, match: Match) -> Suggestion:
        entry = match.entry
        return cls(
            phrase_id=entry.phrase_id,
            phrase=entry.phrase,
            prefix=entry.phrase[: match.end],
            postfix=entry.phrase[match.end :],
            start=match.start,
            end=match.end,
            match_type=match.match_type,
            prob=entry.prob,
            labels=entry.labels,
            domains=entry.domains,
        )
