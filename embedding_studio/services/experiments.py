"""Managing online experiments: define, start, stop, report.

A variant is an embedding model id whose collection exists in the search vector
database (the blue one, a green one a reindex or deployment created, ...). Variants are
checked when the experiment is defined and again when it starts.
"""

from __future__ import annotations

import logging

from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import InvalidRequest, NotFound
from embedding_studio.data_access.experiments import ExperimentRepository
from embedding_studio.online_experiments.models import Experiment
from embedding_studio.online_experiments.report import ExperimentReport, build_report

logger = logging.getLogger(__name__)


def _repository(ctx: AppContext) -> ExperimentRepository:
    return ExperimentRepository(ctx.documents)


def _check_variants(ctx: AppContext, experiment: Experiment) -> None:
    """`InvalidRequest` naming each variant without a collection."""
    missing: list[str] = []
    for field, model_id in (
        ("variant_a", experiment.variant_a),
        ("variant_b", experiment.variant_b),
    ):
        try:
            ctx.vectordb.get_collection(model_id)
        except NotFound:
            missing.append(f"{field} {model_id!r}")
        except InvalidRequest as exc:  # not even a valid model id
            raise InvalidRequest(f"{field} {model_id!r}: {exc}") from exc
    if missing:
        known = [info.embedding_model_id for info in ctx.vectordb.list_collections()]
        raise InvalidRequest(
            f"{' and '.join(missing)}: no collection for this embedding model; collections: {known}"
        )


def create(ctx: AppContext, experiment: Experiment) -> Experiment:
    """Store a new experiment (status `created`).

    :raises InvalidRequest: a variant has no collection
    :raises Conflict: the experiment id is taken
    """
    _check_variants(ctx, experiment)
    created = _repository(ctx).create(experiment)
    logger.info(
        "experiment %s (%s): %s vs %s",
        experiment.experiment_id,
        experiment.mode.value,
        experiment.variant_a,
        experiment.variant_b,
    )
    return created


def get(ctx: AppContext, experiment_id: str) -> Experiment:
    return _repository(ctx).require(experiment_id)


def list_all(ctx: AppContext) -> list[Experiment]:
    return _repository(ctx).list()


def start(ctx: AppContext, experiment_id: str) -> Experiment:
    """Start serving searches by the experiment.

    :raises NotFound: unknown experiment
    :raises InvalidRequest: a variant's collection was deleted since
    :raises Conflict: not `created`, or another experiment runs
    """
    repository = _repository(ctx)
    _check_variants(ctx, repository.require(experiment_id))
    started = repository.start(experiment_id)
    logger.info("experiment %s started", experiment_id)
    return started


def stop(ctx: AppContext, experiment_id: str) -> Experiment:
    """Stop serving searches by the experiment (idempotent); its report stays."""
    stopped = _repository(ctx).stop(experiment_id)
    logger.info("experiment %s stopped", experiment_id)
    return stopped


def report(ctx: AppContext, experiment_id: str, event_type: str = "click") -> ExperimentReport:
    """The experiment's figures so far; `event_type` is the clickstream event counted
    as a click."""
    repository = _repository(ctx)
    experiment = repository.require(experiment_id)
    searches = list(repository.served(experiment_id))
    clicks = repository.clicked([s.session_id for s in searches], event_type)
    return build_report(experiment, searches, clicks)
