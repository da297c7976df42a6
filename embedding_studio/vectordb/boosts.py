"""Score boosts from payload fields, applied to the candidates after retrieval (pure code).

``boosted = relevance * max(0, 1 + sum(weight_i * f_i(payload)))``; the ``f_i`` of each boost
kind and what counts as "no boost" are documented in
`embedding_studio.models.embeddings.ranking`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from embedding_studio.models.embeddings.ranking import (
    PopularityBoost,
    RecencyBoost,
    ScoreBoost,
)
from embedding_studio.models.payload.fields import field_path_keys

SECONDS_PER_DAY = 86_400.0


def field_value(payload: dict[str, Any] | None, path: str) -> Any:
    """The value at a dotted payload path; None when any key is missing."""
    value: Any = payload
    for key in field_path_keys(path):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _number(value: Any) -> float | None:
    """A finite JSON number (booleans are not numbers), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _timestamp(value: Any) -> float | None:
    """Epoch seconds from epoch seconds or an ISO-8601 date/time (UTC when unzoned)."""
    number = _number(value)
    if number is not None:
        return number
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def boost_term(boost: ScoreBoost, payload: dict[str, Any] | None, now: datetime) -> float:
    """f(payload) of one boost (0: no boost for this document)."""
    value = field_value(payload, boost.field)
    if isinstance(boost, RecencyBoost):
        moment = _timestamp(value)
        if moment is None:
            return 0.0
        age_days = max(0.0, now.timestamp() - moment) / SECONDS_PER_DAY
        return 0.5 ** (age_days / boost.half_life_days)
    number = _number(value)
    if number is None:
        return 0.0
    if isinstance(boost, PopularityBoost):
        return math.log1p(number) if number >= 0 else 0.0
    return number  # NumericBoost: the value itself


def boost_factor(boosts: list[ScoreBoost], payload: dict[str, Any] | None, now: datetime) -> float:
    """max(0, 1 + sum(weight * f)): what a document's relevance is multiplied by."""
    total = sum(boost.weight * boost_term(boost, payload, now) for boost in boosts)
    return max(0.0, 1.0 + total)
