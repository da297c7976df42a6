"""Online experiment routes (admin key): define, start, stop, list, report.

While an experiment runs, similarity searches are served by it (see
services.experiment_search); nothing changes for the search front end."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from embedding_studio.api.deps import ContextDep, require_admin_key
from embedding_studio.api.schemas.experiments import (
    ExperimentListResponse,
    ExperimentReportResponse,
    ExperimentRequest,
    ExperimentResponse,
)
from embedding_studio.online_experiments.models import EXPERIMENT_ID_PATTERN
from embedding_studio.services import experiments

router = APIRouter(
    prefix="/experiments", tags=["experiments"], dependencies=[Depends(require_admin_key)]
)

ExperimentId = Annotated[str, Path(pattern=EXPERIMENT_ID_PATTERN)]


@router.post("", response_model=ExperimentResponse)
def create_experiment(body: ExperimentRequest, ctx: ContextDep) -> ExperimentResponse:
    """Define an experiment (status `created`). 422: a variant has no collection, both
    variants are one model, or a share is out of range; 409: the id is taken."""
    return ExperimentResponse.from_domain(experiments.create(ctx, body.to_domain()))


@router.get("", response_model=ExperimentListResponse)
def list_experiments(ctx: ContextDep) -> ExperimentListResponse:
    items = [ExperimentResponse.from_domain(e) for e in experiments.list_all(ctx)]
    return ExperimentListResponse(experiments=items)


@router.get("/{experiment_id}", response_model=ExperimentResponse)
def get_experiment(experiment_id: ExperimentId, ctx: ContextDep) -> ExperimentResponse:
    return ExperimentResponse.from_domain(experiments.get(ctx, experiment_id))


@router.post("/{experiment_id}/start", response_model=ExperimentResponse)
def start_experiment(experiment_id: ExperimentId, ctx: ContextDep) -> ExperimentResponse:
    """Serve searches by the experiment. 404: unknown; 409: not `created`, or another
    experiment runs; 422: a variant's collection was deleted."""
    return ExperimentResponse.from_domain(experiments.start(ctx, experiment_id))


@router.post("/{experiment_id}/stop", response_model=ExperimentResponse)
def stop_experiment(experiment_id: ExperimentId, ctx: ContextDep) -> ExperimentResponse:
    """Stop serving searches by the experiment (idempotent); the report stays."""
    return ExperimentResponse.from_domain(experiments.stop(ctx, experiment_id))


@router.get("/{experiment_id}/report", response_model=ExperimentReportResponse)
def experiment_report(
    experiment_id: ExperimentId,
    ctx: ContextDep,
    event_type: Annotated[str, Query(min_length=1, max_length=64)] = "click",
) -> ExperimentReportResponse:
    """Per variant: searches, CTR, mean reciprocal rank of clicks, zero-click share;
    interleaving: B's wins, A's wins, ties and the sign test's p-value; ab: p-values of
    the clicked-search share and of the reciprocal rank."""
    report = experiments.report(ctx, experiment_id, event_type)
    return ExperimentReportResponse.from_domain(report, event_type)
