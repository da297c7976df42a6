"""Which timestamps the clickstream accepts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.models.common import to_iso
from embedding_studio.models.tasks import utc_now


@dataclass(frozen=True)
class TimeWindow:
    """Timestamps may lie at most `past_s` seconds before now and `future_s` after it
    (clock skew of the front end); None means no bound on that side."""

    past_s: float | None = None
    future_s: float | None = None

    def check(self, value: datetime, what: str) -> None:
        """Raise `InvalidRequest` naming `what` when `value` is outside the window."""
        delta = (value - utc_now()).total_seconds()
        if self.past_s is not None and delta < -self.past_s:
            raise InvalidRequest(
                f"{what}: created_at {to_iso(value)} is more than {self.past_s:g} s in the past; "
                "send timestamps within CLICKSTREAM_TIME_WINDOW_S of now"
            )
        if self.future_s is not None and delta > self.future_s:
            raise InvalidRequest(
                f"{what}: created_at {to_iso(value)} is more than {self.future_s:g} s in the "
                "future; check the client's clock (UTC) or omit created_at"
            )
