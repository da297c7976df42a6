"""Query suggestions: what the API and plugins use (`context.suggestions`).

`get_top_k` matches what the user has typed against the live index of the phrase pool:
whole-phrase matches first (exact, then ignoring case), then prefix matches (the typed
words, the last one unfinished, anywhere in a phrase), and only when neither finds
anything, matches with typos (edit distance 1-2). Results are ranked by match type,
then probability, and diversified by label (`ranking`).
"""

from __future__ import annotations

from sqlalchemy import Engine

from embedding_studio.suggesting.feed import PhraseFeed
from embedding_studio.suggesting.fuzzy import fuzzy_matches
from embedding_studio.suggesting.learning import ClickLearning
from embedding_studio.suggesting.live_index import DEFAULT_REBUILD_AFTER, LiveIndex
from embedding_studio.suggesting.matching import exact_matches, prefix_matches
from embedding_studio.suggesting.models import Suggestion
from embedding_studio.suggesting.ranking import diversify
from embedding_studio.suggesting.store import PhraseStore
from embedding_studio.suggesting.text import parse_typed
from embedding_studio.suggesting.view import IndexView

MAX_TOP_K = 100


def candidate_limit(top_k: int) -> int:
    """Matches gathered per match type: enough to diversify `top_k` results by label."""
    return max(4 * top_k, 20)


class Suggester:
    """The phrase pool (`phrases`), its live index and click learning (`learning`).

    :param engine: the PostgreSQL engine holding the pool (migrated on first use)
    :param learned_half_clicks: clicks at which a learned phrase's probability is 0.5
    :param rebuild_after: changed phrases kept beside the index snapshot before rebuilding
    """

    def __init__(
        self,
        engine: Engine,
        learned_half_clicks: float = 5.0,
        rebuild_after: int = DEFAULT_REBUILD_AFTER,
    ) -> None:
        self.phrases = PhraseStore(engine)
        self._feed = PhraseFeed(engine, self.phrases)
        self.index = LiveIndex(self._feed, rebuild_after)
        self.learning = ClickLearning(self.phrases, learned_half_clicks)

    def close(self) -> None:
        """Release the index's connection (the engine stays open)."""
        self._feed.close()

    def get_top_k(
        self, phrase: str, top_k: int = 10, domain: str | None = None
    ) -> list[Suggestion]:
        """Up to `top_k` (1..100) suggestions for the typed `phrase`, best first; only
        phrases of `domain` when one is given.

        :raises ValueError: `phrase` holds no word, or `top_k` is out of range
        """
        return suggest(self.index.view(), phrase, top_k, domain)


def suggest(
    view: IndexView, phrase: str, top_k: int, domain: str | None = None
) -> list[Suggestion]:
    """`Suggester.get_top_k` on a given view of the pool."""
    if not 1 <= top_k <= MAX_TOP_K:
        raise ValueError(f"top_k must be 1..{MAX_TOP_K}, got {top_k}")
    typed = parse_typed(phrase)
    limit = candidate_limit(top_k)
    matches = exact_matches(view, typed, domain)
    matches += prefix_matches(view, typed, domain, limit)
    if not matches:
        matches = fuzzy_matches(view, typed, domain, limit)
    return [Suggestion.of(match) for match in diversify(matches, top_k)]
