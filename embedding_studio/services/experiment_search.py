"""Searches under a running online experiment (the hook of `services.search`).

While an experiment runs, every similarity search with a query by an exposed unit (its
user id, or its session id when it has no user) is served by the experiment instead of
the blue collection: `ab` searches the unit's variant; `interleaving` searches both
variants and merges them by team draft (see `online_experiments.interleaving` for how
pages stay consistent). Searches without a query (payload filter only), searches sorted
by a payload field (`sort_by`: the field ranks, not the model), and searches with neither
a user id nor a session id are not part of the experiment.

Filters, sorting, `max_distance` and personalisation apply to each variant as in a
normal search. In an interleaved list each result keeps its own variant's distance
(two models' distances are not on one scale).

Only searches that open a clickstream session are counted: `record` stores what the
search showed, per session, after the session is registered; the session's
`search_meta.experiment` holds the experiment id, the mode, the variant and, when
interleaved, the team of each result of that page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import NotFound
from embedding_studio.data_access.experiments import ExperimentRepository
from embedding_studio.models.embeddings.objects import SearchResults
from embedding_studio.online_experiments.assignment import assign
from embedding_studio.online_experiments.interleaving import team_draft
from embedding_studio.online_experiments.models import (
    Assignment,
    ServedResult,
    ServedSearch,
    Team,
)
from embedding_studio.vectordb.collection import Collection
from embedding_studio.vectordb.collection_info import CollectionInfo

logger = logging.getLogger(__name__)

SearchIn = Callable[[Collection, int, int], SearchResults]
"""Runs the request's search in one collection: (collection, limit, offset) -> results."""


@dataclass(frozen=True)
class ExperimentResults:
    """A page served by an experiment.

    :param info: the collection shown (`ab`) or variant A's (`interleaving`): the plugin
        and model the session records
    :param model_id: the response's `embedding_model_id`: the variant's model, or both
        models' ids joined by "," when interleaved
    """

    results: SearchResults
    info: CollectionInfo
    model_id: str
    served: ServedSearch

    @property
    def session_meta(self) -> dict[str, Any]:
        experiment: dict[str, Any] = {
            "experiment_id": self.served.experiment_id,
            "variant": self.served.variant,
        }
        if self.served.variant == "interleaved":
            experiment["teams"] = [[r.object_id, r.team] for r in self.served.results]
        return {"experiment": experiment}


def repository(ctx: AppContext) -> ExperimentRepository:
    return ExperimentRepository(ctx.documents)


def _assignment(ctx: AppContext, user_id: str | None, session_id: str | None) -> Assignment | None:
    unit = user_id or session_id
    if unit is None:
        return None
    experiment = repository(ctx).running()
    return assign(experiment, unit) if experiment is not None else None


def _collections(ctx: AppContext, assignment: Assignment) -> dict[Team, Collection] | None:
    experiment = assignment.experiment
    teams: tuple[Team, ...] = ("a", "b") if assignment.team is None else (assignment.team,)
    try:
        return {team: ctx.vectordb.get_collection(experiment.model_id(team)) for team in teams}
    except NotFound as exc:
        logger.warning(
            "experiment %s is running but a variant has no collection (%s): searching blue",
            experiment.experiment_id,
            exc,
        )
        return None


def interleaving_seed(experiment_id: str, unit: str, query: Any) -> str:
    """The same (experiment, unit, query) gets the same interleaved list on every page."""
    return "\x1f".join((experiment_id, unit, json.dumps(query, sort_keys=True, default=str)))


def _interleave(
    collections: dict[Team, Collection], search_in: SearchIn, offset: int, limit: int, seed: str
) -> tuple[SearchResults, list[tuple[str, Team]]]:
    length = offset + limit
    ranked = {team: search_in(collection, length, 0) for team, collection in collections.items()}
    items = {team: {i.object_id: i for i in r.found_objects} for team, r in ranked.items()}
    ids = {team: [i.object_id for i in r.found_objects] for team, r in ranked.items()}
    merged = team_draft(ids["a"], ids["b"], length, seed)
    page = merged[offset:length]
    more = len(merged) == length and (
        any(r.next_offset is not None for r in ranked.values())
        or len(set(ids["a"]) | set(ids["b"])) > length
    )
    results = SearchResults(
        found_objects=[items[team][object_id] for object_id, team in page],
        next_offset=length if more else None,
    )
    return results, page


def serve(
    ctx: AppContext,
    query: Any,
    user_id: str | None,
    session_id: str | None,
    offset: int,
    limit: int,
    search_in: SearchIn,
) -> ExperimentResults | None:
    """The page the running experiment serves to this search, or None when no experiment
    applies (none runs, the unit is not exposed, or a variant lost its collection)."""
    assignment = _assignment(ctx, user_id, session_id)
    if assignment is None:
        return None
    collections = _collections(ctx, assignment)
    if collections is None:
        return None
    experiment = assignment.experiment
    if assignment.team is not None:
        collection = collections[assignment.team]
        results = search_in(collection, limit, offset)
        page = [(item.object_id, assignment.team) for item in results.found_objects]
        info, model_id = collection.info, collection.info.embedding_model_id
    else:
        seed = interleaving_seed(experiment.experiment_id, assignment.unit, query)
        results, page = _interleave(collections, search_in, offset, limit, seed)
        info, model_id = collections["a"].info, f"{experiment.variant_a},{experiment.variant_b}"
    served = ServedSearch(
        experiment_id=experiment.experiment_id,
        session_id=session_id or "",
        unit=assignment.unit,
        variant=assignment.team or "interleaved",
        results=tuple(ServedResult(o, offset + i, team) for i, (o, team) in enumerate(page)),
    )
    return ExperimentResults(results, info, model_id, served)


def record(ctx: AppContext, served: ExperimentResults, session_id: str) -> None:
    """Count the search in its experiment (call once its session is registered)."""
    search = served.served
    if search.session_id != session_id:
        search = ServedSearch(
            search.experiment_id, session_id, search.unit, search.variant, search.results
        )
    repository(ctx).record(search)
