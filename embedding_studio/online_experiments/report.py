"""An experiment's figures from the searches it served and the clicks they got.

Per variant:
- `searches`: searches that showed the variant (in `interleaving` mode, every search);
- `shown`, `clicks`: results the variant showed (contributed, when interleaved) and how
  many distinct ones were clicked (credited to it); `ctr` = clicks / shown;
- `mean_reciprocal_rank`: the mean over its searches of 1 / (1 + position of the first
  clicked result), positions counted from 0 in the list the user saw, 0 for a search
  without a click (credited to the variant, when interleaved);
- `zero_click_share`: the share of its searches without a click (credited to it).

`ab`: B against A by the share of searches with a click (two-proportion test) and by the
per-search reciprocal rank (Welch); the winner follows the reciprocal rank.
`interleaving`: a search is won by the team credited with more clicked results, tied when
both are credited as many (at least one click), and counts as no-click otherwise; the
sign test of B's wins against A's gives the p-value and the winner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from embedding_studio.online_experiments.models import (
    Experiment,
    ExperimentMode,
    ServedSearch,
    Team,
)
from embedding_studio.online_experiments.statistics import (
    mean_difference_p_value,
    sign_test_p_value,
    two_proportion_p_value,
)

ALPHA = 0.05
TEAMS: tuple[Team, Team] = ("a", "b")


@dataclass
class VariantFigures:
    model_id: str
    searches: int = 0
    shown: int = 0
    clicks: int = 0
    reciprocal_ranks: list[float] = field(default_factory=list)

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.shown if self.shown else None

    @property
    def mean_reciprocal_rank(self) -> float | None:
        return sum(self.reciprocal_ranks) / self.searches if self.searches else None

    @property
    def clicked_searches(self) -> int:
        return sum(1 for rank in self.reciprocal_ranks if rank > 0)

    @property
    def zero_click_share(self) -> float | None:
        return 1.0 - self.clicked_searches / self.searches if self.searches else None


@dataclass(frozen=True)
class InterleavingOutcome:
    b_wins: int
    a_wins: int
    ties: int
    no_clicks: int
    p_value: float | None


@dataclass(frozen=True)
class AbComparison:
    p_value_clicked_searches: float | None
    p_value_mrr: float | None


@dataclass(frozen=True)
class ExperimentReport:
    experiment: Experiment
    variants: dict[Team, VariantFigures]
    interleaving: InterleavingOutcome | None
    ab: AbComparison | None
    winner: Team | None
    alpha: float = ALPHA


def _credit(
    search: ServedSearch, clicked: set[str], figures: dict[Team, VariantFigures]
) -> dict[Team, int]:
    """Add one search to its variants' figures; the clicks credited to each team."""
    teams: tuple[Team, ...] = TEAMS if search.variant == "interleaved" else (search.variant,)
    credited: dict[Team, int] = {"a": 0, "b": 0}
    for team in teams:
        own = [r for r in search.results if r.team == team]
        hits = [r.position for r in own if r.object_id in clicked]
        variant = figures[team]
        variant.searches += 1
        variant.shown += len(own)
        variant.clicks += len(hits)
        variant.reciprocal_ranks.append(1.0 / (1 + min(hits)) if hits else 0.0)
        credited[team] = len(hits)
    return credited


def _winner_by(p_value: float | None, difference: float) -> Team | None:
    if p_value is None or p_value >= ALPHA or difference == 0:
        return None
    return "b" if difference > 0 else "a"


def build_report(
    experiment: Experiment,
    searches: Iterable[ServedSearch],
    clicks: Mapping[str, set[str]],
) -> ExperimentReport:
    """The report of `searches`; `clicks` maps a session id to its clicked object ids."""
    figures = {team: VariantFigures(experiment.model_id(team)) for team in TEAMS}
    b_wins = a_wins = ties = no_clicks = 0
    for search in searches:
        credited = _credit(search, clicks.get(search.session_id, set()), figures)
        if search.variant != "interleaved":
            continue
        if credited["b"] > credited["a"]:
            b_wins += 1
        elif credited["a"] > credited["b"]:
            a_wins += 1
        elif credited["a"] > 0:
            ties += 1
        else:
            no_clicks += 1
    if experiment.mode is ExperimentMode.interleaving:
        p_value = sign_test_p_value(b_wins, a_wins)
        outcome = InterleavingOutcome(b_wins, a_wins, ties, no_clicks, p_value)
        return ExperimentReport(
            experiment, figures, outcome, None, _winner_by(p_value, b_wins - a_wins)
        )
    return _ab_report(experiment, figures)


def _ab_report(experiment: Experiment, figures: dict[Team, VariantFigures]) -> ExperimentReport:
    a, b = figures["a"], figures["b"]
    comparison = AbComparison(
        p_value_clicked_searches=two_proportion_p_value(
            a.clicked_searches, a.searches, b.clicked_searches, b.searches
        ),
        p_value_mrr=mean_difference_p_value(a.reciprocal_ranks, b.reciprocal_ranks),
    )
    difference = (b.mean_reciprocal_rank or 0.0) - (a.mean_reciprocal_rank or 0.0)
    winner = _winner_by(comparison.p_value_mrr, difference)
    return ExperimentReport(experiment, figures, None, comparison, winner)
