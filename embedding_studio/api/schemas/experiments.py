"""Online experiment requests, their view and their report."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from embedding_studio.models.common import UtcDatetime
from embedding_studio.models.tasks import utc_now
from embedding_studio.online_experiments.models import (
    EXPERIMENT_ID_PATTERN,
    Experiment,
    ExperimentMode,
    ExperimentStatus,
    Team,
)
from embedding_studio.online_experiments.report import ExperimentReport, VariantFigures


class ExperimentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    experiment_id: str = Field(..., pattern=EXPERIMENT_ID_PATTERN)
    description: str = Field("", max_length=2000)
    mode: ExperimentMode = Field(
        ...,
        description="ab: each user (or session without a user) sees one variant; "
        "interleaving: each search shows both variants merged by team draft",
    )
    variant_a: str = Field(
        ..., min_length=1, max_length=256, description="Control: an embedding model id"
    )
    variant_b: str = Field(
        ..., min_length=1, max_length=256, description="Candidate: an embedding model id"
    )
    exposure: float = Field(
        1.0,
        gt=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="Share of users (or sessions without a user) in the experiment",
    )
    b_share: float = Field(
        0.5,
        gt=0.0,
        lt=1.0,
        allow_inf_nan=False,
        description="ab mode: share of the exposed users shown variant B",
    )

    @model_validator(mode="after")
    def _two_variants(self) -> ExperimentRequest:
        if self.variant_a == self.variant_b:
            raise ValueError(
                f"variant_b: {self.variant_b!r} is variant_a too; compare two different models"
            )
        return self

    def to_domain(self) -> Experiment:
        return Experiment(**self.model_dump(), created_at=utc_now())


class ExperimentResponse(BaseModel):
    experiment_id: str
    description: str
    mode: ExperimentMode
    variant_a: str
    variant_b: str
    exposure: float
    b_share: float
    status: ExperimentStatus
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    stopped_at: UtcDatetime | None

    @classmethod
    def from_domain(cls, experiment: Experiment) -> ExperimentResponse:
        return cls.model_validate(experiment.model_dump())


class ExperimentListResponse(BaseModel):
    experiments: list[ExperimentResponse]


class VariantReportResponse(BaseModel):
    embedding_model_id: str
    searches: int = Field(..., description="Searches that showed the variant")
    shown: int = Field(..., description="Results it showed (contributed, when interleaved)")
    clicks: int = Field(..., description="Distinct results clicked (credited to it)")
    ctr: float | None = Field(..., description="clicks / shown")
    mean_reciprocal_rank: float | None = Field(
        ..., description="Mean of 1 / (1 + position of the first click), 0 without a click"
    )
    zero_click_share: float | None

    @classmethod
    def from_figures(cls, figures: VariantFigures) -> VariantReportResponse:
        return cls(
            embedding_model_id=figures.model_id,
            searches=figures.searches,
            shown=figures.shown,
            clicks=figures.clicks,
            ctr=figures.ctr,
            mean_reciprocal_rank=figures.mean_reciprocal_rank,
            zero_click_share=figures.zero_click_share,
        )


class InterleavingReportResponse(BaseModel):
    b_wins: int = Field(..., description="Searches where B was credited with more clicks")
    a_wins: int
    ties: int = Field(..., description="Searches with clicks, credited equally")
    no_clicks: int
    p_value: float | None = Field(..., description="Two-sided sign test of b_wins vs a_wins")


class AbReportResponse(BaseModel):
    p_value_clicked_searches: float | None = Field(
        ..., description="Two-proportion z-test of the share of searches with a click"
    )
    p_value_mrr: float | None = Field(
        ..., description="Welch z-test of the per-search reciprocal rank of clicks"
    )


class ExperimentReportResponse(BaseModel):
    experiment: ExperimentResponse
    event_type: str = Field(..., description="The clickstream event type counted as a click")
    variants: dict[Team, VariantReportResponse]
    interleaving: InterleavingReportResponse | None
    ab: AbReportResponse | None
    winner: Team | None = Field(..., description="The better variant at p < alpha, else null")
    alpha: float

    @classmethod
    def from_domain(cls, report: ExperimentReport, event_type: str) -> ExperimentReportResponse:
        outcome = report.interleaving
        return cls(
            experiment=ExperimentResponse.from_domain(report.experiment),
            event_type=event_type,
            variants={t: VariantReportResponse.from_figures(f) for t, f in report.variants.items()},
            interleaving=InterleavingReportResponse(**vars(outcome)) if outcome else None,
            ab=AbReportResponse(**vars(report.ab)) if report.ab else None,
            winner=report.winner,
            alpha=report.alpha,
        )
