"""The experiment definition and what one search of an experiment served."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from embedding_studio.models.common import UtcDatetime

EXPERIMENT_ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"

Team = Literal["a", "b"]


class ExperimentMode(StrEnum):
    """`ab`: each unit (user, or session without a user) sees one variant's ranking.
    `interleaving`: each search shows both rankings merged by team draft."""

    ab = "ab"
    interleaving = "interleaving"


class ExperimentStatus(StrEnum):
    """created -> running -> stopped. Only running experiments take traffic; a stopped
    one keeps its searches for the report and cannot run again."""

    created = "created"
    running = "running"
    stopped = "stopped"


class Experiment(BaseModel):
    """Two model versions compared on live traffic.

    :param variant_a: embedding model id of the control (its collection must exist)
    :param variant_b: embedding model id of the candidate (its collection must exist)
    :param exposure: share of units (users, or sessions without a user) in the
        experiment, in (0, 1]; the others search the blue collection as usual
    :param b_share: in `ab` mode, the share of exposed units shown variant B, in (0, 1);
        ignored by `interleaving` (every exposed search shows both)
    """

    experiment_id: str = Field(..., pattern=EXPERIMENT_ID_PATTERN)
    description: str = Field("", max_length=2000)
    mode: ExperimentMode
    variant_a: str = Field(..., min_length=1, max_length=256)
    variant_b: str = Field(..., min_length=1, max_length=256)
    exposure: float = Field(1.0, gt=0.0, le=1.0)
    b_share: float = Field(0.5, gt=0.0, lt=1.0)
    status: ExperimentStatus = ExperimentStatus.created
    created_at: UtcDatetime
    started_at: UtcDatetime | None = None
    stopped_at: UtcDatetime | None = None

    @model_validator(mode="after")
    def _two_variants(self) -> Experiment:
        if self.variant_a == self.variant_b:
            raise ValueError(
                f"variant_b: {self.variant_b!r} is variant_a too; compare two different models"
            )
        return self

    def model_id(self, team: Team) -> str:
        return self.variant_a if team == "a" else self.variant_b


@dataclass(frozen=True)
class Assignment:
    """Where one search of an exposed unit goes: a team (`ab`) or both (`interleaving`).

    :param unit: the user id, or the session id when the search has no user
    :param team: the variant shown in `ab` mode; None in `interleaving` mode
    """

    experiment: Experiment
    unit: str
    team: Team | None


@dataclass(frozen=True)
class ServedResult:
    """One result a search of the experiment showed: its position in the list the user
    saw (0 = first, counted from the page's offset) and the team that contributed it."""

    object_id: str
    position: int
    team: Team


@dataclass(frozen=True)
class ServedSearch:
    """What an experiment search showed, recorded per clickstream session.

    :param variant: the team shown (`ab`) or "interleaved"
    """

    experiment_id: str
    session_id: str
    unit: str
    variant: Literal["a", "b", "interleaved"]
    results: tuple[ServedResult, ...]
