"""Ranking and label diversification of matched phrases.

Matches are ranked by match type (exact, exact ignoring case, prefix, fuzzy), then by
probability (then fewer edits, earlier start, shorter phrase, id). Diversification keeps
the match-type order but, within a match type, lets a label repeat only once every label
of the candidates has shown: at each step it takes the best-ranked candidate whose labels
have appeared least so far. Phrases without labels are never held back.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence

from embedding_studio.suggesting.models import Match


def _repeats(match: Match, shown: Counter[str]) -> int:
    return max((shown[label] for label in match.entry.labels), default=0)


def diversify(matches: Sequence[Match], top_k: int) -> list[Match]:
    """The `top_k` suggestions from `matches` (any order, distinct phrases).

    Lazy greedy selection: a label's count only grows, so a candidate popped with an
    outdated count is pushed back with the current one; one popped up to date is the best.
    """
    ranked = sorted(matches, key=lambda match: match.rank_key)
    heap = [(match.match_type.rank, 0, position) for position, match in enumerate(ranked)]
    heapq.heapify(heap)
    chosen: list[Match] = []
    shown: Counter[str] = Counter()
    while heap and len(chosen) < top_k:
        tier, repeats, position = heapq.heappop(heap)
        match = ranked[position]
        current = _repeats(match, shown)
        if current != repeats:
            heapq.heappush(heap, (tier, current, position))
            continue
        chosen.append(match)
        shown.update(match.entry.labels)
    return chosen
