"""Team-draft interleaving (Radlinski, Kurup, Joachims, CIKM 2008).

Two teams pick in rounds: the team with fewer picks so far goes first, a coin decides
when both have as many; each pick is the team's highest-ranked result not yet in the
list. A click on a result is credited to the team that picked it.

Pagination: the coins of a list are drawn from a hash of a seed (the experiment, the
unit and the query), not from a random generator, and a list of length n only needs each
ranking's top n. The interleaved list of a search is therefore the same on every request
that repeats it, and page k (offset, limit) is the slice [offset, offset + limit) of the
list built from each variant's top offset + limit: later pages continue the first
without repeating or skipping a result (as long as the collections do not change in
between, exactly as for a single ranking).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from embedding_studio.online_experiments.models import Team


def coin(seed: str, round_number: int) -> Team:
    """The team that picks first in this round when both have as many picks."""
    digest = hashlib.sha256(f"{seed}\x1f{round_number}".encode()).digest()
    return "a" if digest[0] & 1 == 0 else "b"


def _next_pick(ranking: Sequence[str], start: int, taken: set[str]) -> tuple[str | None, int]:
    """The first id of ranking[start:] not taken, and where the search stopped."""
    position = start
    while position < len(ranking) and ranking[position] in taken:
        position += 1
    return (ranking[position] if position < len(ranking) else None), position


def team_draft(
    ranking_a: Sequence[str], ranking_b: Sequence[str], length: int, seed: str
) -> list[tuple[str, Team]]:
    """The first `length` results of the interleaved list, each with its team.

    When one ranking is exhausted the other keeps picking; the list is shorter than
    `length` only when both are. Ids listed by both rankings appear once."""
    rankings: dict[Team, Sequence[str]] = {"a": ranking_a, "b": ranking_b}
    cursor: dict[Team, int] = {"a": 0, "b": 0}
    picks: dict[Team, int] = {"a": 0, "b": 0}
    taken: set[str] = set()
    merged: list[tuple[str, Team]] = []
    round_number = 0
    while len(merged) < length:
        if picks["a"] != picks["b"]:
            first: Team = "a" if picks["a"] < picks["b"] else "b"
        else:
            first = coin(seed, round_number)
            round_number += 1
        second: Team = "b" if first == "a" else "a"
        picked = False
        for team in (first, second):
            object_id, cursor[team] = _next_pick(rankings[team], cursor[team], taken)
            if object_id is not None:
                taken.add(object_id)
                merged.append((object_id, team))
                picks[team] += 1
                picked = True
                break
        if not picked:
            break
    return merged
