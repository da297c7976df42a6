"""How a similarity search ranks: hybrid (lexical + vector) fusion and score boosts.

Hybrid retrieval takes the `candidates` best objects of each retriever: the vector search
(by distance) and PostgreSQL full-text search (by `ts_rank` over the collection's
`tsvector`), and fuses the two lists:

- ``rrf`` (reciprocal rank fusion): ``score = vector_weight / (rrf_k + vector_rank)
  + text_weight / (rrf_k + text_rank)``, ranks counted from 1; a retriever that did not
  return the object adds nothing.
- ``weighted``: each retriever's scores are min-max normalised to [0, 1] over the
  candidates (vector: ``(d_max - d) / (d_max - d_min)`` over the candidates' distances,
  text: ``rank / rank_max``; an object the text search did not match gets 0), then
  ``score = vector_weight * vector_norm + text_weight * text_norm``.

Boosts multiply a relevance by ``1 + sum(weight_i * f_i(payload))`` (floored at 0), where
the relevance is the fused score in hybrid mode, and in vector-only mode the similarity
``1 - d / 2`` (cosine), ``1 / (1 + d)`` (euclid) or ``1 / (1 + exp(d))`` (dot; d is the
negative inner product). ``f_i`` per boost kind:

- ``recency``: ``0.5 ** (age_days / half_life_days)``, age from the payload timestamp to now
  (a future timestamp counts as age 0, so ``f`` is in (0, 1]);
- ``popularity``: ``ln(1 + value)`` for value >= 0;
- ``numeric``: ``value``.

A document whose field is missing, not a number (or for recency not an ISO-8601 date or
epoch seconds), or negative for popularity, gets ``f = 0``: no boost, never dropped.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from embedding_studio.models.payload.fields import FieldPath

DEFAULT_CANDIDATES = 100
MAX_CANDIDATES = 1000

Weight = Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)]


class FusionMode(StrEnum):
    RRF = "rrf"
    WEIGHTED = "weighted"


class TextMatch(StrEnum):
    """ANY: an object matching any query word is a candidate (``plainto_tsquery`` with its
    ANDs turned into ORs). ALL: web-search syntax (``websearch_to_tsquery``): every word
    must match, "quoted phrases", ``-excluded`` words, ``or``."""

    ANY = "any"
    ALL = "all"


class HybridSearch(BaseModel):
    """Lexical + vector fusion options of a similarity search (formulas: module docstring).

    :param mode: ``weighted`` (normalised score blend, the default: on SciFact it gained
        more over vector-only search than ``rrf``) or ``rrf`` (reciprocal rank fusion)
    :param rrf_k: RRF's rank offset; larger flattens the difference between ranks (rrf only)
    :param vector_weight: weight of the vector retriever (>= 0)
    :param text_weight: weight of the full-text retriever (>= 0); not both 0
    :param text_match: how the query's words match documents (``any`` or ``all``)
    :param text_query: the text for full-text search; default: the search query (for a
        query object, its string values joined)
    """

    model_config = ConfigDict(extra="forbid")

    mode: FusionMode = FusionMode.WEIGHTED
    rrf_k: int = Field(60, ge=1, le=100_000, strict=True)
    vector_weight: Weight = 1.0
    text_weight: Weight = 1.0
    text_match: TextMatch = TextMatch.ANY
    text_query: str | None = Field(None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _some_weight(self) -> HybridSearch:
        if self.vector_weight == 0 and self.text_weight == 0:
            raise ValueError("vector_weight and text_weight are both 0: give one a weight > 0")
        return self


class RecencyBoost(BaseModel):
    """Newer documents score higher: ``f = 0.5 ** (age_days / half_life_days)``.

    :param field: payload path of an ISO-8601 date/timestamp (UTC when it has no zone) or
        of epoch seconds
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["recency"]
    field: FieldPath
    half_life_days: float = Field(..., gt=0, le=1e6, strict=True, allow_inf_nan=False)
    weight: Weight = 1.0


class PopularityBoost(BaseModel):
    """More popular documents score higher, with diminishing returns: ``f = ln(1 + value)``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["popularity"]
    field: FieldPath
    weight: Weight = 1.0


class NumericBoost(BaseModel):
    """Any numeric payload field, linearly: ``f = value``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["numeric"]
    field: FieldPath
    weight: Weight = 1.0


ScoreBoost = Annotated[RecencyBoost | PopularityBoost | NumericBoost, Field(discriminator="type")]


class Ranking(BaseModel):
    """Everything beyond plain vector ranking that a search applies.

    :param hybrid: fuse with full-text search when given
    :param boosts: applied after retrieval (and fusion) to the candidates
    :param candidates: objects each retriever contributes; results are these candidates,
        fused and boosted, so a search returns at most ``2 * candidates`` (hybrid) or
        ``candidates`` (vector-only) objects over all its pages
    """

    hybrid: HybridSearch | None = None
    boosts: list[ScoreBoost] = Field(default_factory=list)
    candidates: int = Field(DEFAULT_CANDIDATES, ge=1, le=MAX_CANDIDATES)

    @property
    def is_plain(self) -> bool:
        return self.hybrid is None and not self.boosts
