"""Field types shared by the domain models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_iso(value: datetime) -> str:
    """The stored form of a timestamp: UTC, microseconds always present."""
    # A fixed width keeps stored timestamps sortable as strings in both document stores.
    return _as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


UtcDatetime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(to_iso, return_type=str, when_used="json"),
]
